// Parsers for the messages a backend (server) sends. Each takes a message body (as framed by BackendReader) and
// returns a plain object; byte fields are views into the body. Server strings are decoded leniently (the proxy
// only inspects them). For the DataRow hot path use DataRowIndex (datarow.ts), which allocates nothing per row.

import { BodyCursor } from './cursor.ts';
import { ProtocolError } from './errors.ts';
import { AuthCode, BackendType, CANCEL_KEY_MAX, CANCEL_KEY_MIN } from './types.ts';
import type { FormatCode, TransactionStatus } from './types.ts';

export interface AuthenticationOk { readonly kind: 'AuthenticationOk' }
export interface AuthenticationCleartextPassword { readonly kind: 'AuthenticationCleartextPassword' }
export interface AuthenticationMD5Password { readonly kind: 'AuthenticationMD5Password'; readonly salt: Buffer }
export interface AuthenticationSASL { readonly kind: 'AuthenticationSASL'; readonly mechanisms: string[] }
export interface AuthenticationSASLContinue { readonly kind: 'AuthenticationSASLContinue'; readonly data: Buffer }
export interface AuthenticationSASLFinal { readonly kind: 'AuthenticationSASLFinal'; readonly data: Buffer }
/** Kerberos, GSSAPI, SSPI: understood well enough to refuse with a clear reason. */
export interface AuthenticationUnsupported {
  readonly kind: 'AuthenticationUnsupported';
  readonly code: number;
  readonly data: Buffer;
}
export type Authentication =
  | AuthenticationOk | AuthenticationCleartextPassword | AuthenticationMD5Password | AuthenticationSASL
  | AuthenticationSASLContinue | AuthenticationSASLFinal | AuthenticationUnsupported;

export interface ParameterStatus { readonly kind: 'ParameterStatus'; readonly name: string; readonly value: string }
export interface BackendKeyData {
  readonly kind: 'BackendKeyData';
  readonly processId: number;
  /** 4 bytes in protocol 3.0; 4 to 256 bytes from protocol 3.2 on. */
  readonly secretKey: Buffer;
}
export interface ReadyForQuery { readonly kind: 'ReadyForQuery'; readonly status: TransactionStatus }

export interface FieldDescription {
  readonly name: string;
  /** OID of the table the column comes from; 0 for expressions. */
  readonly tableOid: number;
  /** The column's attribute number in that table; 0 for expressions. */
  readonly columnAttr: number;
  readonly typeOid: number;
  /** pg_type.typlen: negative for variable-length types. */
  readonly typeLen: number;
  readonly typeMod: number;
  readonly format: FormatCode;
}
export interface RowDescription { readonly kind: 'RowDescription'; readonly fields: FieldDescription[] }
export interface DataRow { readonly kind: 'DataRow'; readonly values: (Buffer | null)[] }
export interface CommandComplete { readonly kind: 'CommandComplete'; readonly tag: string }

/** ErrorResponse and NoticeResponse: every field by its code letter, plus the ones the proxy always needs. */
export interface ErrorFields {
  readonly fields: Map<string, string>;
  /** The non-localized severity (`V`) when sent, else the localized one (`S`). */
  readonly severity: string;
  /** SQLSTATE (`C`). */
  readonly code: string;
  /** Primary message (`M`). */
  readonly message: string;
}
export interface ErrorResponse extends ErrorFields { readonly kind: 'ErrorResponse' }
export interface NoticeResponse extends ErrorFields { readonly kind: 'NoticeResponse' }

export interface CopyResponse {
  readonly kind: 'CopyInResponse' | 'CopyOutResponse' | 'CopyBothResponse';
  readonly overallFormat: FormatCode;
  readonly columnFormats: FormatCode[];
}
export interface ParameterDescription { readonly kind: 'ParameterDescription'; readonly typeOids: number[] }
export interface NegotiateProtocolVersion {
  readonly kind: 'NegotiateProtocolVersion';
  /** Newest minor protocol version the server supports for the requested major version. */
  readonly newestMinor: number;
  /** Protocol options (`_pq_.*`) the server did not recognise. */
  readonly unrecognizedOptions: string[];
}
export interface NotificationResponse {
  readonly kind: 'NotificationResponse';
  readonly processId: number;
  readonly channel: string;
  readonly payload: string;
}
export interface FunctionCallResponse { readonly kind: 'FunctionCallResponse'; readonly value: Buffer | null }
export interface BackendCopyData { readonly kind: 'CopyData'; readonly data: Buffer }
export interface EmptyBodied {
  readonly kind: 'ParseComplete' | 'BindComplete' | 'CloseComplete' | 'NoData' | 'PortalSuspended'
    | 'EmptyQueryResponse' | 'CopyDone';
}

