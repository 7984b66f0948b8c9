import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './queue.ts';
import { ManualClock } from './testing.ts';

test('a key added several times is queued once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.length, 0);
});

test('a key added while processing is handed out again after done, not concurrently', async () => {
  const q = new WorkQueue();
  q.add('a');
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a');
  assert.equal(q.length, 0, 'not queued while processing');
  let second: string | undefined;
  const pending = q.get().then((k) => (second = k));
  await Promise.resolve();
  assert.equal(second, undefined, 'no second worker gets the key being processed');
  q.done('a');
  await pending;
  assert.equal(second, 'a');
});

test('get waits for an add', async () => {
  const q = new WorkQueue();
  const got = q.get();
  q.add('x');
  assert.equal(await got, 'x');
  assert.equal(q.processing, 1);
});

test('rate-limited retries back off exponentially up to the cap, forget resets', () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000, clock });
  const delays = [1, 2, 3, 4, 5, 6].map(() => {
    const d = q.addRateLimited('k');
    clock.advance(d);
    return d;
  });
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  assert.equal(q.failures('k'), 6);
  q.forget('k');
  assert.equal(q.failures('k'), 0);
  assert.equal(q.addRateLimited('k'), 100);
});

test('a retry is not queued before its delay, and an explicit add supersedes it', async () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ baseDelayMs: 100, clock });
  q.addRateLimited('k');
  assert.equal(q.length, 0);
  clock.advance(99);
  assert.equal(q.length, 0);
  clock.advance(1);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'k');
  q.done('k');

  q.addRateLimited('k');
  q.add('k');
  assert.equal(q.length, 1);
  assert.deepEqual(clock.pending(), [], 'the pending retry was cancelled');
});

test('shutDown resolves waiting getters, drops queued work and waits for running work to finish', async () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ clock });
  q.add('running');
  assert.equal(await q.get(), 'running');
  q.add('queued');
  q.addAfter('later', 1000);
  let drained = false;
  const shut = q.shutDown().then(() => (drained = true));
  assert.equal(await q.get(), undefined);
  assert.equal(q.length, 0);
  assert.deepEqual(clock.pending(), []);
  await Promise.resolve();
  assert.equal(drained, false, 'a reconcile is still running');
  q.add('after-shutdown');
  assert.equal(q.length, 0);
  q.done('running');
  await shut;
  assert.equal(drained, true);
});

test('a waiting get resolves undefined on shutDown', async () => {
  const q = new WorkQueue();
  const got = q.get();
  await q.shutDown();
  assert.equal(await got, undefined);
});
