import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentPolicy, AgentPolicyStatus, ProtectedResource } from '../../core/api/index.ts';
import { BundleCache } from '../bundles.ts';
import { NS, agentPolicy, pod, protectedResource } from '../test-fixtures.ts';
import { AgentPolicyReconciler } from './agent-policy.ts';
import { MemoryStore, RecordingEvents, RecordingStatusWriter } from './testing.ts';
import type { PodMeta, SecretKeys } from './types.ts';

function harness(opts: { issuerKnown?: boolean } = {}) {
  const policies = new MemoryStore<AgentPolicy>([agentPolicy('a')]);
  const resources = new MemoryStore<ProtectedResource>([protectedResource('db'), protectedResource('cache')]);
  const secrets = new MemoryStore<SecretKeys>([
    { metadata: { name: 'db-creds', namespace: NS }, keys: ['password', 'username'] },
    { metadata: { name: 'cache-creds', namespace: NS }, keys: ['password', 'username'] },
  ]);
  const pods = new MemoryStore<PodMeta>([pod('p1', { app: 'agent' }), pod('p2', { app: 'agent' }), pod('web', { app: 'web' })]);
  const bundles = new BundleCache({ policies, resources, pods });
  const status = new RecordingStatusWriter((_p, name, ns, st) => {
    const cur = policies.get(ns, name)!;
    const clean = JSON.parse(JSON.stringify(st, (_k, v: unknown) => (v === null ? undefined : v))) as AgentPolicyStatus;
    policies.set({ ...cur, status: clean });
  });
  const events = new RecordingEvents();
  const issuer = 'https://kubernetes.default.svc';
  if (opts.issuerKnown !== false) bundles.setJwks({ [issuer]: { keys: [] } });
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const reconciler = new AgentPolicyReconciler({
    policies, resources, secrets, pods, bundles, status, events, clusterIssuer: () => issuer, now: () => new Date(clock),
  });
  const statusOf = (name = 'a') => policies.get(NS, name)!.status!;
  const cond = (type: string, name = 'a') => statusOf(name).conditions!.find((c) => c.type === type)!;
  const bump = (p: AgentPolicy) => {
    policies.set({ ...p, status: policies.get(NS, p.metadata.name)?.status });
    bundles.touch();
  };
  return { policies, resources, secrets, pods, bundles, status, events, reconciler, statusOf, cond, bump, tick: (ms: number) => (clock += ms) };
}

test('a valid policy: Compiled and Ready True, bundleHash, selectedPods, observedGeneration', async () => {
  const h = harness();
  await h.reconciler.reconcile(`${NS}/a`);
  const st = h.statusOf();
  assert.equal(st.observedGeneration, 1);
  assert.equal(st.selectedPods, 2);
  assert.deepEqual(st.restartRequired, []);
  const b = h.bundles.bundleFor(NS, ['a']);
  assert.ok(b.ok);
  assert.equal(st.bundleHash, b.bundle.hash);
  assert.equal(h.cond('Compiled').status, 'True');
  assert.equal(h.cond('Ready').status, 'True');
  assert.equal(h.cond('Ready').observedGeneration, 1);
  await h.reconciler.reconcile(`${NS}/a`);
  assert.equal(h.status.writes.length, 1, 'an unchanged status is not written again');
});

test('a rule change gives a new bundleHash and observedGeneration', async () => {
  const h = harness();
  await h.reconciler.reconcile(`${NS}/a`);
  const before = h.statusOf().bundleHash;
  h.bump(agentPolicy('a', { generation: 2, rules: [{ name: 'writes', action: 'allow', sql: { statements: ['insert'] } }] }));
  await h.reconciler.reconcile(`${NS}/a`);
  assert.notEqual(h.statusOf().bundleHash, before);
  assert.equal(h.statusOf().observedGeneration, 2);
});

test('a compile error: Compiled=False naming rule and field, Ready=False, no bundleHash, a Warning event', async () => {
  const h = harness();
  await h.reconciler.reconcile(`${NS}/a`);
  h.bump(agentPolicy('a', { generation: 2, rules: [{ name: 'oops', action: 'allow', sql: { statements: ['selekt'] } }] }));
  await h.reconciler.reconcile(`${NS}/a`);
  const compiled = h.cond('Compiled');
  assert.equal(compiled.status, 'False');
  assert.equal(compiled.reason, 'CompileFailed');
  assert.match(compiled.message, /rules\[0\]\.sql\.statements\[0\] \(rule "oops"\)/);
  assert.equal(h.cond('Ready').status, 'False');
  assert.equal(h.statusOf().bundleHash, undefined);
  assert.deepEqual(h.events.events.map((e) => `${e.type}/${e.reason}`), ['Normal/Compiled', 'Warning/CompileFailed']);
});

