import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompileError, compileBundle } from './compile.ts';
import { policy, resource } from './testing.ts';

const db = resource('orders-db', 'postgres', { classifications: [{ name: 'card', columns: ['public.c.card'] }] });
const k8sRes = resource('prod-cluster', 'kubernetes');

function compileErrors(spec: Record<string, unknown>): string[] {
  try {
    compileBundle('agents', [db, k8sRes], [policy('bad', spec)]);
  } catch (e) {
    assert.ok(e instanceof CompileError);
    return e.issues.map((i) => `${i.field}${i.rule ? ` [${i.rule}]` : ''}: ${i.message}`);
  }
  assert.fail('expected a compile error');
}

const entry = (rules: unknown[], extra: Record<string, unknown> = {}) => ({ resources: [{ resource: 'orders-db', rules, ...extra }] });

const errorCases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['unknown statement kind', entry([{ name: 'r', action: 'allow', sql: { statements: ['selct'] } }]), /rules\[0\]\.sql\.statements\[0\] \[r\]: unknown statement kind "selct"/],
  ['glob that matches no kind', entry([{ name: 'r', action: 'allow', sql: { statements: ['dorp_*'] } }]), /unknown statement kind "dorp_\*"/],
  ['no matcher', entry([{ name: 'r', action: 'allow' }]), /exactly one matcher block/],
  ['two matchers', entry([{ name: 'r', action: 'allow', sql: { statements: ['select'] }, kubernetes: { verbs: ['get'] } }]), /found sql, kubernetes/],
  ['wrong protocol matcher', entry([{ name: 'r', action: 'allow', kubernetes: { verbs: ['get'] } }]), /takes "sql" rules, not "kubernetes"/],
  ['empty matcher', entry([{ name: 'r', action: 'allow', sql: {} }]), /at least one field/],
  ['duplicate rule names', entry([{ name: 'r', action: 'allow', sql: { statements: ['select'] } }, { name: 'r', action: 'deny', sql: { statements: ['delete'] } }]), /duplicate rule name "r"/],
  ['bad action', entry([{ name: 'r', action: 'allw', sql: { statements: ['select'] } }]), /rules\[0\]\.action \[r\]: must be one of allow, deny, approve/],
  ['approve without approval', entry([{ name: 'r', action: 'approve', sql: { statements: ['delete'] } }]), /approve rule needs spec\.approval/],
  ['unknown resource', { resources: [{ resource: 'nope', rules: [] }] }, /spec\.resources\[0\]\.resource: ProtectedResource "nope" not found/],
  ['unknown matcher field', entry([{ name: 'r', action: 'allow', sql: { statement: ['select'] } }]), /sql\.statement \[r\]: unknown field/],
  ['empty list', entry([{ name: 'r', action: 'allow', sql: { tables: [] } }]), /empty list matches nothing/],
  ['unknown classification', entry([], { masking: [{ classification: 'ssn', strategy: 'redact' }] }), /masking\[0\]\.classification: .* no classification "ssn"/],
  ['bad strategy', entry([], { masking: [{ classification: 'card', strategy: 'blur' }] }), /masking\[0\]\.strategy: must be one of/],
  ['bad default action', entry([], { defaultAction: 'approve' }), /defaultAction: must be allow or deny/],
  ['bad timeout', { approval: { approvers: { groups: ['sre'] }, timeout: 'soon' }, ...entry([]) }, /spec\.approval\.timeout/],
  ['unknown k8s verb', { resources: [{ resource: 'prod-cluster', rules: [{ name: 'k', action: 'allow', kubernetes: { verbs: ['read'] } }] }] }, /unknown verb "read"/],
];

for (const [name, spec, expected] of errorCases) {
  test(`compile error: ${name}`, () => {
    const errs = compileErrors(spec);
    assert.ok(errs.some((e) => expected.test(e)), errs.join('\n'));
  });
}

test('compile error: unknown detector names the ProtectedResource field', () => {
  const bad = resource('orders-db', 'postgres', { classifications: [{ name: 'card', columns: ['public.c.card'], detectors: ['credit-crad'] }] });
  assert.throws(() => compileBundle('agents', [bad], [policy('p', entry([]))]),
    /ProtectedResource agents\/orders-db: spec\.classifications\[0\]\.detectors\[0\]: unknown detector "credit-crad"/);
});

test('compile error message names the policy, the field and the rule', () => {
  assert.throws(
    () => compileBundle('agents', [db], [policy('support', entry([{ name: 'reads', action: 'allow', sql: { statements: ['selct'] } }]))]),
    /AgentPolicy agents\/support: spec\.resources\[0\]\.rules\[0\]\.sql\.statements\[0\] \(rule "reads"\): unknown statement kind "selct"/,
  );
});

test('bundle hash is a pure function of the policy set, whatever the order', () => {
  const a = policy('a', entry([{ name: 'r', action: 'allow', sql: { statements: ['select'] } }]));
  const b = policy('b', entry([{ name: 's', action: 'deny', sql: { statements: ['drop_*'] } }]));
  const ab = compileBundle('agents', [db], [a, b]);
  const ba = compileBundle('agents', [db], [b, a]);
  assert.equal(ab.hash, ba.hash);
  assert.deepEqual(ab.key, ['agents/a', 'agents/b']);
  const onlyA = compileBundle('agents', [db], [a]);
  assert.notEqual(onlyA.hash, ab.hash);
  assert.match(ab.hash, /^[0-9a-f]{64}$/);
});

test('masking of pooled policies takes the most restrictive strategy', () => {
  const a = policy('a', entry([], { masking: [{ classification: 'card', strategy: 'last4' }] }));
  const b = policy('b', entry([], { masking: [{ classification: 'card', strategy: 'hash', strict: true }] }));
  const bundle = compileBundle('agents', [db], [a, b]);
  assert.deepEqual(bundle.resources[0]!.masking, [{ classification: 'card', strategy: 'hash', strict: true, policy: 'agents/b' }]);
});
