import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentPolicyInput, ProtectedResourceInput } from '../../core/policy/compile.ts';
import type { AdmissionRequest, Operation } from './admission.ts';
import { validateAgentPolicy, validateProtectedResource, type PolicyValidationDeps } from './validate-policy.ts';

function resource(name: string, spec: Record<string, unknown> = {}): ProtectedResourceInput {
  return {
    metadata: { name, namespace: 'agents' },
    spec: {
      protocol: 'postgres',
      endpoint: { host: 'db', port: 5432 },
      credentials: { secretRef: { name: `${name}-creds` } },
      expose: { port: 15432 },
      classifications: [{ name: 'card', columns: ['public.customers.card'] }],
      ...spec,
    },
  };
}

function policy(name: string, entries: unknown[], extra: Record<string, unknown> = {}): AgentPolicyInput {
  return { metadata: { name, namespace: 'agents', generation: 1 }, spec: { agents: { podSelector: {} }, resources: entries, ...extra } };
}

const reads = { name: 'reads', action: 'allow', sql: { statements: ['select'] } };

function deps(resources: ProtectedResourceInput[], policies: AgentPolicyInput[] = []): PolicyValidationDeps {
  const inNs = <T extends { metadata: { namespace?: string } }>(list: T[]) => ({
    list: (ns?: string) => list.filter((o) => ns === undefined || o.metadata.namespace === ns),
  });
  return { resources: inNs(resources), policies: inNs(policies) };
}

function request(plural: string, object: unknown, operation: Operation = 'CREATE', oldObject?: unknown): AdmissionRequest {
  return {
    uid: 'u1',
    resource: { group: 'portcullis.dev', version: 'v1alpha1', resource: plural },
    namespace: 'agents',
    operation,
    userInfo: { username: 'alice' },
    object,
    ...(oldObject !== undefined ? { oldObject } : {}),
  };
}

describe('validateAgentPolicy', () => {
  const d = deps([resource('orders-db')]);

  it('a policy that compiles is allowed', () => {
    const res = validateAgentPolicy(request('agentpolicies', policy('ok', [{ resource: 'orders-db', rules: [reads] }])), d);
    assert.equal(res.allowed, true, res.status?.message);
    assert.equal(res.warnings, undefined);
  });

  const refused: { name: string; entries: unknown[]; extra?: Record<string, unknown>; message: RegExp }[] = [
    {
      name: 'unknown statement kind, naming rule and field',
      entries: [{ resource: 'orders-db', rules: [{ name: 'r', action: 'allow', sql: { statements: ['selec'] } }] }],
      message: /AgentPolicy agents\/bad does not compile:\nAgentPolicy agents\/bad: spec\.resources\[0\]\.rules\[0\]\.sql\.statements\[0\] \(rule "r"\): unknown statement kind "selec"/,
    },
    {
      name: 'a matcher for another protocol',
      entries: [{ resource: 'orders-db', rules: [{ name: 'k', action: 'allow', kubernetes: { verbs: ['get'] } }] }],
      message: /takes "sql" rules, not "kubernetes"/,
    },
    {
      name: 'approve without approvers',
      entries: [{ resource: 'orders-db', rules: [{ name: 'w', action: 'approve', sql: { statements: ['delete'] } }] }],
      message: /approve rule needs spec\.approval/,
    },
    {
      name: 'masking a classification the resource does not have',
      entries: [{ resource: 'orders-db', masking: [{ classification: 'ssn', strategy: 'redact' }] }],
      message: /no classification "ssn"/,
    },
    { name: 'a bad duration', entries: [{ resource: 'orders-db' }], extra: { recording: { retention: 'forever' } }, message: /spec\.recording\.retention/ },
  ];
  for (const c of refused) {
    it(`refused: ${c.name}`, () => {
      const res = validateAgentPolicy(request('agentpolicies', policy('bad', c.entries, c.extra)), d);
      assert.equal(res.allowed, false);
      assert.equal(res.status?.code, 422);
      assert.match(res.status?.message ?? '', c.message);
    });
  }

  it('a missing ProtectedResource is a warning, not a refusal (apply order)', () => {
    const res = validateAgentPolicy(request('agentpolicies', policy('early', [{ resource: 'later-db', rules: [reads] }])), d);
    assert.equal(res.allowed, true);
    assert.match(res.warnings?.[0] ?? '', /ProtectedResource "later-db" not found.*applies once the ProtectedResource exists/);
  });

  it('a missing resource does not hide the errors of the others', () => {
    const entries = [{ resource: 'later-db' }, { resource: 'orders-db', rules: [{ name: 'r', action: 'allw', sql: { statements: ['select'] } }] }];
    const res = validateAgentPolicy(request('agentpolicies', policy('bad', entries)), d);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /rules\[0\]\.action/);
    assert.doesNotMatch(res.status?.message ?? '', /later-db/);
  });

  it('UPDATE without a spec change passes even when the policy does not compile (relabel, finalizers)', () => {
    const bad = policy('bad', [{ resource: 'orders-db', rules: [{ name: 'r', action: 'allow', sql: { statements: ['selec'] } }] }]);
    const relabelled = { ...bad, metadata: { ...bad.metadata, labels: { team: 'x' } } };
    assert.equal(validateAgentPolicy(request('agentpolicies', relabelled, 'UPDATE', bad), d).allowed, true);
    const edited = policy('bad', [{ resource: 'orders-db', rules: [{ name: 'r', action: 'allow', sql: { statements: ['selct'] } }] }]);
    assert.equal(validateAgentPolicy(request('agentpolicies', edited, 'UPDATE', bad), d).allowed, false);
  });

  it('an object being deleted passes; DELETE is never refused', () => {
    const bad = policy('bad', [{ resource: 'orders-db', rules: [{ name: 'r', action: 'x' }] }]);
    const deleting = { ...bad, metadata: { ...bad.metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } };
    assert.equal(validateAgentPolicy(request('agentpolicies', deleting, 'UPDATE', bad), d).allowed, true);
    assert.equal(validateAgentPolicy(request('agentpolicies', undefined, 'DELETE', bad), d).allowed, true);
  });

  it('a request without an object is a bad request', () => {
    const res = validateAgentPolicy(request('agentpolicies', 'nope'), d);
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 400);
  });
});

