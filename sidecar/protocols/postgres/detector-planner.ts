// The masking backstop every PostgreSQL resource with masking gets: the classifications' value detectors run on
// every text cell of every row (which also covers row_to_json, json_agg, arrays and COPY text). Column-level
// masking (catalog + lineage) composes on top of it in the column planner.
import type { Masker } from '../../../core/masking/masker.ts';
import type { FieldDescription } from './codec/index.ts';
import { DataRowIndex } from './codec/index.ts';
import type { RowMasker } from './result-masking.ts';

/** Column types whose text form is text a person reads: detectors run on them (and on unknown types' text). */
export function detectorRowMasker(masker: Masker, fields: readonly FieldDescription[]): RowMasker {
  const textColumns: number[] = [];
  fields.forEach((f, i) => {
    if (f.format === 0) textColumns.push(i);
  });
  if (masker.detectors.length === 0 || textColumns.length === 0) return { active: false, lastMasked: 0, maskRow: () => undefined };
  const index = new DataRowIndex();
  const replacements: (Uint8Array | null | undefined)[] = new Array(fields.length);
  return {
    active: true,
    lastMasked: 0,
    maskRow(buffer, bodyStart, end) {
      index.index(buffer, bodyStart, end);
      let count = 0;
      for (const i of textColumns) {
        if (i >= index.count) break;
        const len = index.length(i);
        if (len <= 0) continue;
        const start = index.start(i);
        const hit = masker.scanBuffer(buffer, start, start + len);
        if (hit !== undefined) {
          replacements[i] = hit.bytes;
          count += hit.count;
        }
      }
      this.lastMasked = count;
      if (count === 0) return undefined;
      const out = index.rewrite(replacements);
      replacements.fill(undefined);
      return out;
    },
    maskCopyData(data) {
      const hit = masker.scanBuffer(data);
      this.lastMasked = hit?.count ?? 0;
      if (!hit) return undefined;
      const out = Buffer.allocUnsafe(5 + hit.bytes.length);
      out[0] = 0x64; // 'd'
      out.writeInt32BE(4 + hit.bytes.length, 1);
      hit.bytes.copy(out, 5);
      return out;
    },
  };
}
