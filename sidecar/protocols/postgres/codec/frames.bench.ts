// DataRow hot-path throughput: a result stream of rows with 10 columns of 20 bytes, cut into 64 KiB chunks as a
// socket delivers it. Run: node_modules/.bin/node sidecar/protocols/postgres/codec/frames.bench.ts

import { buildDataRow } from './build-backend.ts';
import { DataRowIndex } from './datarow.ts';
import { BackendReader, NO_MESSAGE } from './frames.ts';

const ROWS = 2_000_000;
const CHUNK = 64 * 1024;

const row = buildDataRow(Array.from({ length: 10 }, (_, i) => String(i).repeat(20)));
const stream = Buffer.concat(Array.from({ length: 100_000 }, () => row));
const chunks: Buffer[] = [];
for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));

function run(name: string, onRow: (r: BackendReader) => void): void {
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    let n = 0;
    while (n < ROWS) {
      const r = new BackendReader();
      for (const c of chunks) {
        r.push(c);
        for (let t = r.next(); t !== NO_MESSAGE; t = r.next()) {
          onRow(r);
          n++;
        }
      }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, n / seconds);
  }
  const mbs = (best * row.length) / 1e6;
  console.log(`${name.padEnd(40)} ${(best / 1e6).toFixed(2)} M rows/s  ${mbs.toFixed(0)} MB/s`);
}

let sink = 0;
const index = new DataRowIndex();
const replacement = Buffer.from('****');
run('frame only', (r) => { sink += r.end; });
run('frame + body view', (r) => { sink += r.body.length; });
run('frame + DataRowIndex (in place)', (r) => { sink += index.index(r.buffer, r.bodyStart, r.end); });
run('frame + index + rewrite one column', (r) => {
  index.index(r.buffer, r.bodyStart, r.end);
  sink += index.rewrite([undefined, undefined, replacement]).length;
});
console.log(`row ${row.length} bytes, chunks of ${CHUNK} bytes${sink < 0 ? '' : ''}`);
