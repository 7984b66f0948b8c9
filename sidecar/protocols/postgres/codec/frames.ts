// Incremental framing of the PostgreSQL v3 byte stream, one reader per direction.
//
// Hot path: a result stream of many small DataRows arriving in socket-sized chunks. A reader therefore hands out
// no per-message object: `next()` returns the type byte and leaves the message's position in public fields
// (`buffer`, `frameStart`, `bodyStart`, `end`); `body` and `frame` create a view only when asked. A message that
// lies inside one chunk is never copied; only a message spanning chunks is copied once, into a buffer of exactly
// its size, and only when it is complete — so a large message arriving in many chunks costs one copy, not many.
// A length field is checked against the limit before anything is buffered for it, so a hostile peer cannot make
// the reader wait for (and the caller hold) more than the limit.

import { ProtocolError } from './errors.ts';
import { BackendType, DEFAULT_LIMITS, FrontendType, StartupCode } from './types.ts';

/** `next()` returns this when no complete message is buffered. */
export const NO_MESSAGE = -1;
/** `next()` returns this for the untyped packets of the startup phase (StartupMessage, SSLRequest, …). */
export const UNTYPED = 0x100;

const EMPTY = Buffer.alloc(0);

export interface ReaderLimits {
  /** Maximum value of a typed message's length field (which counts itself, not the type byte). */
  readonly maxMessageSize?: number;
  /** Maximum length of an untyped startup-phase packet (frontend only). */
  readonly maxStartupMessageSize?: number;
}

export abstract class MessageReader {
  /** The buffer holding the current message: a socket chunk (zero copy) or a buffer assembled from several. */
  buffer: Buffer = EMPTY;
  /** Offset of the current message's first byte (its type byte, or its length for untyped packets). */
  frameStart = 0;
  /** Offset of the current message's body (after type and length). */
  bodyStart = 0;
  /** Offset just past the current message. */
  end = 0;

  /** Pushed chunks, unconsumed ones at [head, tail). The array is reused, never truncated: no allocation per read. */
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private tail = 0;
  private pos = 0;
  private avail = 0;
  private failure: ProtocolError | undefined;
  /** Indexed by type byte: the largest allowed length field; 0 marks a type this direction never sends. */
  private readonly limits: Float64Array;
  private readonly startupLimit: number;
  protected startup: boolean;

  protected constructor(limits: Float64Array, startupLimit: number, startup: boolean) {
    this.limits = limits;
    this.startupLimit = startupLimit;
    this.startup = startup;
  }

