// Builders for frontend (client) messages: what the proxy sends to the server in the agent's place — the
// upstream login, cancel requests, and statements it issues itself (catalog lookups, the statement that puts a
// transaction into the aborted state). CopyData and CopyDone have the same format in both directions.

import { ProtocolError } from './errors.ts';
import { CANCEL_KEY_MAX, CANCEL_KEY_MIN, FrontendType, StartupCode } from './types.ts';
import type { FormatCode } from './types.ts';
import { MessageWriter, checkCount, cstringSize } from './writer.ts';

const SYNC = new MessageWriter(FrontendType.Sync, 0).done();
const FLUSH = new MessageWriter(FrontendType.Flush, 0).done();
const TERMINATE = new MessageWriter(FrontendType.Terminate, 0).done();
const COPY_DONE = new MessageWriter(FrontendType.CopyDone, 0).done();
const SSL_REQUEST = new MessageWriter(undefined, 4).i32(StartupCode.SSLRequest).done();
const GSSENC_REQUEST = new MessageWriter(undefined, 4).i32(StartupCode.GSSENCRequest).done();

/** Shared instances: write them, never mutate them. */
export const buildSync = (): Buffer => SYNC;
export const buildFlush = (): Buffer => FLUSH;
export const buildTerminate = (): Buffer => TERMINATE;
export const buildCopyDone = (): Buffer => COPY_DONE;
export const buildSSLRequest = (): Buffer => SSL_REQUEST;
export const buildGSSENCRequest = (): Buffer => GSSENC_REQUEST;

/** A StartupMessage; `user` is required by PostgreSQL. Parameters are written in iteration order. */
export function buildStartupMessage(
  parameters: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  protocolVersion: number = StartupCode.Protocol30,
): Buffer {
  const entries = parameters instanceof Map ? [...(parameters as ReadonlyMap<string, string>)] :
    Object.entries(parameters as Readonly<Record<string, string>>);
  let size = 4 + 1;
  for (const [k, v] of entries) {
    if (k === '') throw new ProtocolError('cannot encode StartupMessage: empty parameter name');
    size += cstringSize(k, 'startup parameter name') + cstringSize(v, 'startup parameter value');
  }
  const w = new MessageWriter(undefined, size).i32(protocolVersion);
  for (const [k, v] of entries) w.cstring(k).cstring(v);
  return w.u8(0).done();
}

export function buildCancelRequest(processId: number, secretKey: Uint8Array): Buffer {
  if (secretKey.length < CANCEL_KEY_MIN || secretKey.length > CANCEL_KEY_MAX) {
    throw new ProtocolError(`cannot encode CancelRequest: secret key of ${secretKey.length} bytes`);
  }
  return new MessageWriter(undefined, 8 + secretKey.length)
    .i32(StartupCode.CancelRequest).i32(processId).bytes(secretKey).done();
}

export function buildPasswordMessage(password: string): Buffer {
  return new MessageWriter(FrontendType.AuthResponse, cstringSize(password, 'password')).cstring(password).done();
}

export function buildSASLInitialResponse(mechanism: string, data: Uint8Array | null): Buffer {
  const size = cstringSize(mechanism, 'SASL mechanism') + 4 + (data === null ? 0 : data.length);
  return new MessageWriter(FrontendType.AuthResponse, size).cstring(mechanism).nullableBytes(data).done();
}

export function buildSASLResponse(data: Uint8Array): Buffer {
  return new MessageWriter(FrontendType.AuthResponse, data.length).bytes(data).done();
}

export function buildQuery(query: string): Buffer {
  return new MessageWriter(FrontendType.Query, cstringSize(query, 'query')).cstring(query).done();
}

export function buildParse(name: string, query: string, paramTypes: readonly number[] = []): Buffer {
  const size = cstringSize(name, 'statement name') + cstringSize(query, 'query') + 2 + 4 * paramTypes.length;
  const w = new MessageWriter(FrontendType.Parse, size)
    .cstring(name).cstring(query).u16(checkCount(paramTypes.length, 'parameter type count'));
  for (const oid of paramTypes) w.u32(oid);
  return w.done();
}

export interface BindInput {
  readonly portal?: string;
  readonly statement?: string;
  readonly paramFormats?: readonly FormatCode[];
  /** Bytes as given, strings as UTF-8, null as SQL NULL. */
  readonly params?: readonly (Uint8Array | string | null)[];
  readonly resultFormats?: readonly FormatCode[];
}

export function buildBind(input: BindInput): Buffer {
  const portal = input.portal ?? '';
  const statement = input.statement ?? '';
  const paramFormats = input.paramFormats ?? [];
  const params = (input.params ?? []).map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  const resultFormats = input.resultFormats ?? [];
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    throw new ProtocolError(`cannot encode Bind: ${paramFormats.length} parameter formats for ${params.length} parameters`);
  }
  let size = cstringSize(portal, 'portal name') + cstringSize(statement, 'statement name') +
    2 + 2 * paramFormats.length + 2 + 2 + 2 * resultFormats.length;
  for (const p of params) size += 4 + (p === null ? 0 : p.length);
  const w = new MessageWriter(FrontendType.Bind, size).cstring(portal).cstring(statement)
    .u16(checkCount(paramFormats.length, 'parameter format count'));
  for (const f of paramFormats) w.i16(f);
  w.u16(checkCount(params.length, 'parameter count'));
  for (const p of params) w.nullableBytes(p);
  w.u16(checkCount(resultFormats.length, 'result format count'));
  for (const f of resultFormats) w.i16(f);
  return w.done();
}

export function buildDescribe(target: 'S' | 'P', name: string): Buffer {
  return new MessageWriter(FrontendType.Describe, 1 + cstringSize(name, 'name'))
    .u8(target.charCodeAt(0)).cstring(name).done();
}

export function buildExecute(portal = '', maxRows = 0): Buffer {
  return new MessageWriter(FrontendType.Execute, cstringSize(portal, 'portal name') + 4).cstring(portal).i32(maxRows).done();
}

export function buildClose(target: 'S' | 'P', name: string): Buffer {
  return new MessageWriter(FrontendType.Close, 1 + cstringSize(name, 'name'))
    .u8(target.charCodeAt(0)).cstring(name).done();
}

export function buildCopyData(data: Uint8Array): Buffer {
  return new MessageWriter(FrontendType.CopyData, data.length).bytes(data).done();
}

export function buildCopyFail(message: string): Buffer {
  return new MessageWriter(FrontendType.CopyFail, cstringSize(message, 'message')).cstring(message).done();
}

export function buildFunctionCall(
  functionOid: number,
  argFormats: readonly FormatCode[],
  args: readonly (Uint8Array | null)[],
  resultFormat: FormatCode,
): Buffer {
  let size = 4 + 2 + 2 * argFormats.length + 2 + 2;
  for (const a of args) size += 4 + (a === null ? 0 : a.length);
  const w = new MessageWriter(FrontendType.FunctionCall, size).u32(functionOid)
    .u16(checkCount(argFormats.length, 'argument format count'));
  for (const f of argFormats) w.i16(f);
  w.u16(checkCount(args.length, 'argument count'));
  for (const a of args) w.nullableBytes(a);
  return w.i16(resultFormat).done();
}
