// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) for the proxy's upstream login, without channel
// binding (gs2 header "n,,"), the way libpq speaks it: the user name is left empty because PostgreSQL takes it
// from the StartupMessage. Flow: mechanism + clientFirstMessage() → SASLInitialResponse; SASLContinue data →
// clientFinalMessage() → SASLResponse; SASLFinal data → verifyServerFinal(). Any deviation is a ProtocolError,
// and a login is only complete once the server has proven that it knows the password too.

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ProtocolError } from './errors.ts';
import { saslprep } from './saslprep.ts';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

const pbkdf2Async = promisify(pbkdf2);

/** A server asking for more iterations than this is refused: PBKDF2 cost is the server's to choose, but a
 * misconfigured or hostile server must not be able to pin the sidecar's CPU. PostgreSQL's default is 4096. */
export const MAX_SCRAM_ITERATIONS = 10_000_000;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/; // printable ASCII except ','

/**
 * Salted passwords by (password, salt, iterations). PBKDF2 is deliberately slow and the proxy logs in with the
 * same credentials for every session, so computing it once per salt keeps logins fast. Bounded: oldest first out.
 */
export class ScramKeyCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly max: number;

  constructor(maxEntries = 64) {
    this.max = maxEntries;
  }

  async saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
    // The key is a hash, so the cache does not hold a second copy of the password in clear.
    const key = createHash('sha256').update(password).update('\0').update(salt).update(`\0${iterations}`).digest('base64');
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
    return value;
  }
}

export interface ScramClientOptions {
  /** Client nonce; random (18 bytes, base64) unless given — only tests give one. */
  readonly nonce?: string;
  /** User name sent in client-first-message; PostgreSQL ignores it, libpq sends ''. */
  readonly user?: string;
  readonly cache?: ScramKeyCache;
}

type State = 'initial' | 'first-sent' | 'final-sent' | 'done';

export class ScramSha256Client {
  readonly mechanism = SCRAM_SHA_256;
  private readonly password: string;
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private readonly cache: ScramKeyCache | undefined;
  private state: State = 'initial';
  private expectedServerSignature: Buffer | undefined;

  constructor(password: string, options: ScramClientOptions = {}) {
    this.password = saslprep(password);
    this.clientNonce = options.nonce ?? randomBytes(18).toString('base64');
    if (!NONCE.test(this.clientNonce)) throw new RangeError('SCRAM nonce must be printable ASCII without commas');
    this.clientFirstBare = `n=${escapeSaslName(options.user ?? '')},r=${this.clientNonce}`;
    this.cache = options.cache;
  }

  /** The SASLInitialResponse data: gs2 header "n,," and client-first-message-bare. */
  clientFirstMessage(): Buffer {
    this.expect('initial');
    this.state = 'first-sent';
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  /** Takes the AuthenticationSASLContinue data (server-first-message) and returns the SASLResponse data. */
  async clientFinalMessage(serverFirstData: Uint8Array): Promise<Buffer> {
    this.expect('first-sent');
    this.state = 'final-sent';
    const serverFirst = Buffer.from(serverFirstData).toString('utf8');
    const { nonce, salt, iterations } = parseServerFirst(serverFirst, this.clientNonce);
    const salted = this.cache !== undefined
      ? await this.cache.saltedPassword(this.password, salt, iterations)
      : await pbkdf2Async(this.password, salt, iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    for (let i = 0; i < clientKey.length; i++) clientKey[i] = (clientKey[i] as number) ^ (signature[i] as number);
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${clientKey.toString('base64')}`, 'utf8');
  }

  /** Checks the AuthenticationSASLFinal data (server-final-message): the server's proof that it knows the
   * password. Throws on an error reply or a mismatch; the caller must not continue the login then. */
  verifyServerFinal(serverFinalData: Uint8Array): void {
    this.expect('final-sent');
    this.state = 'done';
    const serverFinal = Buffer.from(serverFinalData).toString('utf8');
    if (serverFinal.startsWith('e=')) throw new ProtocolError(`SCRAM: server reported ${serverFinal.slice(2)}`);
    const v = /^v=([A-Za-z0-9+/=]+)$/.exec(serverFinal)?.[1];
    if (v === undefined || !BASE64.test(v)) throw new ProtocolError('SCRAM: malformed server-final-message');
    const got = Buffer.from(v, 'base64');
    const want = this.expectedServerSignature as Buffer;
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      throw new ProtocolError('SCRAM: server signature does not match (the server does not know the password)');
    }
  }

  private expect(state: State): void {
    if (this.state !== state) throw new ProtocolError(`SCRAM: unexpected step in state ${this.state}`);
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function escapeSaslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** server-first-message = nonce "," salt "," iteration-count, read as strictly as libpq does. */
function parseServerFirst(message: string, clientNonce: string): { nonce: string; salt: Buffer; iterations: number } {
  const m = /^r=([^,]*),s=([^,]*),i=([^,]*)$/.exec(message);
  if (m === null) throw new ProtocolError('SCRAM: malformed server-first-message');
  const [, nonce = '', salt = '', iter = ''] = m;
  if (!NONCE.test(nonce) || !nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    throw new ProtocolError('SCRAM: server nonce does not extend the client nonce');
  }
  if (salt === '' || !BASE64.test(salt)) throw new ProtocolError('SCRAM: malformed salt');
  if (!/^[1-9][0-9]{0,9}$/.test(iter)) throw new ProtocolError('SCRAM: malformed iteration count');
  const iterations = Number(iter);
  if (iterations > MAX_SCRAM_ITERATIONS) {
    throw new ProtocolError(`SCRAM: iteration count ${iterations} exceeds the limit of ${MAX_SCRAM_ITERATIONS}`);
  }
  return { nonce, salt: Buffer.from(salt, 'base64'), iterations };
}