  /** Appends bytes read from the socket. The reader keeps a reference: the caller must not reuse the chunk. */
  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.failure !== undefined) return;
    // Drop consumed chunks first: with a partial message always pending at the tail of a stream, the queue
    // would otherwise never drain to empty and would keep every chunk ever pushed.
    if (this.head > 0 && this.tail === this.chunks.length) {
      this.chunks.copyWithin(0, this.head, this.tail);
      this.chunks.fill(EMPTY, this.tail - this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    this.chunks[this.tail++] = chunk;
    this.avail += chunk.length;
  }

  /**
   * Frames the next complete message: returns its type byte (`UNTYPED` in the startup phase) and sets
   * `buffer`/`frameStart`/`bodyStart`/`end`, or returns `NO_MESSAGE` when more bytes are needed.
   * Throws ProtocolError on a malformed or oversized message; the reader stays failed afterwards.
   */
  next(): number {
    if (this.failure !== undefined) throw this.failure;
    return this.startup ? this.nextUntyped() : this.nextTyped();
  }

  /** The current message's body as a view (valid as long as the caller keeps it; never reused by the reader). */
  get body(): Buffer {
    return this.buffer.subarray(this.bodyStart, this.end);
  }

  /** The current message including type and length, ready to forward unchanged. */
  get frame(): Buffer {
    return this.buffer.subarray(this.frameStart, this.end);
  }

  get bodyLength(): number {
    return this.end - this.bodyStart;
  }

  /** Bytes pushed but not yet consumed. After an SSLRequest/GSSENCRequest this must be 0 before the TLS
   * handshake: bytes sent ahead of it would otherwise be taken as if they had come over the encrypted channel. */
  get buffered(): number {
    return this.avail;
  }

  /** True while untyped startup-phase packets are expected. */
  get inStartupPhase(): boolean {
    return this.startup;
  }

  /** Consumes one raw byte outside the message framing (the `S`/`N` answer to SSLRequest/GSSENCRequest);
   * returns -1 when none is buffered. */
  readRawByte(): number {
    if (this.failure !== undefined) throw this.failure;
    if (this.avail === 0) return -1;
    const chunk = this.chunks[this.head] as Buffer;
    const b = chunk[this.pos] as number;
    this.consume(1, chunk);
    return b;
  }

  /** Removes and returns every unconsumed byte (for handing the stream to another reader or checking it). */
  takeBuffered(): Buffer {
    if (this.avail === 0) return EMPTY;
    const out = Buffer.allocUnsafe(this.avail);
    this.copyOut(out, this.avail);
    return out;
  }

  private nextTyped(): number {
    const avail = this.avail;
    if (avail < 5) return NO_MESSAGE;
    const chunk = this.chunks[this.head] as Buffer;
    const pos = this.pos;
    let type: number;
    let len: number;
    if (chunk.length - pos >= 5) {
      type = chunk[pos] as number;
      len = ((chunk[pos + 1] as number) << 24) | ((chunk[pos + 2] as number) << 16) |
        ((chunk[pos + 3] as number) << 8) | (chunk[pos + 4] as number);
    } else {
      type = this.peek(0);
      len = (this.peek(1) << 24) | (this.peek(2) << 16) | (this.peek(3) << 8) | this.peek(4);
    }
    const limit = this.limits[type] as number;
    if (len < 4 || len > limit) this.fail(type, len, limit);
    const size = len + 1;
    if (avail < size) return NO_MESSAGE;
    this.take(chunk, pos, size, 5);
    return type;
  }

  private nextUntyped(): number {
    const avail = this.avail;
    if (avail < 4) return NO_MESSAGE;
    const len = (this.peek(0) << 24) | (this.peek(1) << 16) | (this.peek(2) << 8) | this.peek(3);
    if (len < 8 || len > this.startupLimit) {
      this.failure = new ProtocolError(
        len < 8 ? `invalid startup packet length ${len}` :
          `startup packet of ${len} bytes exceeds the limit of ${this.startupLimit}`);
      throw this.failure;
    }
    if (avail < len) return NO_MESSAGE;
    this.take(this.chunks[this.head] as Buffer, this.pos, len, 4);
    const code = this.buffer.readInt32BE(this.bodyStart);
    // Only the negotiation requests keep the connection in the startup phase; a StartupMessage (or anything
    // else, which the parser then rejects) ends it.
    if (code !== StartupCode.SSLRequest && code !== StartupCode.GSSENCRequest && code !== StartupCode.CancelRequest) {
      this.startup = false;
    }
    return UNTYPED;
  }

  private fail(type: number, len: number, limit: number): never {
    const name = JSON.stringify(String.fromCharCode(type));
    this.failure = new ProtocolError(
      limit === 0 ? `unexpected message type ${name} (0x${type.toString(16).padStart(2, '0')})` :
        len < 4 ? `invalid length ${len} in message ${name}` :
          `message ${name} of ${len} bytes exceeds the limit of ${limit}`);
    throw this.failure;
  }

  /** Makes the `size` bytes at the read position the current message: a view when they lie in one chunk. */
  private take(chunk: Buffer, pos: number, size: number, header: number): void {
    if (chunk.length - pos >= size) {
      this.buffer = chunk;
      this.frameStart = pos;
      this.bodyStart = pos + header;
      this.end = pos + size;
      this.consume(size, chunk);
    } else {
      const out = Buffer.allocUnsafe(size);
      this.copyOut(out, size);
      this.buffer = out;
      this.frameStart = 0;
      this.bodyStart = header;
      this.end = size;
    }
  }

  private consume(n: number, chunk: Buffer): void {
    this.pos += n;
    this.avail -= n;
    if (this.pos === chunk.length) this.dropHead();
  }

  private dropHead(): void {
    this.pos = 0;
    this.chunks[this.head] = EMPTY; // release the consumed chunk now, not at the next push
    if (++this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    }
  }

  /** Copies `n` bytes from the read position into `out` and consumes them. */
  private copyOut(out: Buffer, n: number): void {
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head] as Buffer;
      const take = Math.min(n - filled, chunk.length - this.pos);
      chunk.copy(out, filled, this.pos, this.pos + take);
      filled += take;
      this.pos += take;
      this.avail -= take;
      if (this.pos === chunk.length) this.dropHead();
    }
  }

  /** The byte `offset` bytes past the read position, which must be buffered. */
  private peek(offset: number): number {
    let i = this.head;
    let at = this.pos + offset;
    for (;;) {
      const chunk = this.chunks[i] as Buffer;
      if (at < chunk.length) return chunk[at] as number;
      at -= chunk.length;
      i++;
    }
  }
}

function typeLimits(types: Iterable<number>, max: number): Float64Array {
  const limits = new Float64Array(256);
  for (const t of types) limits[t] = max;
  return limits;
}

function positiveOr(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 4) throw new RangeError(`${what} must be an integer >= 4`);
  return value;
}

const SMALL_FRONTEND_TYPES = [
  FrontendType.Close, FrontendType.Describe, FrontendType.Execute, FrontendType.Flush, FrontendType.Sync,
  FrontendType.Terminate, FrontendType.CopyDone, FrontendType.CopyFail,
];

export interface FrontendReaderOptions extends ReaderLimits {
  /** Start in the startup phase (default true); false when attaching to a connection already past it. */
  readonly startup?: boolean;
}

/** Frames what a frontend (client) sends: untyped startup-phase packets, then typed messages. */
export class FrontendReader extends MessageReader {
  constructor(options: FrontendReaderOptions = {}) {
    const max = positiveOr(options.maxMessageSize, DEFAULT_LIMITS.frontend, 'maxMessageSize');
    const limits = typeLimits(Object.values(FrontendType), max);
    // Like PostgreSQL: messages that are always tiny get a small limit whatever the configured maximum.
    for (const t of SMALL_FRONTEND_TYPES) limits[t] = Math.min(max, DEFAULT_LIMITS.smallFrontend);
    limits[FrontendType.AuthResponse] = Math.min(max, DEFAULT_LIMITS.authResponse);
    const startupLimit = positiveOr(options.maxStartupMessageSize, DEFAULT_LIMITS.startup, 'maxStartupMessageSize');
    super(limits, startupLimit, options.startup ?? true);
  }
}

/** Frames what a backend (server) sends: typed messages only. The single-byte answer to SSLRequest or
 * GSSENCRequest is read with `readRawByte()` before the first `next()`. */
export class BackendReader extends MessageReader {
  constructor(options: ReaderLimits = {}) {
    const max = positiveOr(options.maxMessageSize, DEFAULT_LIMITS.backend, 'maxMessageSize');
    super(typeLimits(Object.values(BackendType), max), DEFAULT_LIMITS.startup, false);
  }
}
