// A bounds-checked reader over one message body. Every read checks the remaining length first so that a field
// running past the end of the message becomes a ProtocolError naming the message and field, never a RangeError.

import { ProtocolError } from './errors.ts';
import type { FormatCode } from './types.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The last string decoded by cstringMemo(), with the bytes it came from. */
export interface StringMemo {
  bytes: Buffer | undefined;
  text: string;
}

export class BodyCursor {
  readonly body: Buffer;
  readonly message: string;
  /** Strings sent by a client are decoded strictly: PostgreSQL rejects invalid UTF-8 too, and a lenient decode
   * would let the analyser see other characters than the server. Server strings are decoded leniently. */
  private readonly strict: boolean;
  pos = 0;

  constructor(body: Buffer, message: string, strict: boolean) {
    this.body = body;
    this.message = message;
    this.strict = strict;
  }

  get remaining(): number {
    return this.body.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.body.length - this.pos < n) {
      throw new ProtocolError(`${this.message}: ${field} runs past the end of the message`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.body[this.pos++] as number;
  }

  i16(field: string): number {
    this.need(2, field);
    const v = this.body.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.body.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i32(field: string): number {
    this.need(4, field);
    const v = this.body.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.body.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A format code: only text (0) and binary (1) exist; PostgreSQL rejects anything else, and so do we. */
  format(field: string): FormatCode {
    const f = this.i16(field);
    if (f !== 0 && f !== 1) throw new ProtocolError(`${this.message}: invalid ${field} code ${f}`);
    return f;
  }

  /** A NUL-terminated string; the terminator must lie inside the message. */
  cstring(field: string): string {
    // The unnamed statement or portal: the usual case, and nothing to decode.
    if (this.body[this.pos] === 0) {
      this.pos++;
      return '';
    }
    const end = this.body.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolError(`${this.message}: ${field} is not NUL-terminated`);
    const s = this.decode(this.pos, end, field);
    this.pos = end + 1;
    return s;
  }

  /**
   * cstring(), reusing `memo`'s string when the bytes are the ones it was decoded from (a client repeating a
   * statement): no decoding, and the same string object — whose hash lookups then already know — comes back.
   * The memo is updated with what was decoded otherwise.
   */
  cstringMemo(field: string, memo: StringMemo): string {
    const end = this.body.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolError(`${this.message}: ${field} is not NUL-terminated`);
    const len = end - this.pos;
    const prev = memo.bytes;
    let s: string;
    if (prev !== undefined && prev.length === len && this.body.compare(prev, 0, len, this.pos, end) === 0) {
      s = memo.text;
    } else {
      s = this.decode(this.pos, end, field);
      // Copied: a view would keep the socket chunk alive. Long strings are not worth keeping.
      if (len <= 4096) {
        memo.bytes = Buffer.from(this.body.subarray(this.pos, end));
        memo.text = s;
      }
    }
    this.pos = end + 1;
    return s;
  }

  /** `n` raw bytes as a view into the message (no copy). */
  bytes(n: number, field: string): Buffer {
    if (n < 0) throw new ProtocolError(`${this.message}: ${field} has a negative length`);
    this.need(n, field);
    const v = this.body.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Steps over an Int32 length and that many bytes (-1 is NULL), checking them like nullableBytes(). */
  skipNullableBytes(field: string): void {
    const n = this.i32(`${field} length`);
    if (n === -1) return;
    if (n < -1) throw new ProtocolError(`${this.message}: ${field} has an invalid length ${n}`);
    this.need(n, field);
    this.pos += n;
  }

  /** An Int32 length followed by that many bytes; -1 means NULL. */
  nullableBytes(field: string): Buffer | null {
    const n = this.i32(`${field} length`);
    if (n === -1) return null;
    if (n < -1) throw new ProtocolError(`${this.message}: ${field} has an invalid length ${n}`);
    return this.bytes(n, field);
  }

  /** The rest of the message as a view. */
  rest(): Buffer {
    const v = this.body.subarray(this.pos);
    this.pos = this.body.length;
    return v;
  }

  /** A message must be consumed exactly: trailing bytes mean sender and parser disagree on the format. */
  end(): void {
    if (this.pos !== this.body.length) {
      throw new ProtocolError(`${this.message}: ${this.body.length - this.pos} unexpected trailing bytes`);
    }
  }

  private decode(start: number, end: number, field: string): string {
    if (!this.strict) return this.body.toString('utf8', start, end);
    try {
      return strictUtf8.decode(this.body.subarray(start, end));
    } catch {
      throw new ProtocolError(`${this.message}: ${field} is not valid UTF-8`);
    }
  }
}
