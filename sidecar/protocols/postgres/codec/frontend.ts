// Parsers for the messages a frontend (client) sends. Each takes a message body (as framed by FrontendReader)
// and returns a plain object; byte fields are views into the body, never copies. Strings are decoded strictly
// as UTF-8 (the proxy pins client_encoding to UTF8; PostgreSQL rejects invalid input too). A message must be
// consumed exactly: missing terminators, fields running past the end and trailing bytes are ProtocolErrors.

import { BodyCursor, type StringMemo } from './cursor.ts';
import { ProtocolError } from './errors.ts';
import { CANCEL_KEY_MAX, CANCEL_KEY_MIN, FrontendType, StartupCode } from './types.ts';
import type { FormatCode } from './types.ts';

export interface StartupMessage {
  readonly kind: 'Startup';
  /** The raw Int32 version: major in the high 16 bits, minor in the low 16 bits. */
  readonly protocolVersion: number;
  readonly major: number;
  readonly minor: number;
  /** In the order sent. Duplicates are refused: proxy and server could otherwise read different values. */
  readonly parameters: Map<string, string>;
}
export interface SSLRequest { readonly kind: 'SSLRequest' }
export interface GSSENCRequest { readonly kind: 'GSSENCRequest' }
export interface CancelRequest {
  readonly kind: 'CancelRequest';
  readonly processId: number;
  /** 4 bytes in protocol 3.0; up to 256 bytes from protocol 3.2 on. */
  readonly secretKey: Buffer;
}
export type StartupPhaseMessage = StartupMessage | SSLRequest | GSSENCRequest | CancelRequest;

export interface PasswordMessage { readonly kind: 'Password'; readonly password: string }
export interface SASLInitialResponse {
  readonly kind: 'SASLInitialResponse';
  readonly mechanism: string;
  /** null when the client sent no initial response (length -1). */
  readonly data: Buffer | null;
}
export interface SASLResponse { readonly kind: 'SASLResponse'; readonly data: Buffer }
export interface Query { readonly kind: 'Query'; readonly query: string }
export interface Parse {
  readonly kind: 'Parse';
  /** '' is the unnamed statement. */
  readonly name: string;
  readonly query: string;
  /** 0 leaves a parameter's type to the server. */
  readonly paramTypes: number[];
}
export interface Bind {
  readonly kind: 'Bind';
  readonly portal: string;
  readonly statement: string;
  /** Empty: all text; one: applies to all; otherwise one per parameter (checked). */
  readonly paramFormats: FormatCode[];
  /** null is SQL NULL. */
  readonly params: (Buffer | null)[];
  readonly resultFormats: FormatCode[];
}
export interface Describe { readonly kind: 'Describe'; readonly target: 'S' | 'P'; readonly name: string }
export interface Execute {
  readonly kind: 'Execute';
  readonly portal: string;
  /** 0 (or negative) means no limit. */
  readonly maxRows: number;
}
export interface Close { readonly kind: 'Close'; readonly target: 'S' | 'P'; readonly name: string }
export interface Sync { readonly kind: 'Sync' }
export interface Flush { readonly kind: 'Flush' }
export interface Terminate { readonly kind: 'Terminate' }
export interface FrontendCopyData { readonly kind: 'CopyData'; readonly data: Buffer }
export interface FrontendCopyDone { readonly kind: 'CopyDone' }
export interface CopyFail { readonly kind: 'CopyFail'; readonly message: string }
export interface FunctionCall {
  readonly kind: 'FunctionCall';
  readonly functionOid: number;
  readonly argFormats: FormatCode[];
  readonly args: (Buffer | null)[];
  readonly resultFormat: FormatCode;
}

export type FrontendMessage =
  | PasswordMessage | SASLInitialResponse | SASLResponse | Query | Parse | Bind | Describe | Execute | Close
  | Sync | Flush | Terminate | FrontendCopyData | FrontendCopyDone | CopyFail | FunctionCall;

/** What a `p` message means depends on the authentication request the server (or proxy) sent last. */
export type AuthResponseKind = 'password' | 'sasl-initial' | 'sasl';

