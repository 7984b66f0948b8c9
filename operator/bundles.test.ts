import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentPolicy, ProtectedResource } from '../core/api/index.ts';
import { hashBundle } from '../core/policy/bundle.ts';
import { BundleCache } from './bundles.ts';
import { MemoryStore } from './controller/testing.ts';
import type { PodMeta } from './controller/types.ts';
import { NS, agentPolicy, pod, protectedResource } from './test-fixtures.ts';

function setup() {
  const policies = new MemoryStore<AgentPolicy>([
    agentPolicy('a', { selector: { app: 'agent' } }),
    agentPolicy('b', { selector: { team: 'x' } }),
  ]);
  const resources = new MemoryStore<ProtectedResource>([protectedResource('db'), protectedResource('other')]);
  const pods = new MemoryStore<PodMeta>([
    pod('p1', { app: 'agent' }),
    pod('p2', { app: 'agent' }),
    pod('p3', { app: 'agent', team: 'x' }),
    pod('lonely', { app: 'web' }),
  ]);
  const cache = new BundleCache({ policies, resources, pods });
  return { policies, resources, pods, cache };
}

test('pods selected by the same policies share one compiled bundle', () => {
  const { cache } = setup();
  const b1 = cache.bundleForPod(NS, 'p1');
  const b2 = cache.bundleForPod(NS, 'p2');
  assert.ok(b1.ok && b2.ok);
  assert.equal(b1.bundle, b2.bundle, 'the same object');
  assert.deepEqual(b1.bundle.key, ['agents/a']);
  assert.equal(cache.compiles, 1);
  const b3 = cache.bundleForPod(NS, 'p3');
  assert.ok(b3.ok);
  assert.deepEqual(b3.bundle.key, ['agents/a', 'agents/b']);
  assert.equal(cache.compiles, 2);
});

test('unknown and unselected pods are reported, not served', () => {
  const { cache } = setup();
  const missing = cache.bundleForPod(NS, 'nope');
  const lonely = cache.bundleForPod(NS, 'lonely');
  assert.equal(!missing.ok && missing.reason, 'PodNotFound');
  assert.equal(!lonely.ok && lonely.reason, 'NotSelected');
});

test('a policy change recompiles (new hash); an unrelated touch does not', () => {
  const { cache, policies, resources } = setup();
  const before = cache.bundleForPod(NS, 'p1');
  assert.ok(before.ok);
  cache.touch();
  assert.equal(cache.bundleForPod(NS, 'p1'), before, 'nothing changed: same result, no compile');
  assert.equal(cache.compiles, 1);

  resources.set(protectedResource('other', 2)); // not named by policy a
  cache.touch();
  assert.equal(cache.bundleForPod(NS, 'p1'), before);
  assert.equal(cache.compiles, 1);

  policies.set(agentPolicy('a', { generation: 2, rules: [{ name: 'writes', action: 'allow', sql: { statements: ['insert'] } }] }));
  cache.touch();
  const after = cache.bundleForPod(NS, 'p1');
  assert.ok(after.ok);
  assert.notEqual(after.bundle.hash, before.bundle.hash);
  assert.equal(cache.compiles, 2);
});

test('a change of a referenced ProtectedResource recompiles', () => {
  const { cache, resources } = setup();
  const before = cache.bundleForPod(NS, 'p1');
  resources.set(protectedResource('db', 2, { expose: { port: 15433 } }));
  cache.touch();
  const after = cache.bundleForPod(NS, 'p1');
  assert.ok(before.ok && after.ok);
  assert.notEqual(after.bundle.hash, before.bundle.hash);
  assert.equal(after.bundle.resources[0]!.expose.port, 15433);
});

test('label changes move a pod to another policy set', () => {
  const { cache, pods } = setup();
  pods.set(pod('p1', { team: 'x' }));
  cache.touch();
  const b = cache.bundleForPod(NS, 'p1');
  assert.ok(b.ok);
  assert.deepEqual(b.bundle.key, ['agents/b']);
});

test('a compile error is a result naming the policy, the rule and the field', () => {
  const { cache, policies } = setup();
  policies.set(agentPolicy('a', { generation: 2, rules: [{ name: 'bad', action: 'allow', sql: { statements: ['selekt'] } }] }));
  cache.touch();
  const r = cache.bundleForPod(NS, 'p1');
  assert.ok(!r.ok);
  assert.equal(r.reason, 'CompileFailed');
  assert.match(r.message, /AgentPolicy agents\/a: spec\.resources\[0\]\.rules\[0\]\.sql\.statements\[0\] \(rule "bad"\)/);
});

test('the JWKS is part of the bundle and of its hash; a new JWKS recompiles', () => {
  const { cache } = setup();
  const plain = cache.bundleForPod(NS, 'p1');
  cache.setJwks({ 'https://issuer': { keys: [{ kty: 'EC', kid: '1' }] } });
  const withKeys = cache.bundleForPod(NS, 'p1');
  assert.ok(plain.ok && withKeys.ok);
  assert.deepEqual(withKeys.bundle.jwks, { 'https://issuer': { keys: [{ kty: 'EC', kid: '1' }] } });
  assert.notEqual(withKeys.bundle.hash, plain.bundle.hash);
  assert.equal(withKeys.bundle.hash, hashBundle(withKeys.bundle), 'the hash covers the keys');
  cache.setJwks({ 'https://issuer': { keys: [{ kty: 'EC', kid: '2' }] } });
  const rotated = cache.bundleForPod(NS, 'p1');
  assert.ok(rotated.ok);
  assert.notEqual(rotated.bundle.hash, withKeys.bundle.hash);
});

test('two caches over equal state agree on the hash (replicas agree)', () => {
  const a = setup();
  const b = setup();
  const ra = a.cache.bundleForPod(NS, 'p3');
  const rb = b.cache.bundleForPod(NS, 'p3');
  assert.ok(ra.ok && rb.ok);
  assert.equal(ra.bundle.hash, rb.bundle.hash);
});

test('touch emits changed; prune drops sets whose policies are gone', () => {
  const { cache, policies } = setup();
  let changed = 0;
  cache.on('changed', () => changed++);
  cache.bundleForPod(NS, 'p3');
  cache.bundleForPod(NS, 'p1');
  assert.equal(cache.size, 2);
  policies.delete(NS, 'b');
  cache.touch();
  cache.prune();
  assert.equal(cache.size, 1);
  assert.equal(changed, 1);
});
