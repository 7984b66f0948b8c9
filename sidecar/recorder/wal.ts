// The write-ahead file: every audit event is appended (one JSON line, one write(2)) before the command it describes
// is forwarded, so a killed sidecar never loses a command the server saw — the kernel has the bytes once write()
// returns. fsync is batched (every `syncIntervalMs` and at session end), never one per command.
//
// Torn lines: a crash (or a failed write) can leave a last line without its newline. Appending after it would glue
// the next event onto the torn one and lose both, so the constructor ends an unterminated file with "\n" first and a
// failed append makes the next one start on a new line. Readers report the torn line and carry on.
import { closeSync, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync, fsync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent, EventInput } from '../../core/audit/events.ts';

export const WAL_FILE = 'events.wal.jsonl';

/** A serialised event in three parts — bytes, a JSON string, bytes — whose concatenation is the event's JSON. Lets a
 * caller keep the parts that repeat (already encoded) and serialise only what changes. */
export interface EventParts {
  readonly head: Uint8Array;
  readonly json: string;
  readonly tail: Uint8Array;
}

/** An event as JSON.stringify wrote it: a string, its UTF-8 bytes, or in parts. */
export type EventBody = string | Uint8Array | EventParts;

export interface RecorderOptions {
  readonly dir: string;
  readonly syncIntervalMs?: number;
  /** Upper bound of the write-ahead file in bytes; beyond it, new commands are refused (failureMode closed). */
  readonly maxBytes?: number;
}

/** Any refusal to record: the caller must refuse the command rather than run it unrecorded. */
export class RecorderError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
/** The file reached its bound. */
export class RecorderFullError extends RecorderError {}
/** The recorder was closed (shutdown). */
export class RecorderClosedError extends RecorderError {}
/** write(2) or fsync(2) failed; the cause is attached. */
export class RecorderWriteError extends RecorderError {}

const NEWLINE = 0x0a;
const initialOut = 64 * 1024;
const RESULT_HEAD = Buffer.from('{"type":"result","command":');
const RESULT_ROWS = Buffer.from(',"rows":');
const RESULT_BYTES = Buffer.from(',"bytes":');
const RESULT_DURATION = Buffer.from(',"durationMs":');
const RESULT_MASKED = Buffer.from(',"masked":');
const RESULT_ERROR = Buffer.from(',"error":');
const TIME_OPEN = Buffer.from(',"time":"');
const maxKeptOut = 1024 * 1024;

/** Writes the decimal digits of a non-negative integer at `at`; returns the offset after them. */
function writeDecimal(buf: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let i = at + digits;
  for (let x = n; ; x = Math.floor(x / 10)) {
    buf[--i] = 0x30 + (x % 10);
    if (x < 10) break;
  }
  return at + digits;
}

export class Recorder {
  readonly #fd: number;
  readonly #timer: NodeJS.Timeout;
  readonly #maxBytes: number;
  #bytes: number;
  #dirty = false;
  #closed = false;
  /** Set when a write may have left a partial line: the next append starts with a newline. */
  #unterminated = false;
  /** A failed background fsync: durability is no longer known, so every later append is refused. */
  #syncError: Error | undefined;
  readonly path: string;
  /** true when the file ended in a torn line at start-up and a newline was added after it. */
  readonly repairedTornTail: boolean;

