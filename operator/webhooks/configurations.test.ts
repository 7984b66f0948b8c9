import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeApi, RequestOptions } from '../kube/rest.ts';
import { applyWebhookConfigurations, webhookConfigurations } from './configurations.ts';
import { WEBHOOK_PATHS } from './routes.ts';

interface Webhook {
  name: string;
  clientConfig: { url?: string; service?: { name: string; namespace: string; port: number; path: string }; caBundle?: string };
  rules: { operations: string[]; apiGroups: string[]; resources: string[] }[];
  failurePolicy: string;
  sideEffects: string;
  admissionReviewVersions: string[];
  matchPolicy: string;
  namespaceSelector?: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  objectSelector?: unknown;
  reinvocationPolicy?: string;
}

const webhooks = (o: Record<string, unknown>) => o.webhooks as Webhook[];

describe('webhookConfigurations', () => {
  const inCluster = webhookConfigurations({
    operatorNamespace: 'portcullis-system',
    target: { service: { name: 'portcullis-operator', namespace: 'portcullis-system', port: 443 } },
    caBundle: 'PEM',
  });
  const all = [...webhooks(inCluster.mutating), ...webhooks(inCluster.validating)];

  it('routes every handler path exactly once', () => {
    const paths = all.map((w) => w.clientConfig.service?.path).sort();
    assert.deepEqual(paths, Object.values(WEBHOOK_PATHS).sort());
  });

  it('fails closed, has no side effects, speaks admission v1 only, matches equivalent versions', () => {
    for (const w of all) {
      assert.equal(w.failurePolicy, 'Fail', w.name);
      assert.equal(w.sideEffects, 'None', w.name);
      assert.deepEqual(w.admissionReviewVersions, ['v1'], w.name);
      assert.equal(w.matchPolicy, 'Equivalent', w.name);
      assert.equal(w.clientConfig.caBundle, Buffer.from('PEM').toString('base64'));
      assert.equal(w.objectSelector, undefined, 'labels can be copied: no objectSelector exemptions');
    }
  });

  it('pod webhooks: injection-enabled namespaces only, never the operator\'s own', () => {
    const pods = all.filter((w) => w.rules.some((r) => r.resources.some((x) => x.startsWith('pods'))));
    assert.deepEqual(pods.map((w) => w.name).sort(), ['ephemeralcontainers.validate.portcullis.dev', 'pods.inject.portcullis.dev', 'pods.validate.portcullis.dev']);
    for (const w of pods) {
      assert.deepEqual(w.namespaceSelector?.matchExpressions, [
        { key: 'portcullis.dev/injection', operator: 'In', values: ['enabled'] },
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['portcullis-system'] },
      ]);
    }
    const inject = webhooks(inCluster.mutating).find((w) => w.name === 'pods.inject.portcullis.dev')!;
    assert.deepEqual(inject.rules[0]?.operations, ['CREATE']);
    assert.equal(inject.reinvocationPolicy, 'IfNeeded');
    const eph = pods.find((w) => w.name.startsWith('ephemeral'))!;
    assert.deepEqual(eph.rules[0], { operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/ephemeralcontainers'], scope: 'Namespaced' });
  });

  it('custom resources: policies and resources validated on CREATE/UPDATE, approvals stamped on status UPDATE', () => {
    const byName = new Map(all.map((w) => [w.name, w]));
    assert.deepEqual(byName.get('agentpolicies.validate.portcullis.dev')?.rules[0]?.resources, ['agentpolicies']);
    assert.deepEqual(byName.get('protectedresources.validate.portcullis.dev')?.rules[0]?.operations, ['CREATE', 'UPDATE']);
    const approvals = byName.get('approvalrequests.status.portcullis.dev')!;
    assert.deepEqual(approvals.rules[0]?.resources, ['approvalrequests/status']);
    assert.deepEqual(approvals.rules[0]?.apiGroups, ['portcullis.dev']);
    assert.equal(approvals.namespaceSelector, undefined);
    assert.ok(webhooks(inCluster.validating).every((w) => w.reinvocationPolicy === undefined));
  });

  it('local mode uses URLs; cert-manager mode annotates and leaves caBundle to the cainjector', () => {
    const local = webhookConfigurations({ operatorNamespace: 'ns', target: { url: 'https://127.0.0.1:8443/' }, caBundle: 'X' });
    assert.equal(webhooks(local.mutating)[0]?.clientConfig.url, 'https://127.0.0.1:8443/mutate-pods');
    const cm = webhookConfigurations({ operatorNamespace: 'ns', target: { service: { name: 's', namespace: 'ns', port: 443 } }, certManagerCertificate: 'ns/portcullis-webhook' });
    assert.deepEqual((cm.validating.metadata as { annotations: unknown }).annotations, { 'cert-manager.io/inject-ca-from': 'ns/portcullis-webhook' });
    assert.ok(webhooks(cm.validating).every((w) => w.clientConfig.caBundle === undefined));
  });
});

describe('webhookConfigurations: namespace scope', () => {
  it('restricts every webhook to the watched namespaces, pods additionally to enabled ones', () => {
    const scoped = webhookConfigurations({ operatorNamespace: 'op', target: { url: 'https://127.0.0.1:1' }, namespaces: ['a', 'b'] });
    const inScope = { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['a', 'b'] };
    for (const w of [...webhooks(scoped.mutating), ...webhooks(scoped.validating)]) {
      assert.deepEqual(w.namespaceSelector?.matchExpressions.at(-1), inScope, w.name);
    }
    const inject = webhooks(scoped.mutating)[0]!;
    assert.equal(inject.namespaceSelector?.matchExpressions.length, 3);
  });
});

describe('applyWebhookConfigurations', () => {
  it('server-side applies both objects with one field manager, forcing ownership', async () => {
    const calls: { method: string; path: string; opts?: RequestOptions }[] = [];
    const api: KubeApi = {
      async request<T>(method: string, path: string, opts?: RequestOptions) {
        calls.push({ method, path, ...(opts ? { opts } : {}) });
        return { status: 200, body: {} as T };
      },
    };
    await applyWebhookConfigurations(api, webhookConfigurations({ operatorNamespace: 'ns', target: { url: 'https://127.0.0.1:1' } }));
    assert.deepEqual(calls.map((c) => c.path), [
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/portcullis',
      '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/portcullis',
    ]);
    for (const c of calls) {
      assert.equal(c.method, 'PATCH');
      assert.equal(c.opts?.contentType, 'application/apply-patch+yaml');
      assert.deepEqual(c.opts?.query, { fieldManager: 'portcullis-operator', force: 'true' });
    }
  });
});
