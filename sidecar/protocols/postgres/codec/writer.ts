// Exact-size message writing for the builders: callers compute the body size first (strings through
// `cstringSize`), the writer allocates once and fills. `done()` checks the size was right, so a builder bug
// shows up as an error in tests instead of a malformed message on the wire.

import { ProtocolError } from './errors.ts';

/** Bytes a string takes on the wire with its terminator. A NUL inside it would end the string early on the
 * receiving side and shift every following field, so it cannot be encoded. */
export function cstringSize(s: string, field: string): number {
  if (s.includes('\0')) throw new ProtocolError(`cannot encode ${field}: it contains a NUL character`);
  return Buffer.byteLength(s, 'utf8') + 1;
}

export class MessageWriter {
  readonly buf: Buffer;
  pos: number;

  /** `type` undefined writes an untyped startup-phase packet. */
  constructor(type: number | undefined, bodySize: number) {
    if (type === undefined) {
      this.buf = Buffer.allocUnsafe(4 + bodySize);
      this.buf.writeInt32BE(4 + bodySize, 0);
      this.pos = 4;
    } else {
      this.buf = Buffer.allocUnsafe(5 + bodySize);
      this.buf[0] = type;
      this.buf.writeInt32BE(4 + bodySize, 1);
      this.pos = 5;
    }
  }

  u8(v: number): this {
    this.buf[this.pos++] = v;
    return this;
  }

  i16(v: number): this {
    this.pos = this.buf.writeInt16BE(v, this.pos);
    return this;
  }

  u16(v: number): this {
    this.pos = this.buf.writeUInt16BE(v, this.pos);
    return this;
  }

  i32(v: number): this {
    this.pos = this.buf.writeInt32BE(v, this.pos);
    return this;
  }

  u32(v: number): this {
    this.pos = this.buf.writeUInt32BE(v, this.pos);
    return this;
  }

  /** Writes a string whose size was checked with `cstringSize`. */
  cstring(s: string): this {
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Int32 length and bytes; null is written as length -1. */
  nullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.i32(-1);
    return this.i32(b.length).bytes(b);
  }

  done(): Buffer {
    if (this.pos !== this.buf.length) {
      throw new Error(`internal: message size computed as ${this.buf.length}, written ${this.pos}`);
    }
    return this.buf;
  }
}

/** A count that goes into an Int16 field. */
export function checkCount(n: number, field: string): number {
  if (n > 0xffff) throw new ProtocolError(`cannot encode ${field}: ${n} exceeds 65535`);
  return n;
}