  constructor(opts: RecorderOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.path = join(opts.dir, WAL_FILE);
    // 'a+': appends always go to the end (O_APPEND) and the last byte can still be read back.
    this.#fd = openSync(this.path, 'a+', 0o600);
    const stat = fstatSync(this.#fd);
    // The mode given to open() only applies to a new file; an old, wider one is narrowed: records hold statements.
    if ((stat.mode & 0o777) !== 0o600) fchmodSync(this.#fd, 0o600);
    this.#bytes = stat.size;
    this.repairedTornTail = this.#size() > 0 && !this.#endsWithNewline();
    if (this.repairedTornTail) this.#bytes += writeSync(this.#fd, '\n');
    this.#maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.#timer = setInterval(() => this.#backgroundSync(), opts.syncIntervalMs ?? 100);
    this.#timer.unref();
  }

  /**
   * Queues an event that need not be on disk before anything else happens (a command's result): it is written with
   * the next append, or within a few milliseconds, so a command costs one write(2), not two. Order is kept.
   */
  appendLater(event: AuditEvent): void {
    if (this.#closed) return;
    this.#encodeRaw(JSON.stringify(event));
    this.#scheduleFlush();
  }

  /** appendLater() of a session's event: `body` is the event as JSON.stringify wrote it, `stamp` its session stamp. */
  appendEventLater(body: EventBody, stamp: Buffer, seq: number): void {
    if (this.#closed) return;
    this.#encodeEvent(body, stamp, seq);
    this.#scheduleFlush();
  }

  /**
   * appendEventLater() of a command's result, written straight from its numbers: the same bytes as the session's
   * `{"type":"result",…}` event through JSON.stringify, without building the string (this runs once per command).
   * The counts are non-negative integers; the duration is whole microseconds (recorded as milliseconds).
   */
  appendResultLater(stamp: Buffer, seq: number, command: number, rows: number, bytes: number, durationMicros: number, masked: number, error: string | undefined): void {
    if (this.#closed) return;
    this.#startLine();
    const err = error ? JSON.stringify(error) : '';
    this.#reserve(err.length + stamp.length + 200);
    this.#bytesOut(RESULT_HEAD);
    this.#decimal(command);
    this.#bytesOut(RESULT_ROWS);
    this.#decimal(rows);
    this.#bytesOut(RESULT_BYTES);
    this.#decimal(bytes);
    this.#bytesOut(RESULT_DURATION);
    this.#millis(durationMicros);
    this.#bytesOut(RESULT_MASKED);
    this.#decimal(masked);
    if (err !== '') {
      this.#bytesOut(RESULT_ERROR);
      this.#put(err);
    }
    this.#tail(stamp, seq);
    this.#scheduleFlush();
  }

  /** Appends one event; throws a RecorderError when it cannot (callers refuse the command). */
  append(event: AuditEvent): void {
    this.#checkWritable();
    const start = this.#outLen;
    this.#encodeRaw(JSON.stringify(event));
    this.#writeOut(start);
  }

  /** Appends one session event (see appendEventLater); throws a RecorderError when it cannot. */
  appendEvent(body: EventBody, stamp: Buffer, seq: number): void {
    this.#checkWritable();
    const start = this.#outLen;
    this.#encodeEvent(body, stamp, seq);
    this.#writeOut(start);
  }

  /**
   * Appends a session's events numbered from `firstSeq`, all in one write(2): all or none of them is accepted (a
   * full file refuses every one).
   */
  appendEvents(bodies: readonly EventBody[], stamp: Buffer, firstSeq: number): void {
    this.#checkWritable();
    const start = this.#outLen;
    for (let i = 0; i < bodies.length; i++) this.#encodeEvent(bodies[i]!, stamp, firstSeq + i);
    this.#writeOut(start);
  }

  // Lines are encoded as they come into one buffer: queued results first, then the line that must be on file before
  // its command runs; one write(2) takes them all. No line is ever concatenated or flattened as a JS string.
  #out = Buffer.allocUnsafe(initialOut);
  #outLen = 0;
  #flushScheduled = false;

  #checkWritable(): void {
    if (this.#closed) throw new RecorderClosedError('recorder is closed');
    if (this.#syncError) throw new RecorderWriteError('audit file could not be synced: refusing commands', { cause: this.#syncError });
  }

  #scheduleFlush(): void {
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // A few milliseconds: under load the next command's write carries it; when idle it still lands promptly.
      setTimeout(() => this.#flushPending(), 5).unref();
    }
  }

  #flushPending(): void {
    this.#flushScheduled = false;
    if (this.#outLen === 0 || this.#closed) return;
    try {
      this.#writeOut(this.#outLen);
    } catch {
      // Reported by the next append, which refuses its command.
    }
  }

  /** Room for `chars` more UTF-16 units (at most 3 bytes each in UTF-8). */
  #reserve(chars: number): void {
    const need = this.#outLen + chars * 3 + 1;
    if (need <= this.#out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.#out.length * 2));
    this.#out.copy(grown, 0, 0, this.#outLen);
    this.#out = grown;
  }

  #put(s: string): void {
    this.#outLen += this.#out.write(s, this.#outLen, 'utf8');
  }

  /** Copies bytes already encoded (constant pieces, the session stamp): no call into the string encoder. */
  #bytesOut(b: Uint8Array): void {
    this.#out.set(b, this.#outLen);
    this.#outLen += b.length;
  }

  #decimal(n: number): void {
    this.#outLen = writeDecimal(this.#out, this.#outLen, n);
  }

  /** Microseconds as milliseconds with up to three decimals, as JSON.stringify writes the number µs / 1000. */
  #millis(micros: number): void {
    const whole = Math.floor(micros / 1000);
    let frac = micros - whole * 1000;
    this.#decimal(whole);
    if (frac === 0) return;
    const out = this.#out;
    out[this.#outLen++] = 0x2e; // '.'
    let digits = 3;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    this.#outLen += digits;
    for (let i = 1; i <= digits; i++, frac = Math.floor(frac / 10)) out[this.#outLen - i] = 0x30 + (frac % 10);
  }

  /** The session stamp, seq and time that end every session event, and the newline. */
  #tail(stamp: Uint8Array, seq: number): void {
    this.#bytesOut(stamp);
    this.#decimal(seq);
    this.#bytesOut(TIME_OPEN);
    const out = this.#out;
    let at = writeIsoNow(out, this.#outLen);
    out[at++] = 0x22; // '"'
    out[at++] = 0x7d; // '}'
    out[at++] = NEWLINE;
    this.#outLen = at;
  }

  /** A line that starts after a torn one begins on a new line. */
  #startLine(): void {
    if (this.#unterminated && this.#outLen === 0) {
      this.#reserve(1);
      this.#out[this.#outLen++] = NEWLINE;
      this.#unterminated = false;
    }
  }

  #encodeRaw(json: string): void {
    this.#startLine();
    this.#reserve(json.length + 1);
    this.#put(json);
    this.#out[this.#outLen++] = NEWLINE;
  }

  /** The bytes of JSON.stringify({ ...event, session, seq, time }) + "\n", from the serialised event and the stamp:
   * the event's closing brace is dropped and the stamp, seq and time close the line instead. */
  #encodeEvent(body: EventBody, stamp: Buffer, seq: number): void {
    this.#startLine();
    let empty = false;
    if (typeof body === 'string') {
      this.#reserve(body.length + stamp.length + 64);
      this.#put(body);
      empty = body.length <= 2;
    } else if (body instanceof Uint8Array) {
      this.#reserve(body.length + stamp.length + 64);
      this.#bytesOut(body);
      empty = body.length <= 2;
    } else {
      this.#reserve(body.head.length + body.json.length + body.tail.length + stamp.length + 64);
      this.#bytesOut(body.head);
      this.#put(body.json);
      this.#bytesOut(body.tail);
    }
    this.#outLen--; // the closing brace
    // An empty event ("{}") takes the stamp without its leading comma.
    this.#tail(empty ? stamp.subarray(1) : stamp, seq);
  }



