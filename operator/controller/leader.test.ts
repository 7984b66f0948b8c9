import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector } from './leader.ts';
import { ManualClock } from './testing.ts';
import type { KubeApi, KubeResponse, RequestOptions } from '../kube/rest.ts';

/** An in-memory Lease endpoint with the API server's optimistic concurrency (resourceVersion compare-and-swap). */
class FakeLeases implements KubeApi {
  lease: { metadata: Record<string, unknown>; spec: Record<string, unknown> } | undefined;
  rv = 0;
  down = false;
  writes = 0;
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<KubeResponse<T>> {
    if (this.down) throw new Error('connection refused');
    const r = <U>(status: number, body: U) => ({ status, body: body as unknown as T });
    if (method === 'GET') return this.lease ? r(200, structuredClone(this.lease)) : r(404, {});
    const body = structuredClone(opts.body) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    if (method === 'POST') {
      assert.match(path, /\/leases$/);
      if (this.lease) return r(409, {});
      this.writes++;
      this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
      return r(201, this.lease);
    }
    if (method === 'PUT') {
      if (!this.lease || body.metadata.resourceVersion !== this.lease.metadata.resourceVersion) return r(409, {});
      this.writes++;
      this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
      return r(200, this.lease);
    }
    throw new Error(`unexpected ${method}`);
  }
}

function elector(api: KubeApi, clock: ManualClock, identity: string, log: string[]) {
  return new LeaderElector({
    api, clock, identity, namespace: 'portcullis', name: 'portcullis-operator',
    leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

test('the first replica creates the Lease and leads; the second does not', async () => {
  const api = new FakeLeases();
  const clock = new ManualClock();
  const log: string[] = [];
  const a = elector(api, clock, 'a', log);
  const b = elector(api, clock, 'b', log);
  assert.equal(await a.tryAcquireOrRenew(), true);
  assert.equal(await b.tryAcquireOrRenew(), false);
  assert.equal(b.leader, 'a');
  assert.equal(api.lease!.spec.holderIdentity, 'a');
  assert.equal(api.lease!.spec.leaseDurationSeconds, 15);
  assert.deepEqual(log, ['a started']);
});

test('a renewing leader keeps the Lease; a dead one is taken over only after a full lease duration of silence', async () => {
  const api = new FakeLeases();
  const clock = new ManualClock();
  const log: string[] = [];
  const a = elector(api, clock, 'a', log);
  const b = elector(api, clock, 'b', log);
  await a.tryAcquireOrRenew();
  for (let i = 0; i < 20; i++) {
    clock.advance(2000);
    assert.equal(await a.tryAcquireOrRenew(), true);
    assert.equal(await b.tryAcquireOrRenew(), false, 'never taken while renewed');
  }
  // a dies (kill -9): no more renewals.
  await b.tryAcquireOrRenew();
  clock.advance(14_000);
  assert.equal(await b.tryAcquireOrRenew(), false, 'not before the lease duration has passed since b saw it change');
  clock.advance(1_000);
  assert.equal(await b.tryAcquireOrRenew(), true);
  assert.equal(api.lease!.spec.holderIdentity, 'b');
  assert.equal(api.lease!.spec.leaseTransitions, 1);
  assert.deepEqual(log, ['a started', 'b started']);
});

test('two replicas racing for an expired Lease: exactly one wins the compare-and-swap', async () => {
  const api = new FakeLeases();
  const clock = new ManualClock();
  const log: string[] = [];
  const gone = elector(api, clock, 'gone', log);
  await gone.tryAcquireOrRenew();
  const b = elector(api, clock, 'b', log);
  const c = elector(api, clock, 'c', log);
  await b.tryAcquireOrRenew();
  await c.tryAcquireOrRenew();
  clock.advance(16_000);
  const results = await Promise.all([b.tryAcquireOrRenew(), c.tryAcquireOrRenew()]);
  assert.deepEqual(results.filter(Boolean).length, 1);
});

test('a leader that cannot renew steps down at the renew deadline, before the lease expires for others', async () => {
  const api = new FakeLeases();
  const clock = new ManualClock();
  const log: string[] = [];
  const a = elector(api, clock, 'a', log);
  await a.tryAcquireOrRenew();
  api.down = true;
  clock.advance(8_000);
  assert.equal(await a.tryAcquireOrRenew(), true, 'still within the renew deadline');
  clock.advance(2_000);
  assert.equal(await a.tryAcquireOrRenew(), false);
  assert.deepEqual(log, ['a started', 'a stopped']);
});

test('stop releases the Lease so the next replica takes over without waiting', async () => {
  const api = new FakeLeases();
  const clock = new ManualClock();
  const log: string[] = [];
  const a = elector(api, clock, 'a', log);
  const b = elector(api, clock, 'b', log);
  await a.tryAcquireOrRenew();
  await b.tryAcquireOrRenew();
  await a.stop();
  assert.equal(api.lease!.spec.holderIdentity, '');
  assert.equal(await b.tryAcquireOrRenew(), true);
  assert.deepEqual(log, ['a started', 'a stopped', 'b started']);
});

test('the loop renews every retry period on the clock', async () => {
  const api = new FakeLeases();
  const clock = new ManualClock();
  const a = elector(api, clock, 'a', []);
  a.start();
  // Each attempt is two awaited requests; let them settle before moving the clock.
  const settle = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };
  await settle();
  assert.equal(api.writes, 1);
  for (let i = 0; i < 3; i++) {
    clock.advance(2000);
    await settle();
  }
  assert.equal(api.writes, 4);
  await a.stop();
  clock.advance(10_000);
  await settle();
  assert.equal(api.writes, 5, 'one release, then nothing');
});

test('options are checked', () => {
  assert.throws(() => new LeaderElector({ api: new FakeLeases(), namespace: 'n', name: 'l', identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /renew deadline/);
});
