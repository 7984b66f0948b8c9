// The PostgreSQL v3 wire codec: framing, parsing and building of both directions, and the client side of
// the upstream password exchanges. No proxy logic lives here.

export { ProtocolError, PROTOCOL_VIOLATION } from './errors.ts';
export * from './types.ts';
export { BackendReader, FrontendReader, MessageReader, NO_MESSAGE, UNTYPED } from './frames.ts';
export type { FrontendReaderOptions, ReaderLimits } from './frames.ts';
export * from './frontend.ts';
export * from './backend.ts';
export * from './build.ts';
export { DataRowIndex } from './datarow.ts';
export type { StringMemo } from './cursor.ts';
export { md5PasswordResponse } from './md5.ts';
export { MAX_SCRAM_ITERATIONS, SCRAM_SHA_256, ScramKeyCache, ScramSha256Client } from './scram.ts';
export type { ScramClientOptions } from './scram.ts';
