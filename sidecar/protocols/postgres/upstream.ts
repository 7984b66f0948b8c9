// The sidecar's own connection to the real server: TLS per `endpoint.tls`, login with the real credentials
// (SCRAM-SHA-256, MD5 or cleartext — the agent never sees them), and the server's greeting (ParameterStatus,
// BackendKeyData) collected for the session to relay.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import {
  BackendReader,
  BackendType,
  ScramKeyCache,
  ScramSha256Client,
  SCRAM_SHA_256,
  buildPasswordMessage,
  buildSASLInitialResponse,
  buildSASLResponse,
  buildSSLRequest,
  buildStartupMessage,
  md5PasswordResponse,
  parseAuthentication,
  parseBackendKeyData,
  parseErrorFields,
  parseParameterStatus,
  readyStatus,
  type TransactionStatus,
} from './codec/index.ts';
import { MessagePump } from './message-pump.ts';

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly mode: 'disable' | 'require' | 'verify-full'; readonly ca?: string; readonly serverName?: string };
}

export interface UpstreamCredentials {
  readonly username: string;
  readonly password: string;
  readonly database?: string;
}

export interface UpstreamConnection {
  readonly socket: Socket | TLSSocket;
  readonly reader: BackendReader;
  /** ParameterStatus frames in arrival order, to relay to the agent. */
  readonly parameterFrames: Buffer[];
  readonly parameters: Map<string, string>;
  readonly processId: number;
  readonly secretKey: Buffer;
  readonly status: TransactionStatus;
}

/** A login failure reported by the server: its SQLSTATE and message are safe to pass on. */
export class UpstreamError extends Error {
  readonly code: string;
  constructor(message: string, code = '08006') {
    super(message);
    this.code = code;
  }
}

const scramCache = new ScramKeyCache();

export async function connectUpstream(
  target: UpstreamTarget,
  creds: UpstreamCredentials,
  parameters: ReadonlyMap<string, string>,
  timeoutMs = 10_000,
): Promise<UpstreamConnection> {
  let socket: Socket | TLSSocket = await openTcp(target, timeoutMs);
  try {
    const reader = new BackendReader();
    if (target.tls.mode !== 'disable') {
      const pump = new MessagePump(socket, reader);
      socket.write(buildSSLRequest());
      const answer = await pump.rawByte(timeoutMs);
      pump.detach();
      if (answer !== 0x53 /* S */) throw new UpstreamError(`the server refused TLS (endpoint.tls.mode is ${target.tls.mode})`);
      // Bytes that arrived with the 'S' were sent before encryption: treating them as TLS data would let a
      // man in the middle inject them (CVE-2021-23222 class). Refuse.
      if (reader.buffered > 0) throw new UpstreamError('the server sent unencrypted data after accepting TLS');
      socket = await startTls(socket, target, timeoutMs);
    }
    const pump = new MessagePump(socket, reader);
    try {
      const startup = new Map(parameters);
      startup.set('user', creds.username);
      startup.set('database', creds.database ?? parameters.get('database') ?? creds.username);
      socket.write(buildStartupMessage(startup));
      return await login(socket, reader, pump, creds, timeoutMs);
    } finally {
      pump.detach();
    }
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

function openTcp(target: UpstreamTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: target.host, port: target.port, noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new UpstreamError(`cannot reach ${target.host}:${target.port}: timed out`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(new UpstreamError(`cannot reach ${target.host}:${target.port}: ${e.message}`));
    });
  });
}

function startTls(socket: Socket, target: UpstreamTarget, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const verify = target.tls.mode === 'verify-full';
    const name = target.tls.serverName ?? target.host;
    const t = tlsConnect({
      socket,
      host: name,
      // SNI carries host names only; an IP address is still verified against the certificate's IP SANs.
      ...(isIP(name) ? {} : { servername: name }),
      rejectUnauthorized: verify,
      ...(target.tls.ca ? { ca: target.tls.ca } : {}),
      // `require` encrypts without verifying, as libpq's sslmode=require does; verify-full checks chain and name.
      ...(verify ? {} : { checkServerIdentity: () => undefined }),
    });
    const timer = setTimeout(() => {
      t.destroy();
      reject(new UpstreamError('TLS handshake with the server timed out'));
    }, timeoutMs);
    t.once('secureConnect', () => {
      clearTimeout(timer);
      t.removeAllListeners('error');
      t.setNoDelay(true);
      resolve(t);
    });
    t.once('error', (e) => {
      clearTimeout(timer);
      reject(new UpstreamError(`TLS with the server failed: ${e.message}`));
    });
  });
}

async function login(
  socket: Socket,
  reader: BackendReader,
  pump: MessagePump,
  creds: UpstreamCredentials,
  timeoutMs: number,
): Promise<UpstreamConnection> {
  let scram: ScramSha256Client | undefined;
  const parameterFrames: Buffer[] = [];
  const parameters = new Map<string, string>();
  let processId = 0;
  let secretKey = Buffer.alloc(0);
  for (;;) {
    const type = await pump.next(timeoutMs);
    const body = reader.body;
    switch (type) {
      case BackendType.Authentication: {
        const auth = parseAuthentication(body);
        switch (auth.kind) {
          case 'AuthenticationOk':
            break;
          case 'AuthenticationCleartextPassword':
            socket.write(buildPasswordMessage(creds.password));
            break;
          case 'AuthenticationMD5Password':
            socket.write(buildPasswordMessage(md5PasswordResponse(creds.username, creds.password, auth.salt)));
            break;
          case 'AuthenticationSASL':
            if (!auth.mechanisms.includes(SCRAM_SHA_256)) throw new UpstreamError(`the server offers no supported SASL mechanism (${auth.mechanisms.join(', ')})`);
            scram = new ScramSha256Client(creds.password, { cache: scramCache });
            socket.write(buildSASLInitialResponse(SCRAM_SHA_256, scram.clientFirstMessage()));
            break;
          case 'AuthenticationSASLContinue':
            if (!scram) throw new UpstreamError('unexpected SASLContinue');
            socket.write(buildSASLResponse(await scram.clientFinalMessage(auth.data)));
            break;
          case 'AuthenticationSASLFinal':
            if (!scram) throw new UpstreamError('unexpected SASLFinal');
            scram.verifyServerFinal(auth.data);
            break;
          default:
            throw new UpstreamError(`the server asks for an authentication method the sidecar does not support`);
        }
        break;
      }
      case BackendType.ParameterStatus: {
        const p = parseParameterStatus(body);
        parameters.set(p.name, p.value);
        parameterFrames.push(Buffer.from(reader.frame));
        break;
      }
      case BackendType.BackendKeyData: {
        const k = parseBackendKeyData(body);
        processId = k.processId;
        secretKey = Buffer.from(k.secretKey);
        break;
      }
      case BackendType.NoticeResponse:
      case BackendType.NegotiateProtocolVersion:
        break;
      case BackendType.ErrorResponse: {
        const e = parseErrorFields(body, 'ErrorResponse');
        throw new UpstreamError(`the server refused the sidecar's login: ${e.message}`, e.code);
      }
      case BackendType.ReadyForQuery:
        return { socket, reader, parameterFrames, parameters, processId, secretKey, status: readyStatus(body) };
      default:
        throw new UpstreamError(`unexpected message ${String.fromCharCode(type)} during login`);
    }
  }
}

