// DataRowIndex and rewriteDataRow: positions, NULLs, and rewritten rows whose lengths are right.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDataRow } from './backend.ts';
import { buildDataRow } from './build-backend.ts';
import { DataRowIndex, rewriteDataRow } from './datarow.ts';
import { ProtocolError } from './errors.ts';
import { BackendReader } from './frames.ts';

type Value = string | null;
const toBuf = (v: Value): Buffer | null => (v === null ? null : Buffer.from(v, 'utf8'));
const bodyOf = (frame: Buffer): Buffer => frame.subarray(5);

const rewrites: { name: string; row: Value[]; replace: (Value | undefined)[]; want: Value[] }[] = [
  { name: 'nothing replaced', row: ['1', 'card', null], replace: [], want: ['1', 'card', null] },
  { name: 'middle column shorter', row: ['1', '4111111111111111', 'x'], replace: [undefined, '****1111'], want: ['1', '****1111', 'x'] },
  { name: 'first column longer', row: ['a', 'b'], replace: ['[redacted]'], want: ['[redacted]', 'b'] },
  { name: 'last column to NULL', row: ['a', 'secret'], replace: [undefined, null], want: ['a', null] },
  { name: 'NULL to a value', row: [null, 'b'], replace: ['x'], want: ['x', 'b'] },
  { name: 'every column', row: ['a', 'bb', 'ccc'], replace: ['1', null, ''], want: ['1', null, ''] },
  { name: 'two apart, with untouched runs between', row: ['a', 'b', 'c', 'd', 'e'], replace: [undefined, 'B', undefined, undefined, 'EEEE'], want: ['a', 'B', 'c', 'd', 'EEEE'] },
  { name: 'empty value to a value', row: ['', 'z'], replace: ['full'], want: ['full', 'z'] },
  { name: 'multi-byte UTF-8', row: ['müller', 'ok'], replace: ['m****'], want: ['m****', 'ok'] },
];

describe('rewriteDataRow', () => {
  for (const c of rewrites) {
    it(c.name, () => {
      const frame = buildDataRow(c.row.map(toBuf));
      const replacements = c.replace.map((v) => (v === undefined ? undefined : toBuf(v)));
      const out = rewriteDataRow(bodyOf(frame), replacements);
      // Same bytes as building the wanted row from scratch, and it frames and parses as that row.
      assert.deepEqual(out, buildDataRow(c.want.map(toBuf)));
      const r = new BackendReader();
      r.push(out);
      assert.equal(r.next(), 0x44);
      assert.deepEqual(parseDataRow(r.body).values, c.want.map(toBuf));
    });
  }

  it('a sparse replacement array leaves holes untouched', () => {
    const replacements: (Buffer | null | undefined)[] = [];
    replacements[2] = Buffer.from('X');
    const out = rewriteDataRow(bodyOf(buildDataRow(['a', 'b', 'c', 'd'])), replacements);
    assert.deepEqual(parseDataRow(bodyOf(out)).values, ['a', 'b', 'X', 'd'].map(toBuf));
  });

  it('refuses a replacement for a column the row does not have', () => {
    assert.throws(() => rewriteDataRow(bodyOf(buildDataRow(['a'])), [undefined, Buffer.from('x')]), /column 1 of a 1-column row/);
  });

  it('refuses a malformed row', () => {
    assert.throws(() => rewriteDataRow(Buffer.from([0, 1, 0, 0, 0, 9, 1]), [null]), ProtocolError);
  });
});

describe('DataRowIndex', () => {
  it('indexes in place with the reader fields and exposes values, lengths and NULLs', () => {
    const frame = buildDataRow(['abc', null, '', 'ü']);
    const r = new BackendReader();
    r.push(frame);
    r.next();
    const ix = new DataRowIndex();
    assert.equal(ix.index(r.buffer, r.bodyStart, r.end), 4);
    assert.deepEqual([0, 1, 2, 3].map((i) => ix.length(i)), [3, -1, 0, 2]);
    assert.deepEqual([0, 1, 2, 3].map((i) => ix.isNull(i)), [false, true, false, false]);
    assert.deepEqual([0, 1, 2, 3].map((i) => ix.text(i)), ['abc', null, '', 'ü']);
    assert.equal(ix.value(0)?.buffer, frame.buffer, 'values are views');
    assert.equal(ix.start(0), 5 + 2 + 4);
    assert.throws(() => ix.value(4), RangeError);
  });

  it('is reusable across rows of different widths, growing past its initial capacity', () => {
    const ix = new DataRowIndex();
    const wide = Array.from({ length: 100 }, (_, i) => String(i));
    assert.equal(ix.index(bodyOf(buildDataRow(wide))), 100);
    assert.equal(ix.text(99), '99');
    assert.equal(ix.index(bodyOf(buildDataRow(['x']))), 1);
    assert.equal(ix.text(0), 'x');
    assert.throws(() => ix.text(1), RangeError);
  });

  const malformed: { name: string; body: number[]; error: RegExp }[] = [
    { name: 'no column count', body: [0], error: /column count runs past/ },
    { name: 'missing length', body: [0, 1, 0, 0], error: /column length runs past/ },
    { name: 'value past the end', body: [0, 1, 0, 0, 0, 2, 65], error: /column value runs past/ },
    { name: 'length -2', body: [0, 1, 0xff, 0xff, 0xff, 0xfe], error: /invalid column length -2/ },
    { name: 'trailing bytes', body: [0, 0, 1], error: /1 unexpected trailing bytes/ },
  ];
  for (const c of malformed) {
    it(`refuses a row with ${c.name}`, () => {
      assert.throws(() => new DataRowIndex().index(Buffer.from(c.body)),
        (e: unknown) => e instanceof ProtocolError && c.error.test(e.message));
    });
  }
});
