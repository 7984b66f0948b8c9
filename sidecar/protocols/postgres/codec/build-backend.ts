// Builders for backend (server) messages: what the proxy sends to the agent in the server's place —
// authentication, errors for denied statements, synthetic results. Each returns one complete message.
// Messages without content are built once and shared: pass them to socket.write, never mutate them.

import { ProtocolError } from './errors.ts';
import { AuthCode, BackendType, CANCEL_KEY_MAX, CANCEL_KEY_MIN } from './types.ts';
import type { FormatCode, TransactionStatus } from './types.ts';
import { MessageWriter, checkCount, cstringSize } from './writer.ts';

function fixed(type: number): Buffer {
  return new MessageWriter(type, 0).done();
}

function auth(code: number): Buffer {
  return new MessageWriter(BackendType.Authentication, 4).i32(code).done();
}

const AUTH_OK = auth(AuthCode.Ok);
const AUTH_CLEARTEXT = auth(AuthCode.CleartextPassword);
const READY = {
  I: new MessageWriter(BackendType.ReadyForQuery, 1).u8(0x49).done(),
  T: new MessageWriter(BackendType.ReadyForQuery, 1).u8(0x54).done(),
  E: new MessageWriter(BackendType.ReadyForQuery, 1).u8(0x45).done(),
};
const PARSE_COMPLETE = fixed(BackendType.ParseComplete);
const BIND_COMPLETE = fixed(BackendType.BindComplete);
const CLOSE_COMPLETE = fixed(BackendType.CloseComplete);
const NO_DATA = fixed(BackendType.NoData);
const PORTAL_SUSPENDED = fixed(BackendType.PortalSuspended);
const EMPTY_QUERY_RESPONSE = fixed(BackendType.EmptyQueryResponse);

export const buildAuthenticationOk = (): Buffer => AUTH_OK;
export const buildAuthenticationCleartextPassword = (): Buffer => AUTH_CLEARTEXT;
export const buildParseComplete = (): Buffer => PARSE_COMPLETE;
export const buildBindComplete = (): Buffer => BIND_COMPLETE;
export const buildCloseComplete = (): Buffer => CLOSE_COMPLETE;
export const buildNoData = (): Buffer => NO_DATA;
export const buildPortalSuspended = (): Buffer => PORTAL_SUSPENDED;
export const buildEmptyQueryResponse = (): Buffer => EMPTY_QUERY_RESPONSE;

export function buildReadyForQuery(status: TransactionStatus): Buffer {
  const m = READY[status];
  if (m === undefined) throw new ProtocolError(`cannot encode ReadyForQuery: invalid status ${String(status)}`);
  return m;
}

export function buildAuthenticationMD5Password(salt: Uint8Array): Buffer {
  if (salt.length !== 4) throw new ProtocolError(`cannot encode AuthenticationMD5Password: salt of ${salt.length} bytes`);
  return new MessageWriter(BackendType.Authentication, 8).i32(AuthCode.MD5Password).bytes(salt).done();
}

export function buildAuthenticationSASL(mechanisms: readonly string[]): Buffer {
  let size = 4 + 1;
  for (const m of mechanisms) {
    if (m === '') throw new ProtocolError('cannot encode AuthenticationSASL: empty mechanism name');
    size += cstringSize(m, 'SASL mechanism');
  }
  const w = new MessageWriter(BackendType.Authentication, size).i32(AuthCode.SASL);
  for (const m of mechanisms) w.cstring(m);
  return w.u8(0).done();
}

export function buildAuthenticationSASLContinue(data: Uint8Array): Buffer {
  return new MessageWriter(BackendType.Authentication, 4 + data.length).i32(AuthCode.SASLContinue).bytes(data).done();
}

export function buildAuthenticationSASLFinal(data: Uint8Array): Buffer {
  return new MessageWriter(BackendType.Authentication, 4 + data.length).i32(AuthCode.SASLFinal).bytes(data).done();
}

export function buildParameterStatus(name: string, value: string): Buffer {
  const size = cstringSize(name, 'parameter name') + cstringSize(value, 'parameter value');
  return new MessageWriter(BackendType.ParameterStatus, size).cstring(name).cstring(value).done();
}

export function buildBackendKeyData(processId: number, secretKey: Uint8Array): Buffer {
  if (secretKey.length < CANCEL_KEY_MIN || secretKey.length > CANCEL_KEY_MAX) {
    throw new ProtocolError(`cannot encode BackendKeyData: secret key of ${secretKey.length} bytes`);
  }
  return new MessageWriter(BackendType.BackendKeyData, 4 + secretKey.length).i32(processId).bytes(secretKey).done();
}

export interface FieldDescriptionInput {
  readonly name: string;
  readonly tableOid?: number;
  readonly columnAttr?: number;
  /** Default 25 (text). */
  readonly typeOid?: number;
  /** Default -1 (variable length). */
  readonly typeLen?: number;
  /** Default -1 (no modifier). */
  readonly typeMod?: number;
  readonly format?: FormatCode;
}

export function buildRowDescription(fields: readonly FieldDescriptionInput[]): Buffer {
  let size = 2;
  for (const f of fields) size += cstringSize(f.name, 'field name') + 18;
  const w = new MessageWriter(BackendType.RowDescription, size).u16(checkCount(fields.length, 'field count'));
  for (const f of fields) {
    w.cstring(f.name).u32(f.tableOid ?? 0).i16(f.columnAttr ?? 0).u32(f.typeOid ?? 25)
      .i16(f.typeLen ?? -1).i32(f.typeMod ?? -1).i16(f.format ?? 0);
  }
  return w.done();
}