export type BackendMessage =
  | Authentication | ParameterStatus | BackendKeyData | ReadyForQuery | RowDescription | DataRow | CommandComplete
  | ErrorResponse | NoticeResponse | CopyResponse | ParameterDescription | NegotiateProtocolVersion
  | NotificationResponse | FunctionCallResponse | BackendCopyData | EmptyBodied;

const EMPTY_MESSAGES = new Map<number, EmptyBodied>([
  [BackendType.ParseComplete, { kind: 'ParseComplete' }],
  [BackendType.BindComplete, { kind: 'BindComplete' }],
  [BackendType.CloseComplete, { kind: 'CloseComplete' }],
  [BackendType.NoData, { kind: 'NoData' }],
  [BackendType.PortalSuspended, { kind: 'PortalSuspended' }],
  [BackendType.EmptyQueryResponse, { kind: 'EmptyQueryResponse' }],
  [BackendType.CopyDone, { kind: 'CopyDone' }],
]);

export function parseBackendMessage(type: number, body: Buffer): BackendMessage {
  switch (type) {
    case BackendType.Authentication: return parseAuthentication(body);
    case BackendType.ParameterStatus: return parseParameterStatus(body);
    case BackendType.BackendKeyData: return parseBackendKeyData(body);
    case BackendType.ReadyForQuery: return parseReadyForQuery(body);
    case BackendType.RowDescription: return parseRowDescription(body);
    case BackendType.DataRow: return parseDataRow(body);
    case BackendType.CommandComplete: return parseCommandComplete(body);
    case BackendType.ErrorResponse: return { kind: 'ErrorResponse', ...parseErrorFields(body, 'ErrorResponse') };
    case BackendType.NoticeResponse: return { kind: 'NoticeResponse', ...parseErrorFields(body, 'NoticeResponse') };
    case BackendType.CopyInResponse: return parseCopyResponse(body, 'CopyInResponse');
    case BackendType.CopyOutResponse: return parseCopyResponse(body, 'CopyOutResponse');
    case BackendType.CopyBothResponse: return parseCopyResponse(body, 'CopyBothResponse');
    case BackendType.ParameterDescription: return parseParameterDescription(body);
    case BackendType.NegotiateProtocolVersion: return parseNegotiateProtocolVersion(body);
    case BackendType.NotificationResponse: return parseNotificationResponse(body);
    case BackendType.FunctionCallResponse: return parseFunctionCallResponse(body);
    case BackendType.CopyData: return { kind: 'CopyData', data: body };
    default: {
      const m = EMPTY_MESSAGES.get(type);
      if (m === undefined) throw new ProtocolError(`unexpected backend message type 0x${type.toString(16)}`);
      if (body.length !== 0) throw new ProtocolError(`${m.kind}: ${body.length} unexpected trailing bytes`);
      return m;
    }
  }
}

export function parseAuthentication(body: Buffer): Authentication {
  const c = new BodyCursor(body, 'Authentication', false);
  const code = c.i32('request code');
  let m: Authentication;
  switch (code) {
    case AuthCode.Ok: m = { kind: 'AuthenticationOk' }; break;
    case AuthCode.CleartextPassword: m = { kind: 'AuthenticationCleartextPassword' }; break;
    case AuthCode.MD5Password: m = { kind: 'AuthenticationMD5Password', salt: c.bytes(4, 'salt') }; break;
    case AuthCode.SASL: {
      const mechanisms: string[] = [];
      for (let name = c.cstring('mechanism'); name !== ''; name = c.cstring('mechanism')) mechanisms.push(name);
      m = { kind: 'AuthenticationSASL', mechanisms };
      break;
    }
    case AuthCode.SASLContinue: m = { kind: 'AuthenticationSASLContinue', data: c.rest() }; break;
    case AuthCode.SASLFinal: m = { kind: 'AuthenticationSASLFinal', data: c.rest() }; break;
    case AuthCode.KerberosV5:
    case AuthCode.GSS:
    case AuthCode.GSSContinue:
    case AuthCode.SSPI:
      m = { kind: 'AuthenticationUnsupported', code, data: c.rest() };
      break;
    default:
      throw new ProtocolError(`Authentication: unknown request code ${code}`);
  }
  c.end();
  return m;
}

export function parseParameterStatus(body: Buffer): ParameterStatus {
  const c = new BodyCursor(body, 'ParameterStatus', false);
  const name = c.cstring('name');
  const value = c.cstring('value');
  c.end();
  return { kind: 'ParameterStatus', name, value };
}

export function parseBackendKeyData(body: Buffer): BackendKeyData {
  const c = new BodyCursor(body, 'BackendKeyData', false);
  const processId = c.i32('process id');
  if (c.remaining < CANCEL_KEY_MIN || c.remaining > CANCEL_KEY_MAX) {
    throw new ProtocolError(`BackendKeyData: secret key of ${c.remaining} bytes (expected ${CANCEL_KEY_MIN} to ${CANCEL_KEY_MAX})`);
  }
  return { kind: 'BackendKeyData', processId, secretKey: c.rest() };
}

