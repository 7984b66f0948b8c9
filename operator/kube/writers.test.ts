import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeApi, KubeResponse, RequestOptions } from './rest.ts';
import { buildPath } from './rest.ts';
import { kubeStatusWriter } from './status-writer.ts';
import { EventRecorder } from './events.ts';
import { podMetaOf, secretKeysOf } from '../controller/informer.ts';

interface Call { method: string; path: string; opts: RequestOptions | undefined }
function fakeApi(answer: (c: Call) => KubeResponse): KubeApi & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async request<T>(method: string, path: string, opts?: RequestOptions): Promise<KubeResponse<T>> {
      const c = { method, path, opts };
      calls.push(c);
      return answer(c) as KubeResponse<T>;
    },
  };
}

test('status is a merge patch of the status subresource, conditional on the resourceVersion, under our field manager', async () => {
  const api = fakeApi(() => ({ status: 200, body: {} }));
  const w = kubeStatusWriter(api, 'portcullis-operator-a');
  assert.equal(await w.write('agentpolicies', { name: 'p', namespace: 'ns', resourceVersion: '42' }, { observedGeneration: 3 }), true);
  const c = api.calls[0]!;
  assert.equal(c.method, 'PATCH');
  assert.equal(c.path, '/apis/portcullis.dev/v1alpha1/namespaces/ns/agentpolicies/p/status');
  assert.equal(c.opts?.contentType, 'application/merge-patch+json');
  assert.deepEqual(c.opts?.query, { fieldManager: 'portcullis-operator-a' });
  assert.deepEqual(c.opts?.body, { metadata: { resourceVersion: '42' }, status: { observedGeneration: 3 } });
});

test('status write: gone → false, conflict → a KubeError with status 409', async () => {
  assert.equal(await kubeStatusWriter(fakeApi(() => ({ status: 404, body: {} }))).write('x', { name: 'a', namespace: 'n' }, {}), false);
  await assert.rejects(
    kubeStatusWriter(fakeApi(() => ({ status: 409, body: { message: 'the object has been modified' } }))).write('x', { name: 'a', namespace: 'n' }, {}),
    (e: Error & { status?: number }) => e.status === 409 && /modified/.test(e.message),
  );
});

test('events: the first is created, repeats are folded into its count, another message is a new event', async () => {
  let n = 0;
  const api = fakeApi((c) => (c.method === 'POST' ? { status: 201, body: { metadata: { name: `ev-${++n}` } } } : { status: 200, body: {} }));
  const rec = new EventRecorder({ api, component: 'portcullis-operator', instance: 'op-a', now: () => new Date('2026-01-01T00:00:00Z') });
  const ref = { apiVersion: 'portcullis.dev/v1alpha1', kind: 'ProtectedResource', namespace: 'ns', name: 'db', uid: 'u1' };
  rec.emit(ref, 'Warning', 'SecretNotFound', 'credentials Secret s not found');
  rec.emit(ref, 'Warning', 'SecretNotFound', 'credentials Secret s not found');
  rec.emit(ref, 'Warning', 'SecretKeyMissing', 'lacks password');
  await rec.flush();
  assert.deepEqual(api.calls.map((c) => `${c.method} ${c.path}`), [
    'POST /api/v1/namespaces/ns/events',
    'PATCH /api/v1/namespaces/ns/events/ev-1',
    'POST /api/v1/namespaces/ns/events',
  ]);
  const first = api.calls[0]!.opts?.body as Record<string, unknown>;
  assert.deepEqual(first.involvedObject, { apiVersion: 'portcullis.dev/v1alpha1', kind: 'ProtectedResource', namespace: 'ns', name: 'db', uid: 'u1' });
  assert.equal(first.type, 'Warning');
  assert.equal(first.reportingInstance, 'op-a');
  assert.deepEqual(api.calls[1]!.opts?.body, { count: 2, lastTimestamp: '2026-01-01T00:00:00.000Z' });
});

test('a failed event write is reported, never thrown', async () => {
  const errors: string[] = [];
  const rec = new EventRecorder({ api: fakeApi(() => ({ status: 403, body: {} })), component: 'c', instance: 'i', onError: (e) => errors.push(e.message) });
  rec.emit({ apiVersion: 'v1', kind: 'X', namespace: 'n', name: 'x' }, 'Normal', 'R', 'm');
  await rec.flush();
  assert.match(errors[0]!, /403/);
});

test('cached Secrets keep key names only; cached Pods keep metadata and phase', () => {
  const s = secretKeysOf({ metadata: { name: 's', namespace: 'n', resourceVersion: '1', annotations: { a: 'b' } }, data: { password: 'c2VjcmV0', username: 'dQ==' }, stringData: { extra: 'x' } });
  assert.deepEqual(s, { metadata: { name: 's', namespace: 'n', resourceVersion: '1' }, keys: ['extra', 'password', 'username'] });
  assert.ok(!JSON.stringify(s).includes('c2VjcmV0'));
  const p = podMetaOf({ metadata: { name: 'p', namespace: 'n', uid: 'u', labels: { app: 'a' }, managedFields: [{}] }, spec: { containers: [] }, status: { phase: 'Running' } });
  assert.deepEqual(p, { metadata: { name: 'p', namespace: 'n', uid: 'u', labels: { app: 'a' } }, phase: 'Running' });
});

test('buildPath encodes query parameters and skips undefined ones', () => {
  assert.equal(buildPath('/x', { a: '1 2', b: undefined }), '/x?a=1+2');
  assert.equal(buildPath('/x', {}), '/x');
});
