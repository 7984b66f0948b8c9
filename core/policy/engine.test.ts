import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileBundle } from './compile.ts';
import { createEngine } from './engine.ts';
import { k8s, policy, resource, sql } from './testing.ts';
import type { Part } from '../analysis/command.ts';

const db = resource('orders-db', 'postgres', {
  classifications: [{ name: 'card', columns: ['public.customers.card_number'], detectors: ['credit-card'] }],
});
const cluster = resource('prod-cluster', 'kubernetes');

const support = policy('support-agent', {
  approval: { approvers: { groups: ['sre'] }, timeout: '10m' },
  resources: [
    {
      resource: 'orders-db',
      defaultAction: 'deny',
      rules: [
        { name: 'reads', action: 'allow', sql: { statements: ['select', 'explain', 'transaction', 'show'] } },
        { name: 'order-writes', action: 'approve', sql: { statements: ['insert', 'update', 'delete'], tables: ['public.orders'] } },
        { name: 'no-unbounded-writes', action: 'deny', sql: { unboundedWrite: true } },
        { name: 'no-admin-functions', action: 'deny', message: 'server administration functions are not for agents', sql: { functions: ['pg_terminate_backend', 'lo_*', 'dblink*'] } },
        { name: 'xml-export', action: 'allow', sql: { functions: ['query_to_xml'], tables: ['public.reports'] } },
      ],
      masking: [{ classification: 'card', strategy: 'last4' }],
    },
    {
      resource: 'prod-cluster',
      rules: [
        { name: 'read-anything-but-secrets', action: 'allow', kubernetes: { verbs: ['get', 'list', 'watch'] } },
        { name: 'no-secrets', action: 'deny', kubernetes: { resources: ['secrets'] } },
        { name: 'no-deletes-in-critical', action: 'deny', kubernetes: { verbs: ['delete', 'deletecollection'], namespaces: ['kube-system', 'prod'] } },
        { name: 'no-exec', action: 'deny', kubernetes: { resources: ['pods/exec', 'pods/attach', 'pods/portforward', '*/proxy'] } },
        { name: 'scale-needs-approval', action: 'approve', kubernetes: { verbs: ['patch', 'update'], resources: ['deployments/scale', 'deployments'], namespaces: ['prod'] } },
        { name: 'sandbox-writes', action: 'allow', kubernetes: { verbs: ['create', 'delete', 'patch'], namespaces: ['sandbox'] } },
        { name: 'healthz', action: 'allow', kubernetes: { nonResourceURLs: ['/healthz'] } },
      ],
    },
  ],
});

const engine = createEngine(compileBundle('agents', [db, cluster], [support]));

const fn = (name: string, schema?: string) => ({ name, ...(schema ? { schema } : {}) });