export function parseReadyForQuery(body: Buffer): ReadyForQuery {
  return { kind: 'ReadyForQuery', status: readyStatus(body) };
}

/** The transaction status byte alone: the proxy reads it on every ReadyForQuery. */
export function readyStatus(body: Buffer): TransactionStatus {
  return readyStatusIn(body, 0, body.length);
}

/** readyStatus() of the body at `buf[start, end)`, without making a view of it (once per round trip). */
export function readyStatusIn(buf: Buffer, start: number, end: number): TransactionStatus {
  if (end - start !== 1) throw new ProtocolError(`ReadyForQuery: body of ${end - start} bytes (expected 1)`);
  switch (buf[start]) {
    case 0x49: return 'I';
    case 0x54: return 'T';
    case 0x45: return 'E';
    default: throw new ProtocolError(`ReadyForQuery: invalid transaction status 0x${(buf[start] as number).toString(16)}`);
  }
}

export function parseRowDescription(body: Buffer): RowDescription {
  const c = new BodyCursor(body, 'RowDescription', false);
  const n = c.u16('field count');
  const fields = new Array<FieldDescription>(n);
  for (let i = 0; i < n; i++) {
    fields[i] = {
      name: c.cstring('field name'),
      tableOid: c.u32('table oid'),
      columnAttr: c.i16('column number'),
      typeOid: c.u32('type oid'),
      typeLen: c.i16('type length'),
      typeMod: c.i32('type modifier'),
      format: c.format('format'),
    };
  }
  c.end();
  return { kind: 'RowDescription', fields };
}

/** Convenient but allocating; the proxy's row path uses DataRowIndex instead. */
export function parseDataRow(body: Buffer): DataRow {
  const c = new BodyCursor(body, 'DataRow', false);
  const n = c.u16('column count');
  const values = new Array<Buffer | null>(n);
  for (let i = 0; i < n; i++) values[i] = c.nullableBytes('column value');
  c.end();
  return { kind: 'DataRow', values };
}

export function parseCommandComplete(body: Buffer): CommandComplete {
  const c = new BodyCursor(body, 'CommandComplete', false);
  const tag = c.cstring('command tag');
  c.end();
  return { kind: 'CommandComplete', tag };
}

export function parseErrorFields(body: Buffer, message: string): ErrorFields {
  const c = new BodyCursor(body, message, false);
  const fields = new Map<string, string>();
  for (let code = c.u8('field type'); code !== 0; code = c.u8('field type')) {
    fields.set(String.fromCharCode(code), c.cstring('field value'));
  }
  c.end();
  return {
    fields,
    severity: fields.get('V') ?? fields.get('S') ?? '',
    code: fields.get('C') ?? '',
    message: fields.get('M') ?? '',
  };
}

export function parseCopyResponse(body: Buffer, kind: CopyResponse['kind']): CopyResponse {
  const c = new BodyCursor(body, kind, false);
  const overall = c.u8('overall format');
  if (overall !== 0 && overall !== 1) throw new ProtocolError(`${kind}: invalid overall format ${overall}`);
  const n = c.u16('column count');
  const columnFormats = new Array<FormatCode>(n);
  for (let i = 0; i < n; i++) columnFormats[i] = c.format('column format');
  c.end();
  return { kind, overallFormat: overall, columnFormats };
}

export function parseParameterDescription(body: Buffer): ParameterDescription {
  const c = new BodyCursor(body, 'ParameterDescription', false);
  const n = c.u16('parameter count');
  const typeOids = new Array<number>(n);
  for (let i = 0; i < n; i++) typeOids[i] = c.u32('parameter type');
  c.end();
  return { kind: 'ParameterDescription', typeOids };
}

export function parseNegotiateProtocolVersion(body: Buffer): NegotiateProtocolVersion {
  const c = new BodyCursor(body, 'NegotiateProtocolVersion', false);
  const newestMinor = c.i32('newest minor version');
  const n = c.i32('option count');
  if (n < 0) throw new ProtocolError(`NegotiateProtocolVersion: negative option count ${n}`);
  const unrecognizedOptions: string[] = [];
  for (let i = 0; i < n; i++) unrecognizedOptions.push(c.cstring('option name'));
  c.end();
  return { kind: 'NegotiateProtocolVersion', newestMinor, unrecognizedOptions };
}

export function parseNotificationResponse(body: Buffer): NotificationResponse {
  const c = new BodyCursor(body, 'NotificationResponse', false);
  const processId = c.i32('process id');
  const channel = c.cstring('channel');
  const payload = c.cstring('payload');
  c.end();
  return { kind: 'NotificationResponse', processId, channel, payload };
}

export function parseFunctionCallResponse(body: Buffer): FunctionCallResponse {
  const c = new BodyCursor(body, 'FunctionCallResponse', false);
  const value = c.nullableBytes('result');
  c.end();
  return { kind: 'FunctionCallResponse', value };
}
