import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentPolicy, ProtectedResource } from '../core/api/index.ts';
import { BundleCache } from './bundles.ts';
import { MemoryStore } from './controller/testing.ts';
import type { PodMeta } from './controller/types.ts';
import { injectionDeps } from './injection-deps.ts';
import { NS, agentPolicy, protectedResource } from './test-fixtures.ts';

function setup() {
  const policies = new MemoryStore<AgentPolicy>([agentPolicy('a', { resources: ['db'] }), agentPolicy('b', { selector: { team: 'x' }, resources: ['cache'] })]);
  const resources = new MemoryStore<ProtectedResource>([protectedResource('db'), protectedResource('cache', 1, { expose: { port: 16379 } }), protectedResource('unused')]);
  const bundles = new BundleCache({ policies, resources, pods: new MemoryStore<PodMeta>() });
  return { policies, resources, bundles, deps: injectionDeps(bundles, resources) };
}

test('a pod is injected for the policies that select it and the resources they name', () => {
  const { deps } = setup();
  const sel = deps.policiesFor(NS, { app: 'agent', team: 'x' });
  assert.deepEqual(sel.policies, ['agents/a', 'agents/b']);
  assert.deepEqual(sel.resources.map((r) => [r.name, r.credentialsSecret, r.expose.port]), [['cache', 'cache-creds', 16379], ['db', 'db-creds', 15432]]);
  assert.deepEqual(deps.policiesFor(NS, { app: 'web' }), { policies: [], resources: [] });
});

test('a selection that does not compile throws its compile error (the pod is refused)', () => {
  const { deps, policies, bundles } = setup();
  policies.set(agentPolicy('a', { generation: 2, resources: ['missing'] }));
  bundles.touch();
  assert.throws(() => deps.policiesFor(NS, { app: 'agent' }), /ProtectedResource "missing" not found/);
});

test('credentials Secrets: every ProtectedResource of the namespace, named or not', () => {
  const { deps } = setup();
  assert.deepEqual([...deps.credentialsSecrets(NS)].sort(), ['cache-creds', 'db-creds', 'unused-creds']);
  assert.deepEqual([...deps.credentialsSecrets('elsewhere')], []);
});