const cases: Array<[string, string, Part[], string, string | undefined]> = [
  ['plain select is allowed', 'orders-db', [sql('select', 'public.orders')], 'allow', 'reads'],
  ['insert into orders is held', 'orders-db', [sql('insert', 'public.orders')], 'approve', 'order-writes'],
  ['insert elsewhere falls to default deny', 'orders-db', [sql('insert', 'public.audit')], 'deny', undefined],
  ['insert…select: insert part decides', 'orders-db', [sql('insert', 'public.orders'), sql('select', 'public.customers')], 'approve', 'order-writes'],
  ['select then drop: the drop part denies', 'orders-db', [sql('select', 'public.orders'), sql('drop_table', 'public.x')], 'deny', undefined],
  ['unbounded delete on orders: deny beats approve', 'orders-db', [sql('delete', 'public.orders', { unboundedWrite: true })], 'deny', 'no-unbounded-writes'],
  ['bounded delete on orders is held', 'orders-db', [sql('delete', 'public.orders')], 'approve', 'order-writes'],
  ['admin function in a select is denied', 'orders-db', [sql('select', undefined, { functions: [fn('pg_terminate_backend')] })], 'deny', 'no-admin-functions'],
  ['schema-qualified admin function is denied', 'orders-db', [sql('select', undefined, { functions: [fn('pg_terminate_backend', 'pg_catalog')] })], 'deny', 'no-admin-functions'],
  ['lo_* glob', 'orders-db', [sql('select', undefined, { functions: [fn('lo_import')] })], 'deny', 'no-admin-functions'],
  ['dynamic SQL function without allow by name', 'orders-db', [sql('select', undefined, { dynamicSqlFunctions: [fn('cursor_to_xml')] })], 'deny', undefined],
  ['dynamic SQL function allowed by name', 'orders-db', [sql('select', 'public.reports', { functions: [fn('query_to_xml')], dynamicSqlFunctions: [fn('query_to_xml')] })], 'allow', 'reads'],
  ['dynamic SQL allow rule must also match the part', 'orders-db', [sql('select', 'public.orders', { dynamicSqlFunctions: [fn('query_to_xml')] })], 'deny', undefined],
  ['statement with no relation', 'orders-db', [sql('show')], 'allow', 'reads'],
  ['CTE delete is not a select', 'orders-db', [sql('delete', 'public.customers'), sql('select')], 'deny', undefined],
  ['k8s get pods allowed', 'prod-cluster', [k8s('get', 'pods', { name: 'p' })], 'allow', 'read-anything-but-secrets'],
  ['k8s get secrets denied', 'prod-cluster', [k8s('get', 'secrets', { name: 's' })], 'deny', 'no-secrets'],
  ['k8s list secrets in all namespaces denied', 'prod-cluster', [k8s('list', 'secrets', { namespace: '', allNamespaces: true })], 'deny', 'no-secrets'],
  ['secrets rule does not cover subresource-less mismatch', 'prod-cluster', [k8s('get', 'configmaps', { name: 'c' })], 'allow', 'read-anything-but-secrets'],
  ['exec is create and denied', 'prod-cluster', [k8s('create', 'pods/exec', { name: 'p' })], 'deny', 'no-exec'],
  ['*/proxy matches services/proxy', 'prod-cluster', [k8s('create', 'services/proxy', { name: 's' })], 'deny', 'no-exec'],
  ['delete in prod denied', 'prod-cluster', [k8s('delete', 'pods', { namespace: 'prod', name: 'p' })], 'deny', 'no-deletes-in-critical'],
  ['deletecollection across all namespaces matches namespaced deny', 'prod-cluster', [k8s('deletecollection', 'pods', { namespace: '', allNamespaces: true })], 'deny', 'no-deletes-in-critical'],
  ['delete in sandbox allowed', 'prod-cluster', [k8s('delete', 'pods', { namespace: 'sandbox', name: 'p' })], 'allow', 'sandbox-writes'],
  ['allow with namespaces does not cover all namespaces', 'prod-cluster', [k8s('create', 'configmaps', { namespace: '', allNamespaces: true })], 'deny', undefined],
  ['namespace object is cluster-scoped: sandbox rule does not allow deleting it', 'prod-cluster', [k8s('delete', 'namespaces', { namespace: '', name: 'sandbox' })], 'deny', undefined],
  ['scale in prod held', 'prod-cluster', [k8s('patch', 'deployments/scale', { apiGroup: 'apps', namespace: 'prod', name: 'web' })], 'approve', 'scale-needs-approval'],
  ['deployments does not match deployments/status', 'prod-cluster', [k8s('patch', 'deployments/status', { apiGroup: 'apps', namespace: 'prod', name: 'web' })], 'deny', undefined],
  ['discovery allowed when reads are', 'prod-cluster', [k8s('get', '', { kind: 'nonResource', path: '/apis', discovery: true })], 'allow', undefined],
  ['non-resource URL needs a nonResourceURLs rule', 'prod-cluster', [k8s('get', '', { kind: 'nonResource', path: '/metrics' })], 'deny', undefined],
  ['non-resource URL rule', 'prod-cluster', [k8s('get', '', { kind: 'nonResource', path: '/healthz' })], 'allow', 'healthz'],
  ['resource rules never match non-resource URLs', 'prod-cluster', [k8s('get', '', { kind: 'nonResource', path: '/logs/x' })], 'deny', undefined],
];