describe('validateProtectedResource', () => {
  const sqlPolicy = policy('support', [{ resource: 'orders-db', rules: [reads], masking: [{ classification: 'card', strategy: 'last4' }] }]);

  it('a resource on its own is compiled: an unknown detector is refused', () => {
    const bad = resource('orders-db', { classifications: [{ name: 'card', detectors: ['credit-crad'] }] });
    const res = validateProtectedResource(request('protectedresources', bad), deps([]));
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /ProtectedResource agents\/orders-db is invalid:\nProtectedResource agents\/orders-db: spec\.classifications\[0\]\.detectors\[0\]: unknown detector "credit-crad"/);
  });

  it('a change that breaks a policy that compiled is refused, naming the policy and why', () => {
    const changed = resource('orders-db', { classifications: [] });
    const res = validateProtectedResource(request('protectedresources', changed, 'UPDATE', resource('orders-db')), deps([resource('orders-db')], [sqlPolicy]));
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /breaks a policy:\nAgentPolicy agents\/support would no longer compile:\n.*masking\[0\]\.classification: ProtectedResource "orders-db" has no classification "card"/);
  });

  it('changing the protocol under a policy\'s rules is refused', () => {
    const changed = resource('orders-db', { protocol: 'http', endpoint: { url: 'https://x' } });
    const res = validateProtectedResource(request('protectedresources', changed, 'UPDATE', resource('orders-db')), deps([resource('orders-db')], [sqlPolicy]));
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /takes "http" rules, not "sql"/);
  });

  it('a compatible change is allowed; policies naming other resources are not consulted', () => {
    const changed = resource('orders-db', { expose: { port: 15433 } });
    const other = policy('other', [{ resource: 'billing-db', rules: [{ name: 'r', action: 'x' }] }]);
    const res = validateProtectedResource(request('protectedresources', changed, 'UPDATE', resource('orders-db')), deps([resource('orders-db')], [sqlPolicy, other]));
    assert.equal(res.allowed, true, res.status?.message);
  });

  it('creating the resource a broken policy waits for only warns when the policy still does not compile', () => {
    const created = resource('orders-db', { protocol: 'http', endpoint: { url: 'https://x' } });
    const res = validateProtectedResource(request('protectedresources', created), deps([], [sqlPolicy]));
    assert.equal(res.allowed, true);
    assert.match(res.warnings?.[0] ?? '', /AgentPolicy agents\/support names this resource and does not compile with it/);
  });

  it('metadata-only UPDATE passes', () => {
    const bad = resource('orders-db', { classifications: [{ name: 'c', detectors: ['nope'] }] });
    const relabelled = { ...bad, metadata: { ...bad.metadata, labels: { a: 'b' } } };
    assert.equal(validateProtectedResource(request('protectedresources', relabelled, 'UPDATE', bad), deps([bad])).allowed, true);
  });
});
