import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProtectedResource } from '../../core/api/index.ts';
import { evaluateProtectedResource, ProtectedResourceReconciler } from './protected-resource.ts';
import { MemoryStore, RecordingEvents, RecordingStatusWriter } from './testing.ts';
import type { SecretKeys } from './types.ts';

function pr(spec: Partial<ProtectedResource['spec']> & Pick<ProtectedResource['spec'], 'protocol'>, generation = 1): ProtectedResource {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'ProtectedResource',
    metadata: { name: 'db', namespace: 'agents', generation, uid: 'u1', resourceVersion: '1' },
    spec: { endpoint: { host: 'db.example', port: 5432 }, credentials: { secretRef: { name: 'creds' } }, ...spec },
  };
}
const secret = (name: string, ...keys: string[]): SecretKeys => ({ metadata: { name, namespace: 'agents' }, keys });

const cases: Array<{ name: string; resource: ProtectedResource; secrets: SecretKeys[]; status: string; reason: string; message?: RegExp }> = [
  { name: 'postgres with username+password', resource: pr({ protocol: 'postgres' }), secrets: [secret('creds', 'username', 'password')], status: 'True', reason: 'Valid' },
  { name: 'postgres secret missing', resource: pr({ protocol: 'postgres' }), secrets: [], status: 'False', reason: 'SecretNotFound', message: /creds not found/ },
  { name: 'postgres password key missing', resource: pr({ protocol: 'postgres' }), secrets: [secret('creds', 'username')], status: 'False', reason: 'SecretKeyMissing', message: /lacks key\(s\) password/ },
  { name: 'mysql needs username and password', resource: pr({ protocol: 'mysql' }), secrets: [secret('creds', 'password')], status: 'False', reason: 'SecretKeyMissing', message: /username/ },
  { name: 'kubernetes token', resource: pr({ protocol: 'kubernetes', endpoint: { url: 'https://k8s.example' } }), secrets: [secret('creds', 'token')], status: 'True', reason: 'Valid' },
  { name: 'kubernetes without token', resource: pr({ protocol: 'kubernetes', endpoint: { url: 'https://k8s.example' } }), secrets: [secret('creds', 'username')], status: 'False', reason: 'SecretKeyMissing', message: /token/ },
  { name: 'http header+value', resource: pr({ protocol: 'http', endpoint: { url: 'https://api.example' } }), secrets: [secret('creds', 'header', 'value')], status: 'True', reason: 'Valid' },
  { name: 'http header without value', resource: pr({ protocol: 'http', endpoint: { url: 'https://api.example' } }), secrets: [secret('creds', 'header')], status: 'False', reason: 'SecretKeyMissing', message: /value.*or token/ },
  { name: 'http without credentials', resource: pr({ protocol: 'http', endpoint: { url: 'http://api.example' }, credentials: undefined }), secrets: [], status: 'True', reason: 'Valid' },
  { name: 'ssh needs three keys', resource: pr({ protocol: 'ssh', endpoint: { host: 'h', port: 22 } }), secrets: [secret('creds', 'username', 'privateKey')], status: 'False', reason: 'SecretKeyMissing', message: /knownHosts/ },
  { name: 'postgres without credentials', resource: pr({ protocol: 'postgres', credentials: undefined }), secrets: [], status: 'False', reason: 'CredentialsRequired' },
  { name: 'postgres without port', resource: pr({ protocol: 'postgres', endpoint: { host: 'h' } }), secrets: [secret('creds', 'username', 'password')], status: 'False', reason: 'InvalidEndpoint', message: /port/ },
  { name: 'http url not a URL', resource: pr({ protocol: 'http', endpoint: { url: 'not a url' } }), secrets: [], status: 'False', reason: 'InvalidEndpoint' },
  { name: 'http url with credentials', resource: pr({ protocol: 'http', endpoint: { url: 'https://u:p@api.example' } }), secrets: [], status: 'False', reason: 'InvalidEndpoint', message: /credentials/ },
  { name: 'verify-full needs a CA', resource: pr({ protocol: 'postgres', endpoint: { host: 'h', port: 5432, tls: { mode: 'verify-full' } } }), secrets: [secret('creds', 'username', 'password')], status: 'False', reason: 'InvalidEndpoint', message: /caSecretRef/ },
  { name: 'CA secret missing', resource: pr({ protocol: 'postgres', endpoint: { host: 'h', port: 5432, tls: { mode: 'verify-full', caSecretRef: { name: 'ca' } } } }), secrets: [secret('creds', 'username', 'password')], status: 'False', reason: 'SecretNotFound', message: /CA Secret ca/ },
  { name: 'CA secret without ca.crt', resource: pr({ protocol: 'postgres', endpoint: { host: 'h', port: 5432, tls: { mode: 'verify-full', caSecretRef: { name: 'ca' } } } }), secrets: [secret('creds', 'username', 'password'), secret('ca', 'tls.crt')], status: 'False', reason: 'SecretKeyMissing', message: /ca\.crt/ },
  { name: 'CA secret with its named key', resource: pr({ protocol: 'postgres', endpoint: { host: 'h', port: 5432, tls: { mode: 'verify-full', caSecretRef: { name: 'ca', key: 'root.pem' } } } }), secrets: [secret('creds', 'username', 'password'), secret('ca', 'root.pem')], status: 'True', reason: 'Valid' },
  { name: 'unknown protocol', resource: pr({ protocol: 'gopher' as 'http' }), secrets: [], status: 'False', reason: 'InvalidEndpoint', message: /unknown protocol/ },
];