/** Parses an untyped startup-phase packet; `body` starts at the request code (after the length). */
export function parseStartupPhase(body: Buffer): StartupPhaseMessage {
  const c = new BodyCursor(body, 'startup packet', true);
  const code = c.i32('request code');
  switch (code) {
    case StartupCode.SSLRequest:
      c.end();
      return { kind: 'SSLRequest' };
    case StartupCode.GSSENCRequest:
      c.end();
      return { kind: 'GSSENCRequest' };
    case StartupCode.CancelRequest: {
      const processId = c.i32('process id');
      const keyLength = c.remaining;
      if (keyLength < CANCEL_KEY_MIN || keyLength > CANCEL_KEY_MAX) {
        throw new ProtocolError(`CancelRequest: secret key of ${keyLength} bytes (expected ${CANCEL_KEY_MIN} to ${CANCEL_KEY_MAX})`);
      }
      return { kind: 'CancelRequest', processId, secretKey: c.rest() };
    }
    default:
      return parseStartupMessage(c, code);
  }
}

function parseStartupMessage(c: BodyCursor, version: number): StartupMessage {
  const major = version >>> 16;
  const minor = version & 0xffff;
  if (major !== 3) throw new ProtocolError(`unsupported frontend protocol ${major}.${minor}`);
  const parameters = new Map<string, string>();
  for (;;) {
    const name = c.cstring('parameter name');
    if (name === '') break;
    const value = c.cstring(`value of parameter ${JSON.stringify(name)}`);
    if (parameters.has(name)) throw new ProtocolError(`StartupMessage: parameter ${JSON.stringify(name)} sent twice`);
    parameters.set(name, value);
  }
  c.end();
  return { kind: 'Startup', protocolVersion: version, major, minor, parameters };
}

/** Parses a typed frontend message. `auth` says how to read a `p` message; without it `p` is refused. */
export function parseFrontendMessage(type: number, body: Buffer, auth?: AuthResponseKind): FrontendMessage {
  switch (type) {
    case FrontendType.Query: return parseQuery(body);
    case FrontendType.Parse: return parseParse(body);
    case FrontendType.Bind: return parseBind(body);
    case FrontendType.Describe: return parseDescribe(body);
    case FrontendType.Execute: return parseExecute(body);
    case FrontendType.Close: return parseClose(body);
    case FrontendType.Sync: empty(body, 'Sync'); return SYNC;
    case FrontendType.Flush: empty(body, 'Flush'); return FLUSH;
    case FrontendType.Terminate: empty(body, 'Terminate'); return TERMINATE;
    case FrontendType.CopyData: return { kind: 'CopyData', data: body };
    case FrontendType.CopyDone: empty(body, 'CopyDone'); return COPY_DONE;
    case FrontendType.CopyFail: return parseCopyFail(body);
    case FrontendType.FunctionCall: return parseFunctionCall(body);
    case FrontendType.AuthResponse:
      switch (auth) {
        case 'password': return parsePasswordMessage(body);
        case 'sasl-initial': return parseSASLInitialResponse(body);
        case 'sasl': return parseSASLResponse(body);
        default: throw new ProtocolError('authentication response outside of authentication');
      }
    default:
      throw new ProtocolError(`unexpected frontend message type 0x${type.toString(16)}`);
  }
}

const SYNC: Sync = { kind: 'Sync' };
const FLUSH: Flush = { kind: 'Flush' };
const TERMINATE: Terminate = { kind: 'Terminate' };
const COPY_DONE: FrontendCopyDone = { kind: 'CopyDone' };

function empty(body: Buffer, message: string): void {
  if (body.length !== 0) throw new ProtocolError(`${message}: ${body.length} unexpected trailing bytes`);
}

export function parsePasswordMessage(body: Buffer): PasswordMessage {
  const c = new BodyCursor(body, 'PasswordMessage', true);
  const password = c.cstring('password');
  c.end();
  return { kind: 'Password', password };
}

export function parseSASLInitialResponse(body: Buffer): SASLInitialResponse {
  const c = new BodyCursor(body, 'SASLInitialResponse', true);
  const mechanism = c.cstring('mechanism');
  const data = c.nullableBytes('initial response');
  c.end();
  return { kind: 'SASLInitialResponse', mechanism, data };
}

export function parseSASLResponse(body: Buffer): SASLResponse {
  return { kind: 'SASLResponse', data: body };
}

export function parseQuery(body: Buffer): Query {
  const c = new BodyCursor(body, 'Query', true);
  const query = c.cstring('query string');
  c.end();
  return { kind: 'Query', query };
}

