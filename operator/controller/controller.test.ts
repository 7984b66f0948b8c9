import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Controller } from './controller.ts';
import { ManualClock } from './testing.ts';

const log = pino({ level: 'silent' });

/** Resolves once `n` reconciles have finished. */
function counter() {
  const seen: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    seen,
    record(key: string) {
      seen.push(key);
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
    },
    until(n: number) {
      return seen.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
  };
}

test('a leadership term reconciles every known key; enqueue outside a term does nothing', async () => {
  const c = counter();
  const ctl = new Controller({ name: 't', log, keys: () => ['ns/a', 'ns/b'], reconciler: { reconcile: async (k) => c.record(k) } });
  ctl.enqueue('ns/x');
  assert.equal(ctl.active, false);
  ctl.start();
  await c.until(2);
  assert.deepEqual([...c.seen].sort(), ['ns/a', 'ns/b']);
  ctl.enqueue('ns/c');
  await c.until(3);
  await ctl.stop();
  assert.equal(ctl.active, false);
  ctl.enqueue('ns/d');
  assert.deepEqual([...c.seen].sort(), ['ns/a', 'ns/b', 'ns/c']);
});

test('a failing reconcile is retried after its back-off until it succeeds', async () => {
  const clock = new ManualClock();
  const c = counter();
  let failuresLeft = 2;
  const ctl = new Controller({
    name: 't', log, keys: () => ['ns/a'], queue: { baseDelayMs: 100, clock },
    reconciler: {
      reconcile: async (k) => {
        c.record(k);
        if (failuresLeft-- > 0) throw new Error('boom');
      },
    },
  });
  ctl.start();
  await c.until(1);
  // Let the worker put the key back with its delay before moving the clock.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(clock.pending(), [100]);
  clock.advance(100);
  await c.until(2);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(clock.pending(), [200]);
  clock.advance(200);
  await c.until(3);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(clock.pending(), [], 'succeeded: no more retries');
  await ctl.stop();
});

test('stop waits for the running reconcile to finish', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  let finished = false;
  const ctl = new Controller({
    name: 't', log, keys: () => ['ns/a'],
    reconciler: { reconcile: async () => { started(); await gate; finished = true; } },
  });
  ctl.start();
  await running;
  const stopped = ctl.stop();
  release();
  await stopped;
  assert.equal(finished, true);
});
