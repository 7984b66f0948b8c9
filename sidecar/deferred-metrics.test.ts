import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { DeferredCounts, DeferredHistogram } from './deferred-metrics.ts';

test('a deferred histogram is exposed exactly as prom-client exposes the same observations', async () => {
  const buckets = [1e-6, 5e-6, 2e-5, 1e-3];
  const ours = new Registry();
  const theirs = new Registry();
  const d = new DeferredHistogram({ name: 'x_seconds', help: 'help text', labelNames: ['resource'], buckets, registry: ours });
  const h = new Histogram({ name: 'x_seconds', help: 'help text', labelNames: ['resource'], buckets, registers: [theirs] });
  const values = [0, 1e-6, 1.5e-6, 5e-6, 3e-5, 2, 1e-7, 7e-4];
  for (const [i, v] of values.entries()) {
    const resource = i % 3 === 0 ? 'db' : 'api';
    d.labels({ resource }).observe(v);
    h.observe({ resource }, v);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  ours.resetMetrics();
  theirs.resetMetrics();
  d.labels({ resource: 'db' }).observe(2e-6);
  h.observe({ resource: 'db' }, 2e-6);
  // prom-client forgets label sets on reset; ours keeps them at zero. Compare the series that carry data.
  const data = (t: string) => t.split('\n').filter((l) => l.includes('resource="db"'));
  assert.deepEqual(data(await ours.metrics()), data(await theirs.metrics()));
});

test('a missing label is an error when binding, not a silent series', () => {
  const d = new DeferredHistogram({ name: 'y_seconds', help: 'h', labelNames: ['resource'], buckets: [1], registry: new Registry() });
  assert.throws(() => d.labels({}), /label resource missing/);
});

test('deferred counts reach the counter at each scrape, once', async () => {
  const r = new Registry();
  const counts = new DeferredCounts();
  new Counter({ name: 'z_total', help: 'h', labelNames: ['a'], registers: [r], collect() { counts.flushInto(this); } });
  const one = counts.cell({ a: '1' });
  one.inc();
  one.inc();
  assert.match(await r.metrics(), /z_total\{a="1"\} 2/);
  assert.match(await r.metrics(), /z_total\{a="1"\} 2/);
  one.inc();
  assert.match(await r.metrics(), /z_total\{a="1"\} 3/);
});