/** A DataRow from values: bytes as given, strings as UTF-8, null as SQL NULL. */
export function buildDataRow(values: readonly (Uint8Array | string | null)[]): Buffer {
  let size = 2;
  for (const v of values) size += 4 + (v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);
  const w = new MessageWriter(BackendType.DataRow, size).u16(checkCount(values.length, 'column count'));
  for (const v of values) {
    if (v === null) w.i32(-1);
    else if (typeof v === 'string') {
      const n = Buffer.byteLength(v, 'utf8');
      w.i32(n);
      w.pos += w.buf.write(v, w.pos, 'utf8');
    } else w.i32(v.length).bytes(v);
  }
  return w.done();
}

export function buildCommandComplete(tag: string): Buffer {
  return new MessageWriter(BackendType.CommandComplete, cstringSize(tag, 'command tag')).cstring(tag).done();
}

/** The fields of an ErrorResponse/NoticeResponse by name; see PostgreSQL's "Error and Notice Message Fields". */
export interface NoticeFields {
  /** ERROR, FATAL, PANIC (errors); WARNING, NOTICE, DEBUG, INFO, LOG (notices). Sent as both `S` and `V`. */
  readonly severity: string;
  /** SQLSTATE, five characters of [0-9A-Z]. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character position in the query string. */
  readonly position?: number;
  readonly internalPosition?: number;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly routine?: string;
}

const FIELD_CODES: readonly (readonly [keyof NoticeFields, string])[] = [
  ['severity', 'S'], ['severity', 'V'], ['code', 'C'], ['message', 'M'], ['detail', 'D'], ['hint', 'H'],
  ['position', 'P'], ['internalPosition', 'p'], ['internalQuery', 'q'], ['where', 'W'], ['schema', 's'],
  ['table', 't'], ['column', 'c'], ['dataType', 'd'], ['constraint', 'n'], ['file', 'F'], ['line', 'L'],
  ['routine', 'R'],
];

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** An ErrorResponse from named fields, or from a map of code letter → value (e.g. to forward one re-built). */
export function buildErrorResponse(fields: NoticeFields | ReadonlyMap<string, string>): Buffer {
  return buildNotice(BackendType.ErrorResponse, fields);
}

export function buildNoticeResponse(fields: NoticeFields | ReadonlyMap<string, string>): Buffer {
  return buildNotice(BackendType.NoticeResponse, fields);
}

function buildNotice(type: number, fields: NoticeFields | ReadonlyMap<string, string>): Buffer {
  const pairs: [number, string][] = [];
  if (fields instanceof Map) {
    for (const [k, v] of fields as ReadonlyMap<string, string>) {
      if (k.length !== 1 || k.charCodeAt(0) === 0 || k.charCodeAt(0) > 0x7f) {
        throw new ProtocolError(`cannot encode notice field code ${JSON.stringify(k)}`);
      }
      pairs.push([k.charCodeAt(0), v]);
    }
  } else {
    const named = fields as NoticeFields;
    if (!SQLSTATE.test(named.code)) throw new ProtocolError(`cannot encode SQLSTATE ${JSON.stringify(named.code)}`);
    for (const [key, letter] of FIELD_CODES) {
      const v = named[key];
      if (v !== undefined) pairs.push([letter.charCodeAt(0), String(v)]);
    }
  }
  let size = 1;
  for (const [, v] of pairs) size += 1 + cstringSize(v, 'notice field');
  const w = new MessageWriter(type, size);
  for (const [k, v] of pairs) w.u8(k).cstring(v);
  return w.u8(0).done();
}

export function buildCopyResponse(
  kind: 'CopyInResponse' | 'CopyOutResponse' | 'CopyBothResponse',
  overallFormat: FormatCode,
  columnFormats: readonly FormatCode[],
): Buffer {
  const type = kind === 'CopyInResponse' ? BackendType.CopyInResponse :
    kind === 'CopyOutResponse' ? BackendType.CopyOutResponse : BackendType.CopyBothResponse;
  const w = new MessageWriter(type, 3 + 2 * columnFormats.length)
    .u8(overallFormat).u16(checkCount(columnFormats.length, 'column count'));
  for (const f of columnFormats) w.i16(f);
  return w.done();
}

export function buildParameterDescription(typeOids: readonly number[]): Buffer {
  const w = new MessageWriter(BackendType.ParameterDescription, 2 + 4 * typeOids.length)
    .u16(checkCount(typeOids.length, 'parameter count'));
  for (const oid of typeOids) w.u32(oid);
  return w.done();
}

export function buildNegotiateProtocolVersion(newestMinor: number, unrecognizedOptions: readonly string[]): Buffer {
  let size = 8;
  for (const o of unrecognizedOptions) size += cstringSize(o, 'option name');
  const w = new MessageWriter(BackendType.NegotiateProtocolVersion, size).i32(newestMinor).i32(unrecognizedOptions.length);
  for (const o of unrecognizedOptions) w.cstring(o);
  return w.done();
}

export function buildNotificationResponse(processId: number, channel: string, payload: string): Buffer {
  const size = 4 + cstringSize(channel, 'channel') + cstringSize(payload, 'payload');
  return new MessageWriter(BackendType.NotificationResponse, size).i32(processId).cstring(channel).cstring(payload).done();
}

export function buildFunctionCallResponse(value: Uint8Array | null): Buffer {
  return new MessageWriter(BackendType.FunctionCallResponse, 4 + (value === null ? 0 : value.length))
    .nullableBytes(value).done();
}
