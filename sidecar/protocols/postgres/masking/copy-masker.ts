// COPY … TO STDOUT (text or CSV): each CopyData row is split into fields, the planned columns are decoded, masked
// and written back as COPY would write them, then the detector backstop scans the row. A row that does not split
// into the expected number of fields is an error — the session ends rather than pass an unparsed row.
import type { MaskingStrategy } from '../../../../core/masking/strategies.ts';
import type { RowMasker } from '../result-masking.ts';
import { maskText, type CellAction } from './cell-mask.ts';
import { CopyFormatError, CopyRowIndex, encodeField, type CopyFormat } from './copy-format.ts';
import type { FieldPlan } from './field-plan.ts';

export class CopyMasker implements RowMasker {
  readonly active = true;
  lastMasked = 0;
  readonly #fmt: CopyFormat;
  readonly #plans: readonly FieldPlan[];
  readonly #columnCount: number;
  readonly #detectors: RowMasker;
  readonly #hashKey: Buffer;
  readonly #index = new CopyRowIndex();
  #headerPending: boolean;

  constructor(fmt: CopyFormat, plans: readonly FieldPlan[], columnCount: number, detectors: RowMasker, hashKey: Buffer) {
    this.#fmt = fmt;
    this.#plans = [...plans].sort((a, b) => a.index - b.index);
    this.#columnCount = columnCount;
    this.#detectors = detectors;
    this.#hashKey = hashKey;
    this.#headerPending = fmt.header;
  }

  maskRow(): Buffer | undefined {
    return undefined; // COPY has no DataRows
  }

  maskCopyData(data: Buffer): Buffer | undefined {
    let count = 0;
    let body: Buffer | undefined;
    if (this.#headerPending) {
      this.#headerPending = false; // column names, not data
    } else if (this.#plans.length > 0) {
      body = this.#maskFields(data);
      count = this.lastMasked;
    }
    const d = this.#detectors;
    if (d.active && d.maskCopyData) {
      const scanned = d.maskCopyData(body ?? data);
      if (scanned !== undefined) {
        this.lastMasked = count + d.lastMasked;
        return scanned;
      }
    }
    this.lastMasked = count;
    return body === undefined ? undefined : copyDataMessage(body);
  }

  /** The row with its planned fields masked (sets lastMasked), or undefined when none was touched. */
  #maskFields(data: Buffer): Buffer | undefined {
    const fmt = this.#fmt;
    const idx = this.#index;
    const n = idx.split(data, fmt);
    if (n !== this.#columnCount) throw new CopyFormatError(`COPY row has ${n} fields where ${this.#columnCount} were announced`);
    let pieces: Buffer[] | undefined;
    let run = 0;
    let count = 0;
    for (const p of this.#plans) {
      const i = p.index;
      if (i >= n || idx.isNull(data, i, fmt)) continue;
      const masked = maskText(p.action as CellAction, p.strategy as MaskingStrategy, idx.decode(data, i, fmt), this.#hashKey);
      pieces ??= [];
      pieces.push(data.subarray(run, idx.starts[i]), encodeField(masked, fmt));
      run = idx.ends[i] as number;
      count++;
    }
    this.lastMasked = count;
    if (pieces === undefined) return undefined;
    pieces.push(data.subarray(run));
    return Buffer.concat(pieces);
  }
}

/** A complete CopyData message around `body`. */
export function copyDataMessage(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0x64; // 'd'
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}