test('a referenced resource that is not Ready makes the policy not Ready', async () => {
  const h = harness();
  h.secrets.delete(NS, 'db-creds');
  await h.reconciler.reconcile(`${NS}/a`);
  assert.equal(h.cond('Compiled').status, 'True');
  const ready = h.cond('Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'ResourceNotReady');
  assert.match(ready.message, /ProtectedResource db: SecretNotFound/);
});

test('without the cluster issuer keys a policy relying on them is not Ready', async () => {
  const h = harness({ issuerKnown: false });
  await h.reconciler.reconcile(`${NS}/a`);
  assert.equal(h.cond('Ready').reason, 'IssuerKeysUnavailable');
});

test('a second policy that cannot be pooled with this one shows on the shared pods', async () => {
  const h = harness();
  // b names a resource that does not exist: alone it fails, and so does every set containing it.
  h.policies.set(agentPolicy('b', { resources: ['missing'] }));
  h.bundles.touch();
  await h.reconciler.reconcile(`${NS}/a`);
  const ready = h.cond('Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'CombinedCompileFailed');
  assert.match(ready.message, /policies a, b \(pods p1, p2\)/);
});

test('restartRequired lists injected pods whose resource set changed, keeps since, and emits one event per new pod', async () => {
  const h = harness();
  h.pods.set(pod('p1', { app: 'agent' }, { 'portcullis.dev/resources': 'db' }));
  h.pods.set(pod('p2', { app: 'agent' }, { 'portcullis.dev/resources': 'db' }));
  h.bundles.touch();
  await h.reconciler.reconcile(`${NS}/a`);
  assert.deepEqual(h.statusOf().restartRequired, []);

  h.bump(agentPolicy('a', { generation: 2, resources: ['db', 'cache'] }));
  await h.reconciler.reconcile(`${NS}/a`);
  assert.deepEqual(h.statusOf().restartRequired, [
    { pod: 'p1', reason: 'resource cache added', since: '2026-01-01T00:00:00Z' },
    { pod: 'p2', reason: 'resource cache added', since: '2026-01-01T00:00:00Z' },
  ]);
  assert.equal(h.events.events.filter((e) => e.reason === 'RestartRequired').length, 1);

  // p2 restarted: the new pod carries the new set; p1 is still listed with its original since.
  h.tick(60_000);
  h.pods.set(pod('p2', { app: 'agent' }, { 'portcullis.dev/resources': 'cache,db' }, 'uid-p2b'));
  h.bump(agentPolicy('a', { generation: 3, resources: ['cache', 'db'] }));
  await h.reconciler.reconcile(`${NS}/a`);
  assert.deepEqual(h.statusOf().restartRequired, [{ pod: 'p1', reason: 'resource cache added', since: '2026-01-01T00:00:00Z' }]);
  assert.equal(h.events.events.filter((e) => e.reason === 'RestartRequired').length, 1, 'no new event for an already listed pod');

  h.bump(agentPolicy('a', { generation: 4, resources: ['cache'] }));
  await h.reconciler.reconcile(`${NS}/a`);
  assert.deepEqual(h.statusOf().restartRequired!.map((r) => `${r.pod}: ${r.reason}`), ['p1: resource cache added, resource db removed', 'p2: resource db removed']);
});

test('pod label changes change selectedPods', async () => {
  const h = harness();
  await h.reconciler.reconcile(`${NS}/a`);
  assert.equal(h.statusOf().selectedPods, 2);
  h.pods.set(pod('web', { app: 'agent' }));
  h.pods.delete(NS, 'p1');
  h.bundles.touch();
  await h.reconciler.reconcile(`${NS}/a`);
  assert.equal(h.statusOf().selectedPods, 2);
  h.pods.set(pod('p3', { app: 'agent' }));
  h.bundles.touch();
  await h.reconciler.reconcile(`${NS}/a`);
  assert.equal(h.statusOf().selectedPods, 3);
});
