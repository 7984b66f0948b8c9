import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescingWriter } from './coalescing-writer.ts';

test('adjacent views of one chunk leave as one write; the bytes and their order are kept', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const chunk = Buffer.from('aaabbbbcc');
  w.add(chunk.subarray(0, 3));
  w.add(chunk.subarray(3, 7));
  w.add(Buffer.from('XY')); // a rewritten message breaks the run
  w.add(chunk.subarray(7, 9));
  w.flush();
  assert.deepEqual(writes.map((b) => b.toString()), ['aaabbbb', 'XY', 'cc']);
});

test('a gap (a swallowed message) breaks the run', () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  const chunk = Buffer.from('aaaSKIPbbb');
  w.add(chunk.subarray(0, 3));
  w.add(chunk.subarray(7, 10));
  w.flush();
  assert.deepEqual(writes.map((b) => b.toString()), ['aaa', 'bbb']);
});

test('nothing is left behind without an explicit flush', async () => {
  const writes: Buffer[] = [];
  const w = new CoalescingWriter((b) => writes.push(b));
  w.add(Buffer.from('late'));
  await Promise.resolve();
  assert.deepEqual(writes.map((b) => b.toString()), ['late']);
});
