// Per-row cost of column masking: a 10-column row (20-byte text values, a 16-digit card in column 3), one column
// masked, with and without the detector backstop scanning the other nine. Prints ns per row (best of 5 rounds).
// Run: node_modules/.bin/node sidecar/protocols/postgres/masking/row-masker.bench.ts
import { compileMasker } from '../../../../core/masking/masker.ts';
import type { MaskingStrategy } from '../../../../core/masking/strategies.ts';
import { buildDataRow } from '../codec/index.ts';
import { detectorRowMasker } from '../detector-planner.ts';
import { passThrough, type RowMasker } from '../result-masking.ts';
import { field, hashKey, T } from './fixtures.ts';
import { ColumnRowMasker } from './row-masker.ts';

const ROWS = 1_000_000;
const values = Array.from({ length: 10 }, (_, i) => (i === 3 ? '4111111111111111' : `value-${i}-`.padEnd(20, 'x')));
const row = buildDataRow(values);
const fields = values.map((_, i) => field(`c${i}`, 16384, i + 1, T.text, i === 3 ? 1 : 0));

function bench(name: string, m: RowMasker): void {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let n = 0; n < ROWS; n++) sink += m.maskRow(row, 5, row.length)?.length ?? 0;
    best = Math.min(best, Number(process.hrtime.bigint() - start) / ROWS);
  }
  console.log(`${name.padEnd(52)} ${best.toFixed(0).padStart(5)} ns/row${sink < 0 ? '!' : ''}`);
}

const detectors = detectorRowMasker(compileMasker([{ name: 'card', detectors: ['credit-card', 'email'], strategy: 'last4' }], hashKey), fields);
for (const strategy of ['last4', 'redact', 'hash'] as MaskingStrategy[]) {
  const plans = [{ index: 3, action: 'text' as const, strategy, classes: ['card'] }];
  bench(`1 of 10 columns masked (${strategy}), no detectors`, new ColumnRowMasker(plans, 10, passThrough, hashKey));
  bench(`1 of 10 columns masked (${strategy}) + detectors on 9`, new ColumnRowMasker(plans, 10, detectors, hashKey));
}
const nullRow = buildDataRow(values.map((v, i) => (i === 3 ? null : v)));
const m = new ColumnRowMasker([{ index: 3, action: 'text', strategy: 'last4', classes: ['card'] }], 10, passThrough, hashKey);
let best = Infinity;
for (let round = 0; round < 5; round++) {
  const start = process.hrtime.bigint();
  for (let n = 0; n < ROWS; n++) m.maskRow(nullRow, 5, nullRow.length);
  best = Math.min(best, Number(process.hrtime.bigint() - start) / ROWS);
}
console.log(`${'classified cell NULL (nothing to mask, no allocation)'.padEnd(52)} ${best.toFixed(0).padStart(5)} ns/row`);
