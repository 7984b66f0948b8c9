// The Helm chart with the pinned helm: lint, template in both certificate modes, the rendered webhook
// configurations equal to what operator/webhooks/configurations.ts builds, and every rendered object accepted by
// the real API server (server-side dry run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createNamespace, deleteNamespace, ensureCluster, kubectl, REPO_ROOT, uniqueName, type ClusterInfo } from './lib/cluster.ts';
import { run } from './lib/exec.ts';
import { webhookConfigurations } from '../operator/webhooks/configurations.ts';

const CHART = join(REPO_ROOT, 'charts', 'portcullis');
let cluster: ClusterInfo;
let ns: string;

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  webhooks?: { clientConfig: { caBundle?: string } }[];
  [k: string]: unknown;
}

async function template(release: string, namespace: string, set: string[] = []): Promise<Obj[]> {
  const r = await run(cluster.helmPath, ['template', release, CHART, '-n', namespace, ...set.flatMap((s) => ['--set', s])]);
  return parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj).filter((o) => o && o.kind);
}

const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);

before(async () => {
  cluster = await ensureCluster();
  ns = await createNamespace(uniqueName('chart'));
});

after(async () => {
  if (ns) await deleteNamespace(ns);
});

test('helm lint passes (strict)', async () => {
  const r = await run(cluster.helmPath, ['lint', '--strict', CHART], { allowFailure: true });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('rendered webhook configurations equal the operator\'s own (service clientConfig), scoped or not', async () => {
  for (const namespaces of [[], ['team-a', 'team-b']]) {
    const objs = await template('portcullis', 'portcullis-system', namespaces.length ? [`namespaces={${namespaces.join(',')}}`] : []);
    const expected = webhookConfigurations({
      operatorNamespace: 'portcullis-system',
      target: { service: { name: 'portcullis-operator', namespace: 'portcullis-system', port: 443 } },
      timeoutSeconds: 10,
      namespaces,
    });
    const [mutating] = byKind(objs, 'MutatingWebhookConfiguration');
    const [validating] = byKind(objs, 'ValidatingWebhookConfiguration');
    assert.equal(mutating?.metadata.name, 'portcullis');
    assert.deepEqual(mutating?.webhooks, expected.mutating.webhooks, `mutating, namespaces=${namespaces}`);
    assert.deepEqual(validating?.webhooks, expected.validating.webhooks, `validating, namespaces=${namespaces}`);
  }
});

test('self-managed mode: no cert-manager objects, RBAC to patch only this release\'s webhook configurations', async () => {
  const objs = await template('portcullis', 'portcullis-system');
  assert.deepEqual(byKind(objs, 'Certificate'), []);
  const cluster = byKind(objs, 'ClusterRole').find((o) => o.metadata.name === 'portcullis-operator-cluster')!;
  const rules = cluster.rules as { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }[];
  const admission = rules.find((r) => r.apiGroups?.includes('admissionregistration.k8s.io'));
  assert.deepEqual(admission?.resourceNames, ['portcullis']);
  assert.deepEqual(admission?.verbs, ['get', 'patch']);
  const deployment = byKind(objs, 'Deployment')[0] as unknown as { spec: { replicas: number; template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
  assert.equal(deployment.spec.replicas, 2);
  const env = new Map(deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
  assert.equal(env.get('PORTCULLIS_CERT_MODE'), 'self-managed');
  assert.equal(env.get('PORTCULLIS_OPERATOR_URL'), 'https://portcullis-operator.portcullis-system.svc:443');
  assert.equal(env.get('PORTCULLIS_WEBHOOK_CONFIGURATION'), 'portcullis');
});

test('cert-manager mode: a Certificate for the Service, inject-ca-from, no caBundle and no webhook-patching RBAC', async () => {
  const objs = await template('portcullis', 'portcullis-system', ['certificates.mode=cert-manager']);
  const certs = byKind(objs, 'Certificate');
  const serving = certs.find((c) => c.metadata.name === 'portcullis-webhook') as unknown as { spec: { dnsNames: string[]; secretName: string } };
  assert.deepEqual(serving.spec.dnsNames, ['portcullis-operator.portcullis-system.svc', 'portcullis-operator.portcullis-system.svc.cluster.local']);
  assert.equal(serving.spec.secretName, 'portcullis-webhook-tls');
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    const c = byKind(objs, kind)[0]!;
    assert.equal(c.metadata.annotations?.['cert-manager.io/inject-ca-from'], 'portcullis-system/portcullis-webhook');
    assert.ok(c.webhooks!.every((w) => w.clientConfig.caBundle === undefined));
  }
  const clusterRole = byKind(objs, 'ClusterRole').find((o) => o.metadata.name === 'portcullis-operator-cluster')!;
  assert.ok(!JSON.stringify(clusterRole).includes('admissionregistration'));
  const custom = await template('portcullis', 'portcullis-system', ['certificates.mode=cert-manager', 'certificates.certManager.issuerRef.name=corp-ca', 'certificates.certManager.issuerRef.kind=ClusterIssuer']);
  assert.deepEqual(byKind(custom, 'Issuer'), [], 'a given issuer replaces the bootstrap issuers');
});

test('a namespace-scoped install binds the operator\'s role per namespace, never cluster-wide', async () => {
  const objs = await template('portcullis', 'portcullis-system', ['namespaces={team-a,team-b}']);
  const bindings = byKind(objs, 'RoleBinding').filter((b) => (b.roleRef as { kind: string }).kind === 'ClusterRole');
  assert.deepEqual(bindings.map((b) => b.metadata.namespace).sort(), ['team-a', 'team-b']);
  const clusterBindings = byKind(objs, 'ClusterRoleBinding').map((b) => (b.roleRef as { name: string }).name);
  assert.deepEqual(clusterBindings, ['portcullis-operator-cluster']);
});

test('every rendered object is accepted by the API server (server-side dry run)', async () => {
  const release = uniqueName('pc');
  for (const set of [[], ['namespaces={' + ns + '}']]) {
    const objs = await template(release, ns, set);
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }), allowFailure: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, objs.length, r.stdout);
  }
});
