// The DataRow hot path: index a row's columns without allocating, and rewrite a row with some columns replaced
// (masking). A result stream has one DataRow per row, so one DataRowIndex is reused for every row of a session.

import { ProtocolError } from './errors.ts';
import { BackendType } from './types.ts';

const EMPTY = Buffer.alloc(0);

/** Column positions of one DataRow. Reuse one instance: `index()` overwrites the previous row's positions. */
export class DataRowIndex {
  /** The buffer the indexed row lies in (a body view, or the reader's buffer with offsets). */
  buffer: Buffer = EMPTY;
  /** Offset of the body's first byte and just past its last. */
  bodyStart = 0;
  bodyEnd = 0;
  /** Number of columns of the indexed row. */
  count = 0;
  /** Per column: offset of the value's first byte (after its length field). */
  private starts = new Int32Array(16);
  /** Per column: value length, -1 for NULL. */
  private lengths = new Int32Array(16);

  /** Indexes the DataRow body `buffer[start, end)` and returns its column count. Zero-allocation with the
   * reader's fields: `index(reader.buffer, reader.bodyStart, reader.end)`. */
  index(buffer: Buffer, start = 0, end = buffer.length): number {
    if (end - start < 2) throw new ProtocolError('DataRow: column count runs past the end of the message');
    const n = (buffer[start] as number) << 8 | (buffer[start + 1] as number);
    if (n > this.starts.length) this.grow(n);
    const starts = this.starts;
    const lengths = this.lengths;
    let pos = start + 2;
    for (let i = 0; i < n; i++) {
      if (end - pos < 4) throw new ProtocolError('DataRow: column length runs past the end of the message');
      const len = ((buffer[pos] as number) << 24) | ((buffer[pos + 1] as number) << 16) |
        ((buffer[pos + 2] as number) << 8) | (buffer[pos + 3] as number);
      pos += 4;
      starts[i] = pos;
      lengths[i] = len;
      if (len >= 0) {
        if (end - pos < len) throw new ProtocolError('DataRow: column value runs past the end of the message');
        pos += len;
      } else if (len !== -1) {
        throw new ProtocolError(`DataRow: invalid column length ${len}`);
      }
    }
    if (pos !== end) throw new ProtocolError(`DataRow: ${end - pos} unexpected trailing bytes`);
    this.buffer = buffer;
    this.bodyStart = start;
    this.bodyEnd = end;
    this.count = n;
    return n;
  }

  isNull(i: number): boolean {
    return this.length(i) === -1;
  }

  /** Byte length of column `i`, -1 for NULL. */
  length(i: number): number {
    this.check(i);
    return this.lengths[i] as number;
  }

  /** Offset of column `i`'s value in `buffer`. */
  start(i: number): number {
    this.check(i);
    return this.starts[i] as number;
  }

  /** Column `i` as a view, null for NULL. */
  value(i: number): Buffer | null {
    const len = this.length(i);
    if (len < 0) return null;
    const s = this.starts[i] as number;
    return this.buffer.subarray(s, s + len);
  }

  /** Column `i` decoded as UTF-8 text, null for NULL. */
  text(i: number): string | null {
    const len = this.length(i);
    if (len < 0) return null;
    const s = this.starts[i] as number;
    return this.buffer.toString('utf8', s, s + len);
  }

  /**
   * A new complete DataRow message (type and length included) where column i is replaced by
   * `replacements[i]` when that is defined: bytes, or null for SQL NULL. Untouched columns are copied in runs,
   * one copy per stretch between replaced columns.
   */
  rewrite(replacements: ReadonlyArray<Uint8Array | null | undefined>): Buffer {
    const starts = this.starts;
    const lengths = this.lengths;
    let size = this.bodyEnd - this.bodyStart;
    for (let i = 0; i < replacements.length; i++) {
      const r = replacements[i];
      if (r === undefined) continue;
      if (i >= this.count) throw new ProtocolError(`DataRow rewrite: column ${i} of a ${this.count}-column row`);
      size += (r === null ? 0 : r.length) - Math.max(lengths[i] as number, 0);
    }
    const out = Buffer.allocUnsafe(5 + size);
    out[0] = BackendType.DataRow;
    out.writeInt32BE(4 + size, 1);
    const src = this.buffer;
    let o = 5;
    let run = this.bodyStart;
    for (let i = 0; i < replacements.length; i++) {
      const r = replacements[i];
      if (r === undefined) continue;
      const valueStart = starts[i] as number;
      o += src.copy(out, o, run, valueStart - 4);
      if (r === null) {
        o = out.writeInt32BE(-1, o);
      } else {
        o = out.writeInt32BE(r.length, o);
        out.set(r, o);
        o += r.length;
      }
      run = valueStart + Math.max(lengths[i] as number, 0);
    }
    src.copy(out, o, run, this.bodyEnd);
    return out;
  }

  private check(i: number): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`column ${i} of a ${this.count}-column row`);
  }

  private grow(n: number): void {
    let size = this.starts.length;
    while (size < n) size *= 2;
    this.starts = new Int32Array(size);
    this.lengths = new Int32Array(size);
  }
}

const scratch = new DataRowIndex();

/**
 * A new DataRow message from a DataRow `body` with some columns replaced: `replacements[i]` defined means
 * column i becomes those bytes, or NULL for null; undefined (or a hole) keeps the column. Field and message
 * lengths are recomputed; untouched columns are copied in one pass.
 */
export function rewriteDataRow(body: Buffer, replacements: ReadonlyArray<Uint8Array | null | undefined>): Buffer {
  scratch.index(body);
  try {
    return scratch.rewrite(replacements);
  } finally {
    // Do not keep the caller's row alive through the module-level scratch index.
    scratch.buffer = EMPTY;
  }
}
