import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { AgentPolicy, ProtectedResource } from '../../core/api/index.ts';
import { BundleCache } from '../bundles.ts';
import { MemoryStore } from '../controller/testing.ts';
import type { PodMeta } from '../controller/types.ts';
import { NS, agentPolicy, pod, protectedResource } from '../test-fixtures.ts';
import { sidecarApiRouter } from './routes.ts';
import type { ReviewResult } from './token-review.ts';

const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** Tokens are "pod:<name>:<uid>"; anything else is rejected as a review would. */
async function review(token: string): Promise<ReviewResult> {
  if (token === 'unbound') return { ok: false, status: 403, message: 'the token is not bound to a pod' };
  if (token === 'boom') throw new Error('apiserver down');
  const m = /^pod:([^:]+):(.+)$/.exec(token);
  if (!m) return { ok: false, status: 401, message: 'token not authenticated' };
  return { ok: true, identity: { namespace: NS, serviceAccount: 'default', podName: m[1]!, podUid: m[2]!, username: `system:serviceaccount:${NS}:default` } };
}

async function setup(opts: { ready?: boolean } = {}) {
  const policies = new MemoryStore<AgentPolicy>([agentPolicy('a')]);
  const resources = new MemoryStore<ProtectedResource>([protectedResource('db')]);
  const pods = new MemoryStore<PodMeta>([pod('p1', { app: 'agent' }), pod('web', { app: 'web' })]);
  const bundles = new BundleCache({ policies, resources, pods });
  const router = sidecarApiRouter({ bundles, pods, review, ready: () => opts.ready ?? true, coalesceMs: 1 });
  const app = express();
  app.use(router);
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = (token: string | undefined, query = '') =>
    fetch(`${base}/v1/bundle${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { policies, resources, pods, bundles, router, get };
}

test('an authenticated sidecar gets its pod\'s bundle with the hash as ETag', async () => {
  const h = await setup();
  const res = await h.get('pod:p1:uid-p1');
  assert.equal(res.status, 200);
  const body = (await res.json()) as { hash: string; key: string[]; resources: Array<{ name: string }> };
  const expected = h.bundles.bundleForPod(NS, 'p1');
  assert.ok(expected.ok);
  assert.equal(body.hash, expected.bundle.hash);
  assert.equal(res.headers.get('etag'), `"${expected.bundle.hash}"`);
  assert.deepEqual(body.key, ['agents/a']);
  assert.deepEqual(body.resources.map((r) => r.name), ['db']);
});

const refusals: Array<{ name: string; token: string | undefined; status: number; error: RegExp }> = [
  { name: 'no token', token: undefined, status: 401, error: /bearer token/ },
  { name: 'a rejected token', token: 'garbage', status: 401, error: /not authenticated/ },
  { name: 'a token not bound to a pod', token: 'unbound', status: 403, error: /not bound/ },
  { name: 'a pod that does not exist', token: 'pod:gone:uid-gone', status: 403, error: /does not exist/ },
  { name: 'a uid that does not match the pod', token: 'pod:p1:uid-other', status: 403, error: /not the pod the token was bound to/ },
  { name: 'a pod no policy selects', token: 'pod:web:uid-web', status: 404, error: /no AgentPolicy/ },
  { name: 'a failing TokenReview', token: 'boom', status: 503, error: /cannot verify/ },
];
for (const r of refusals) {
  test(`refused: ${r.name} → ${r.status}`, async () => {
    const h = await setup();
    const res = await h.get(r.token);
    assert.equal(res.status, r.status);
    assert.match(((await res.json()) as { error: string }).error, r.error);
  });
}

test('not synced yet → 503 with Retry-After', async () => {
  const h = await setup({ ready: false });
  const res = await h.get('pod:p1:uid-p1');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '2');
});

test('a compile failure is 503 naming the error', async () => {
  const h = await setup();
  h.policies.set(agentPolicy('a', { generation: 2, resources: ['nope'] }));
  h.bundles.touch();
  const res = await h.get('pod:p1:uid-p1');
  assert.equal(res.status, 503);
  assert.match(((await res.json()) as { error: string }).error, /ProtectedResource "nope" not found/);
});

test('long poll: an unchanged hash times out with 304; a stale one answers at once', async () => {
  const h = await setup();
  const first = (await (await h.get('pod:p1:uid-p1')).json()) as { hash: string };
  const unchanged = await h.get('pod:p1:uid-p1', `?wait=${first.hash}&timeout=50ms`);
  assert.equal(unchanged.status, 304);
  const stale = await h.get('pod:p1:uid-p1', '?wait=old&timeout=30s');
  assert.equal(stale.status, 200);
});

test('long poll: a policy edit wakes the waiting sidecar with the new bundle', async () => {
  const h = await setup();
  const first = (await (await h.get('pod:p1:uid-p1')).json()) as { hash: string };
  const waiting = h.get('pod:p1:uid-p1', `?wait=${first.hash}&timeout=30s`);
  // The request is held: wait until the router has registered it, then change the policy.
  while (h.router.waiting() === 0) await new Promise((r) => setImmediate(r));
  h.policies.set(agentPolicy('a', { generation: 2, rules: [{ name: 'w', action: 'allow', sql: { statements: ['insert'] } }] }));
  h.bundles.touch();
  const res = await waiting;
  assert.equal(res.status, 200);
  const body = (await res.json()) as { hash: string; resources: Array<{ rules: Array<{ name: string }> }> };
  assert.notEqual(body.hash, first.hash);
  assert.deepEqual(body.resources[0]!.rules.map((r) => r.name), ['w']);
  assert.equal(h.router.waiting(), 0);
});

test('long poll: the pod being deleted answers the waiter with 403', async () => {
  const h = await setup();
  const first = (await (await h.get('pod:p1:uid-p1')).json()) as { hash: string };
  const waiting = h.get('pod:p1:uid-p1', `?wait=${first.hash}&timeout=30s`);
  while (h.router.waiting() === 0) await new Promise((r) => setImmediate(r));
  h.pods.delete(NS, 'p1');
  h.bundles.touch();
  assert.equal((await waiting).status, 403);
});

test('an invalid timeout is 400', async () => {
  const h = await setup();
  const res = await h.get('pod:p1:uid-p1', '?wait=x&timeout=forever');
  assert.equal(res.status, 400);
});

test('close answers every waiter', async () => {
  const h = await setup();
  const first = (await (await h.get('pod:p1:uid-p1')).json()) as { hash: string };
  const waiting = h.get('pod:p1:uid-p1', `?wait=${first.hash}&timeout=60s`);
  while (h.router.waiting() === 0) await new Promise((r) => setImmediate(r));
  h.router.close();
  assert.equal((await waiting).status, 304);
});