/** `memo`: the caller's last query string (see BodyCursor.cstringMemo) — a repeated statement is not decoded again. */
export function parseParse(body: Buffer, memo?: StringMemo): Parse {
  const c = new BodyCursor(body, 'Parse', true);
  const name = c.cstring('statement name');
  const query = memo === undefined ? c.cstring('query string') : c.cstringMemo('query string', memo);
  const n = c.u16('parameter type count');
  const paramTypes = new Array<number>(n);
  for (let i = 0; i < n; i++) paramTypes[i] = c.u32('parameter type');
  c.end();
  return { kind: 'Parse', name, query, paramTypes };
}

export function parseBind(body: Buffer): Bind {
  const c = new BodyCursor(body, 'Bind', true);
  const portal = c.cstring('portal name');
  const statement = c.cstring('statement name');
  const paramFormats = formatCodes(c, 'parameter format');
  const n = c.u16('parameter count');
  if (paramFormats.length > 1 && paramFormats.length !== n) {
    throw new ProtocolError(`Bind: ${paramFormats.length} parameter formats for ${n} parameters`);
  }
  const params = new Array<Buffer | null>(n);
  for (let i = 0; i < n; i++) params[i] = c.nullableBytes('parameter value');
  const resultFormats = formatCodes(c, 'result format');
  c.end();
  return { kind: 'Bind', portal, statement, paramFormats, params, resultFormats };
}

/**
 * What a proxy needs of a Bind — which portal from which statement — with the whole message checked exactly as
 * parseBind() checks it, but without a view per parameter value (the hot path binds on every execution).
 */
export function parseBindTarget(body: Buffer): { readonly portal: string; readonly statement: string } {
  const c = new BodyCursor(body, 'Bind', true);
  const portal = c.cstring('portal name');
  const statement = c.cstring('statement name');
  const formats = formatCodes(c, 'parameter format').length;
  const n = c.u16('parameter count');
  if (formats > 1 && formats !== n) throw new ProtocolError(`Bind: ${formats} parameter formats for ${n} parameters`);
  for (let i = 0; i < n; i++) c.skipNullableBytes('parameter value');
  formatCodes(c, 'result format');
  c.end();
  return { portal, statement };
}

export function parseDescribe(body: Buffer): Describe {
  const c = new BodyCursor(body, 'Describe', true);
  const target = statementOrPortal(c);
  const name = c.cstring('name');
  c.end();
  return { kind: 'Describe', target, name };
}

export function parseExecute(body: Buffer): Execute {
  const c = new BodyCursor(body, 'Execute', true);
  const portal = c.cstring('portal name');
  const maxRows = c.i32('row limit');
  c.end();
  return { kind: 'Execute', portal, maxRows };
}

export function parseClose(body: Buffer): Close {
  const c = new BodyCursor(body, 'Close', true);
  const target = statementOrPortal(c);
  const name = c.cstring('name');
  c.end();
  return { kind: 'Close', target, name };
}

export function parseCopyFail(body: Buffer): CopyFail {
  const c = new BodyCursor(body, 'CopyFail', true);
  const message = c.cstring('message');
  c.end();
  return { kind: 'CopyFail', message };
}

export function parseFunctionCall(body: Buffer): FunctionCall {
  const c = new BodyCursor(body, 'FunctionCall', true);
  const functionOid = c.u32('function oid');
  const argFormats = formatCodes(c, 'argument format');
  const n = c.u16('argument count');
  if (argFormats.length > 1 && argFormats.length !== n) {
    throw new ProtocolError(`FunctionCall: ${argFormats.length} argument formats for ${n} arguments`);
  }
  const args = new Array<Buffer | null>(n);
  for (let i = 0; i < n; i++) args[i] = c.nullableBytes('argument value');
  const resultFormat = c.format('result format');
  c.end();
  return { kind: 'FunctionCall', functionOid, argFormats, args, resultFormat };
}

function statementOrPortal(c: BodyCursor): 'S' | 'P' {
  const t = c.u8('target');
  if (t === 0x53) return 'S';
  if (t === 0x50) return 'P';
  throw new ProtocolError(`${c.message}: invalid target 0x${t.toString(16)} (expected 'S' or 'P')`);
}

function formatCodes(c: BodyCursor, field: string): FormatCode[] {
  const n = c.u16(`${field} count`);
  const out = new Array<FormatCode>(n);
  for (let i = 0; i < n; i++) out[i] = c.format(field);
  return out;
}