  /** One write(2) of everything encoded; the line from `start` on is dropped (not queued) if the file is full. */
  #writeOut(start: number): void {
    const length = this.#outLen;
    if (this.#bytes + length > this.#maxBytes) {
      this.#outLen = start;
      throw new RecorderFullError('audit buffer full: refusing commands rather than running them unrecorded');
    }
    const out = this.#out;
    this.#outLen = 0;
    // A very large statement grew the buffer: do not keep that much memory for the small lines that follow.
    if (out.length > maxKeptOut) this.#out = Buffer.allocUnsafe(initialOut);
    let written = 0;
    try {
      // A regular file takes the whole line at once; a short write means the disk filled up mid-line. Finish it.
      while (written < length) written += writeSync(this.#fd, out, written, length - written);
    } catch (error) {
      this.#unterminated = true;
      this.#bytes = this.#size();
      throw new RecorderWriteError(`audit write failed: ${(error as Error).message}`, { cause: error });
    }
    this.#unterminated = false;
    this.#bytes += written;
    this.#dirty = true;
  }

  /** fsyncs if anything was appended since the last sync; throws a RecorderWriteError if the kernel reports an error. */
  sync(): void {
    if (!this.#dirty || this.#closed) return;
    this.#dirty = false;
    try {
      fsyncSync(this.#fd);
    } catch (error) {
      this.#syncError = error as Error;
      throw new RecorderWriteError(`audit fsync failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Bytes in the file, as far as this recorder knows. */
  get bytes(): number {
    return this.#bytes;
  }

  close(): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.#flushPending();
    try {
      this.sync();
    } finally {
      this.#closed = true;
      closeSync(this.#fd);
    }
  }

  /** A per-session writer that numbers events and stamps times. */
  session(id: string): SessionRecorder {
    return new SessionRecorder(this, id);
  }

  /**
   * fsync on the thread pool: the event loop (and every session's data path) never waits for the disk. Appends made
   * while one runs are covered by the next.
   */
  #backgroundSync(): void {
    if (!this.#dirty || this.#closed || this.#syncing) return;
    this.#dirty = false;
    this.#syncing = true;
    fsync(this.#fd, (error) => {
      this.#syncing = false;
      // Remembered: the next append refuses its command, which is where the failure is reported.
      if (error && !this.#closed) this.#syncError = error;
    });
  }

  /** Asks for an fsync soon without blocking (session end). */
  syncSoon(): void {
    this.#backgroundSync();
  }

  #syncing = false;

  #size(): number {
    return fstatSync(this.#fd).size;
  }

  #endsWithNewline(): boolean {
    const last = Buffer.alloc(1);
    return readSync(this.#fd, last, 0, 1, this.#size() - 1) === 1 && last[0] === NEWLINE;
  }
}

export class SessionRecorder {
  readonly #recorder: Recorder;
  readonly id: string;
  #seq = 0;
  /** `,"session":"<id>","seq":` — the stamp every line of this session ends with, encoded once. */
  readonly #stamp: Buffer;
  constructor(recorder: Recorder, id: string) {
    this.#recorder = recorder;
    this.id = id;
    this.#stamp = Buffer.from(`,"session":${JSON.stringify(id)},"seq":`);
  }
  /** Records an event that may reach the file a moment later (results); returns its sequence number. */
  recordLater(event: EventInput): number {
    const seq = ++this.#seq;
    this.#recorder.appendEventLater(JSON.stringify(event), this.#stamp, seq);
    return seq;
  }

  /** recordLater() of a command's result, from its numbers (see Recorder.appendResultLater). */
  recordResultLater(command: number, rows: number, bytes: number, durationMicros: number, masked: number, error: string | undefined): number {
    const seq = ++this.#seq;
    this.#recorder.appendResultLater(this.#stamp, seq, command, rows, bytes, durationMicros, masked, error);
    return seq;
  }

  /** Records the event and returns its sequence number; throws a RecorderError when it cannot be recorded. */
  record(event: EventInput): number {
    return this.recordBody(JSON.stringify(event));
  }

  /**
   * Records several events in one write, all or none (a pipeline's commands: none of them may be on record as
   * forwarded unless all are). Returns the first one's sequence number; throws a RecorderError when they cannot be
   * recorded, using up no number.
   */
  recordAll(bodies: readonly EventBody[]): number {
    const first = this.#seq + 1;
    this.#recorder.appendEvents(bodies, this.#stamp, first);
    this.#seq += bodies.length;
    return first;
  }

  /** record() of an event already serialised (see EventBody). */
  recordBody(body: EventBody): number {
    const seq = this.#seq + 1;
    this.#recorder.appendEvent(body, this.#stamp, seq);
    // Numbered only once written, so a refused event leaves no gap in the session's sequence.
    this.#seq = seq;
    return seq;
  }

  /** Flushes to disk soon, without blocking the event loop (session end). */
  sync(): void {
    this.#recorder.syncSoon();
  }
}

let isoSecond = -1;
const isoPrefix = Buffer.alloc(20);
/**
 * Writes new Date().toISOString() (24 ASCII bytes, "2026-11-27T10:43:25.123Z") at `at` and returns the end. The part
 * up to the second is formatted by Date once per second; the milliseconds are three digits. Records of a busy session
 * are many per millisecond, and Date's formatter was a visible share of the write-ahead path.
 */
export function writeIsoNow(out: Buffer, at: number, now = Date.now()): number {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix.write(new Date(second * 1000).toISOString().slice(0, 20), 0, 'latin1');
  }
  isoPrefix.copy(out, at);
  at += 20;
  const ms = now - second * 1000;
  out[at++] = 0x30 + Math.floor(ms / 100);
  out[at++] = 0x30 + (Math.floor(ms / 10) % 10);
  out[at++] = 0x30 + (ms % 10);
  out[at++] = 0x5a; // 'Z'
  return at;
}