for (const c of cases) {
  test(`Ready: ${c.name} → ${c.status}/${c.reason}`, () => {
    const byName = new Map(c.secrets.map((s) => [s.metadata.name, s]));
    const got = evaluateProtectedResource(c.resource, (n) => byName.get(n));
    assert.equal(got.type, 'Ready');
    assert.equal(got.status, c.status);
    assert.equal(got.reason, c.reason);
    if (c.message) assert.match(got.message, c.message);
  });
}

function harness(resource: ProtectedResource, secrets: SecretKeys[]) {
  const resources = new MemoryStore<ProtectedResource>([resource]);
  const secretStore = new MemoryStore<SecretKeys>(secrets);
  const status = new RecordingStatusWriter((_p, name, ns, st) => {
    const cur = resources.get(ns, name)!;
    resources.set({ ...cur, status: structuredClone(st) as ProtectedResource['status'] });
  });
  const events = new RecordingEvents();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const reconciler = new ProtectedResourceReconciler({ resources, secrets: secretStore, status, events, now: () => new Date(clock) });
  return { resources, secretStore, status, events, reconciler, tick: (ms: number) => (clock += ms) };
}

test('reconcile writes Ready with observedGeneration once, and nothing when nothing changed', async () => {
  const h = harness(pr({ protocol: 'postgres' }, 3), [secret('creds', 'username', 'password')]);
  await h.reconciler.reconcile('agents/db');
  await h.reconciler.reconcile('agents/db');
  assert.equal(h.status.writes.length, 1);
  const st = h.status.writes[0]!.status as { observedGeneration: number; conditions: Array<Record<string, unknown>> };
  assert.equal(st.observedGeneration, 3);
  assert.deepEqual(st.conditions, [{
    type: 'Ready', status: 'True', reason: 'Valid', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z',
    message: 'credentials Secret creds holds the keys protocol postgres needs',
  }]);
  assert.deepEqual(h.events.events.map((e) => `${e.type}/${e.reason}`), ['Normal/Valid']);
});

test('secret deleted → Ready=False SecretNotFound, a Warning event, a new transition time', async () => {
  const h = harness(pr({ protocol: 'postgres' }), [secret('creds', 'username', 'password')]);
  await h.reconciler.reconcile('agents/db');
  h.secretStore.delete('agents', 'creds');
  h.tick(60_000);
  await h.reconciler.reconcile('agents/db');
  const ready = h.resources.get('agents', 'db')!.status!.conditions![0]!;
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'SecretNotFound');
  assert.equal(ready.lastTransitionTime, '2026-01-01T00:01:00Z');
  assert.deepEqual(h.events.events.map((e) => `${e.type}/${e.reason}`), ['Normal/Valid', 'Warning/SecretNotFound']);
});

test('a generation bump alone updates observedGeneration but keeps the transition time and emits no event', async () => {
  const h = harness(pr({ protocol: 'postgres' }, 1), [secret('creds', 'username', 'password')]);
  await h.reconciler.reconcile('agents/db');
  const cur = h.resources.get('agents', 'db')!;
  h.resources.set({ ...cur, metadata: { ...cur.metadata, generation: 2 } });
  h.tick(5000);
  await h.reconciler.reconcile('agents/db');
  assert.equal(h.status.writes.length, 2);
  const ready = h.resources.get('agents', 'db')!.status!.conditions![0]!;
  assert.equal(ready.observedGeneration, 2);
  assert.equal(ready.lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(h.events.events.length, 1);
});

test('a deleted resource is not written', async () => {
  const h = harness(pr({ protocol: 'postgres' }), []);
  h.resources.delete('agents', 'db');
  await h.reconciler.reconcile('agents/db');
  assert.equal(h.status.writes.length, 0);
});
