import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescingWriter } from './coalescing-writer.ts';

test('adjacent views of one chunk and rewritten messages leave as one write; the bytes and their order are kept', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const chunk = Buffer.from('aaabbbbcc');
  w.addRange(chunk, 0, 3);
  w.addRange(chunk, 3, 7);
  w.add(Buffer.from('XY')); // a rewritten message breaks the run
  w.addRange(chunk, 7, 9);
  w.flush();
  assert.deepEqual(writes.map((b) => b.toString()), ['aaabbbbXYcc']);
});

test('a gap (a swallowed message) breaks the run', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const chunk = Buffer.from('aaaSKIPbbb');
  w.addRange(chunk, 0, 3);
  w.addRange(chunk, 7, 10);
  w.flush();
  assert.deepEqual(writes.map((b) => b.toString()), ['aaabbb']);
});

test('nothing is left behind without an explicit flush', async () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  w.add(Buffer.from('late'));
  await Promise.resolve();
  assert.deepEqual(writes.map((b) => b.toString()), ['late']);
});

test('runs gathered while held leave as one write at the last release, in order', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const chunk = Buffer.from('aaaSKIPbbb');
  w.hold();
  w.addRange(chunk, 0, 3);
  w.hold(); // a nested read loop
  w.add(Buffer.from('XY'));
  w.release();
  assert.equal(writes.length, 0, 'nothing is written while an outer holder is still adding');
  w.addRange(chunk, 7, 10);
  w.release();
  assert.deepEqual(writes.map((b) => b.toString()), ['aaaXYbbb']);
});

test('a run covering a whole chunk is written as that chunk (no copy, no view)', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const chunk = Buffer.from('abcdef');
  w.hold();
  w.addRange(chunk, 0, 2);
  w.addRange(chunk, 2, 6);
  w.release();
  assert.equal(writes.length, 1);
  assert.equal(writes[0], chunk);
  w.addRange(chunk, 1, 4);
  w.flush();
  assert.equal(writes[1]!.toString(), 'bcd');
  assert.equal(writes[1]!.buffer, chunk.buffer, 'a part of a chunk is a view of it');
});

test('while held, nothing is flushed by a microtask', async () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  w.hold();
  w.add(Buffer.from('held'));
  await Promise.resolve();
  assert.equal(writes.length, 0);
  w.release();
  assert.deepEqual(writes.map((b) => b.toString()), ['held']);
});

test('large gathered output is written run by run rather than copied', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const big = Buffer.alloc(200 * 1024, 1);
  w.hold();
  w.add(big);
  w.add(Buffer.alloc(100 * 1024, 2));
  w.release();
  assert.deepEqual(writes.map((b) => b.length), [200 * 1024, 100 * 1024]);
  assert.equal(writes[0], big);
});
