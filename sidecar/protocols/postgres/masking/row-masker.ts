// The per-row hot path: classified columns replaced (one index of the row, only the planned columns touched), then
// the detector backstop on the row as it now is — the backstop was planned with the masked columns marked binary,
// so it scans only the text cells column masking left alone. A row whose classified cells are all NULL is
// forwarded without a byte allocated.
import type { MaskingStrategy } from '../../../../core/masking/strategies.ts';
import { DataRowIndex } from '../codec/index.ts';
import type { RowMasker } from '../result-masking.ts';
import { constantMask, maskBytes, type CellAction } from './cell-mask.ts';
import type { FieldPlan } from './field-plan.ts';

export class ColumnRowMasker implements RowMasker {
  readonly active = true;
  lastMasked = 0;
  readonly #index = new DataRowIndex();
  readonly #columns: Int32Array;
  readonly #actions: CellAction[];
  readonly #strategies: MaskingStrategy[];
  /** Per planned column: the bytes every value becomes (NULL or a fixed marker), or undefined to compute. */
  readonly #constants: (Buffer | null | undefined)[];
  readonly #replacements: (Uint8Array | null | undefined)[];
  readonly #detectors: RowMasker;
  readonly #hashKey: Buffer;

  constructor(plans: readonly FieldPlan[], fieldCount: number, detectors: RowMasker, hashKey: Buffer) {
    this.#columns = Int32Array.from(plans.map((p) => p.index));
    this.#actions = plans.map((p) => p.action);
    this.#strategies = plans.map((p) => p.strategy);
    this.#constants = plans.map((p) => constantMask(p.action, p.strategy));
    this.#replacements = new Array<Uint8Array | null | undefined>(fieldCount);
    this.#detectors = detectors;
    this.#hashKey = hashKey;
  }

  maskRow(buffer: Buffer, bodyStart: number, end: number): Buffer | undefined {
    const index = this.#index;
    const n = index.index(buffer, bodyStart, end);
    const columns = this.#columns;
    const replacements = this.#replacements;
    let count = 0;
    for (let k = 0; k < columns.length; k++) {
      const i = columns[k] as number;
      if (i >= n) continue;
      const len = index.length(i);
      if (len < 0) continue; // NULL stays NULL
      const constant = this.#constants[k];
      if (constant !== undefined) replacements[i] = constant;
      else {
        const start = index.start(i);
        replacements[i] = maskBytes(this.#actions[k] as CellAction, this.#strategies[k] as MaskingStrategy, index.buffer, start, start + len, this.#hashKey);
      }
      count++;
    }
    let out: Buffer | undefined;
    if (count > 0) {
      out = index.rewrite(replacements);
      for (let k = 0; k < columns.length; k++) replacements[columns[k] as number] = undefined;
    }
    const d = this.#detectors;
    if (d.active) {
      const scanned = out === undefined ? d.maskRow(buffer, bodyStart, end) : d.maskRow(out, 5, out.length);
      if (scanned !== undefined) {
        out = scanned;
        count += d.lastMasked;
      }
    }
    index.buffer = empty; // do not keep the row alive
    this.lastMasked = count;
    return out;
  }
}

const empty = Buffer.alloc(0);