for (const [name, res, parts, action, rule] of cases) {
  test(`engine: ${name}`, () => {
    const d = engine.decide(res, { parts });
    assert.equal(d.action, action, d.reasons.join('\n'));
    assert.equal(d.rule, rule, d.reasons.join('\n'));
    if (rule) assert.equal(d.policy, 'agents/support-agent');
    assert.equal(d.reasons.length, parts.length);
  });
}

test('engine: the rule message is carried', () => {
  const d = engine.decide('orders-db', { parts: [sql('select', undefined, { functions: [fn('dblink_exec')] })] });
  assert.equal(d.message, 'server administration functions are not for agents');
});

test('engine: analysis errors and forbidden commands are denied with the reason', () => {
  assert.deepEqual(engine.decide('orders-db', { parts: [], error: 'syntax error at or near "SELEC"' }).reasons, ['cannot analyse: syntax error at or near "SELEC"']);
  assert.equal(engine.decide('orders-db', { parts: [sql('select')], forbidden: 'impersonation' }).action, 'deny');
  assert.equal(engine.decide('orders-db', { parts: [] }).action, 'deny');
  assert.match(engine.decide('nope', { parts: [sql('select')] }).reasons[0]!, /not in this pod's policy bundle/);
});

test('engine: rule order never matters', () => {
  const rules = [
    { name: 'a', action: 'allow', sql: { statements: ['delete'] } },
    { name: 'b', action: 'deny', sql: { tables: ['public.t'] } },
    { name: 'c', action: 'approve', sql: { statements: ['delete'] } },
  ];
  const approval = { approvers: { users: ['x'] } };
  const decide = (rs: unknown[]) =>
    createEngine(compileBundle('agents', [db], [policy('p', { approval, resources: [{ resource: 'orders-db', rules: rs }] })]))
      .decide('orders-db', { parts: [sql('delete', 'public.t')] });
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]]) {
    const d = decide(order.map((i) => rules[i]));
    assert.equal(d.action, 'deny');
    assert.equal(d.rule, 'b');
  }
  assert.equal(decide([rules[0], rules[2]]).action, 'approve');
});

test('engine: pooled policies — defaultAction allow only if every policy says allow', () => {
  const p1 = policy('p1', { resources: [{ resource: 'orders-db', defaultAction: 'allow', rules: [] }] });
  const p2 = policy('p2', { resources: [{ resource: 'orders-db', defaultAction: 'deny', rules: [{ name: 'r', action: 'allow', sql: { statements: ['select'] } }] }] });
  const both = createEngine(compileBundle('agents', [db], [p1, p2]));
  assert.equal(both.decide('orders-db', { parts: [sql('update', 'public.t')] }).action, 'deny');
  assert.equal(both.decide('orders-db', { parts: [sql('select', 'public.t')] }).action, 'allow');
  const only1 = createEngine(compileBundle('agents', [db], [p1]));
  assert.equal(only1.decide('orders-db', { parts: [sql('update', 'public.t')] }).action, 'allow');
});

test('engine: table globs fold case like PostgreSQL and keep quoted case', () => {
  const p = policy('p', { resources: [{ resource: 'orders-db', rules: [
    { name: 'upper', action: 'allow', sql: { tables: ['Public.Orders'] } },
    { name: 'quoted', action: 'allow', sql: { tables: ['public."Audit*"'] } },
  ] }] });
  const e = createEngine(compileBundle('agents', [db], [p]));
  assert.equal(e.decide('orders-db', { parts: [sql('select', 'public.orders')] }).rule, 'upper');
  assert.equal(e.decide('orders-db', { parts: [sql('select', 'public.AuditLog')] }).rule, 'quoted');
  assert.equal(e.decide('orders-db', { parts: [sql('select', 'public.auditlog')] }).action, 'deny');
});
