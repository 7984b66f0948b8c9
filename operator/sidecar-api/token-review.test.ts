import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpretReview, TokenReviewer } from './token-review.ts';
import type { KubeApi, KubeResponse, RequestOptions } from '../kube/rest.ts';

const bound = {
  authenticated: true,
  audiences: ['portcullis-sidecar'],
  user: {
    username: 'system:serviceaccount:agents:runner',
    extra: { 'authentication.kubernetes.io/pod-name': ['p1'], 'authentication.kubernetes.io/pod-uid': ['u1'] },
  },
};

const cases = [
  { name: 'a pod-bound service-account token', status: bound, ok: true },
  { name: 'not authenticated', status: { authenticated: false, error: 'invalid' }, code: 401 },
  { name: 'another audience', status: { ...bound, audiences: ['api'] }, code: 401 },
  { name: 'no audiences reported', status: { ...bound, audiences: undefined }, code: 401 },
  { name: 'a user, not a service account', status: { ...bound, user: { username: 'alice' } }, code: 403 },
  { name: 'a service account without pod binding', status: { ...bound, user: { username: 'system:serviceaccount:agents:runner' } }, code: 403 },
  { name: 'bound to a pod name but no uid', status: { ...bound, user: { ...bound.user, extra: { 'authentication.kubernetes.io/pod-name': ['p1'] } } }, code: 403 },
  { name: 'a malformed service-account name', status: { ...bound, user: { ...bound.user, username: 'system:serviceaccount:agents' } }, code: 403 },
];
for (const c of cases) {
  test(`interpretReview: ${c.name}`, () => {
    const r = interpretReview(c.status, 'portcullis-sidecar');
    if (c.ok) {
      assert.ok(r.ok);
      assert.deepEqual(r.identity, { namespace: 'agents', serviceAccount: 'runner', podName: 'p1', podUid: 'u1', username: 'system:serviceaccount:agents:runner' });
    } else {
      assert.ok(!r.ok);
      assert.equal(r.status, c.code);
    }
  });
}

function fakeApi(): KubeApi & { bodies: unknown[]; fail: boolean } {
  const api = {
    bodies: [] as unknown[],
    fail: false,
    async request<T>(_m: string, path: string, opts?: RequestOptions): Promise<KubeResponse<T>> {
      assert.equal(path, '/apis/authentication.k8s.io/v1/tokenreviews');
      api.bodies.push(opts?.body);
      if (api.fail) return { status: 500, body: {} as T };
      const token = (opts?.body as { spec: { token: string } }).spec.token;
      return { status: 201, body: { status: token === 'good' ? bound : { authenticated: false } } as T };
    },
  };
  return api;
}

test('reviews ask for the sidecar audience, are cached by token hash for the TTL, shorter for rejections', async () => {
  const api = fakeApi();
  let now = 0;
  const r = new TokenReviewer({ api, ttlMs: 1000, negativeTtlMs: 100, now: () => now });
  assert.ok((await r.review('good')).ok);
  assert.deepEqual((api.bodies[0] as { spec: unknown }).spec, { token: 'good', audiences: ['portcullis-sidecar'] });
  await r.review('good');
  assert.equal(api.bodies.length, 1);
  assert.equal((await r.review('bad')).ok, false);
  now = 150;
  await r.review('bad');
  await r.review('good');
  assert.equal(api.bodies.length, 3, 'the rejection expired, the acceptance did not');
  now = 1200;
  await r.review('good');
  assert.equal(api.bodies.length, 4);
});

test('concurrent reviews of one token make one call; API errors are thrown and not cached', async () => {
  const api = fakeApi();
  const r = new TokenReviewer({ api });
  await Promise.all([r.review('good'), r.review('good'), r.review('good')]);
  assert.equal(api.bodies.length, 1);
  api.fail = true;
  await assert.rejects(r.review('other'), /TokenReview failed: 500/);
  api.fail = false;
  assert.equal((await r.review('other')).ok, false);
  assert.equal(api.bodies.length, 3);
});
