import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { explainCommand } from './explain.ts';

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await explainCommand(argv, { out: (s) => (out += s), err: (s) => (err += s), stdin: Readable.from([stdin]) });
  return { code, out, err };
}

const examples = 'examples/policies';

test('explain: one decision as JSON naming rule, policy and reasons; deny still exits 0', async () => {
  const allow = await run(['-f', examples, '--resource', 'orders-db', '--sql', 'SELECT * FROM orders']);
  assert.equal(allow.code, 0, allow.err);
  assert.deepEqual(JSON.parse(allow.out), { action: 'allow', rule: 'reads', policy: 'agents/support-agent', reasons: ['select public.orders: rule "reads" of agents/support-agent → allow'] });
  const deny = await run(['-f', examples, '--resource', 'orders-db', '--sql', 'SELECT 1; DROP TABLE orders']);
  assert.equal(deny.code, 0);
  assert.equal(JSON.parse(deny.out).action, 'deny');
  const held = await run(['-f', examples, '--resource', 'orders-db', '--sql', 'UPDATE orders SET total = 0 WHERE id = 1']);
  assert.deepEqual([JSON.parse(held.out).action, JSON.parse(held.out).rule], ['approve', 'order-writes']);
});

test('explain: kubernetes requests', async () => {
  const r = await run(['-f', examples, '--resource', 'prod-cluster', '--k8s', 'POST /api/v1/namespaces/prod/pods/web/exec']);
  assert.equal(JSON.parse(r.out).rule, 'no-exec');
  const imp = await run(['-f', examples, '--resource', 'prod-cluster', '--k8s', 'GET /api/v1/pods', '--header', 'Impersonate-User: admin']);
  assert.equal(JSON.parse(imp.out).action, 'deny');
  assert.match(JSON.parse(imp.out).reasons[0], /impersonation/);
});

test('explain --batch: one decision per line, in order; a bad line gets an error line', async () => {
  const input = [
    JSON.stringify({ resource: 'orders-db', sql: 'SELECT 1' }),
    JSON.stringify({ resource: 'prod-cluster', k8s: { method: 'GET', path: '/api/v1/namespaces/prod/secrets/x' } }),
    'not json',
    JSON.stringify({ resource: 'orders-db', sql: 'DROP DATABASE shop' }),
  ].join('\n');
  const r = await run(['-f', examples, '--batch'], input);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.equal(lines[0].action, 'allow');
  assert.equal(lines[1].rule, 'no-secrets');
  assert.match(lines[2].error, /line 3/);
  assert.equal(lines[3].action, 'deny');
  assert.equal(r.code, 2);
});

test('explain: --labels selects policies like a pod would', async () => {
  const none = await run(['-f', examples, '--labels', 'app=other', '--resource', 'orders-db', '--sql', 'SELECT 1']);
  assert.equal(none.code, 1);
  assert.match(none.err, /no AgentPolicy in namespace agents selects a pod with labels/);
  const some = await run(['-f', examples, '--labels', 'app=support-agent', '--resource', 'orders-db', '--sql', 'SELECT 1']);
  assert.equal(some.code, 0);
});

test('explain: invalid files exit 1 with a field-named error; usage errors exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explain-'));
  writeFileSync(join(dir, 'bad.yaml'), `apiVersion: portcullis.dev/v1alpha1
kind: AgentPolicy
metadata: {name: bad, namespace: agents}
spec:
  agents: {podSelector: {}}
  resources:
    - resource: db
      rules:
        - {name: r, action: allw, sql: {statements: [select]}}
`);
  const bad = await run(['-f', dir, '--resource', 'db', '--sql', 'SELECT 1']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /spec\.resources\[0\]\.rules\[0\]\.action: Unsupported value "allw"/);
  const missing = await run(['-f', join(dir, 'nope.yaml'), '--resource', 'db', '--sql', 'x']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no such file/);
  const wrongKind = await run(['-f', examples, '--resource', 'orders-db', '--k8s', 'GET /api']);
  assert.equal(wrongKind.code, 2);
  assert.match(wrongKind.err, /speaks postgres: give exactly one --sql/);
  const noFile = await run(['--resource', 'x']);
  assert.equal(noFile.code, 2);
});
