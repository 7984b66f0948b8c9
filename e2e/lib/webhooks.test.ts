// Unit tests for the pure part of the webhook registration helper (no cluster needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webhookConfigurations, type WebhookRegistration, type WebhookSpec } from './webhooks.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const spec: WebhookSpec = {
  name: 'inject.portcullis.dev',
  path: '/mutate-pods',
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
};

type Config = { kind: string; metadata: { name: string }; webhooks: Record<string, unknown>[] };

test('builds one configuration per kind, with the URL, caBundle and fail-closed defaults', () => {
  const objects = webhookConfigurations({ name: 'portcullis', port: 9443, mutating: [spec], validating: [{ ...spec, name: 'validate.portcullis.dev', path: '/validate' }] }, PEM) as Config[];
  assert.deepEqual(objects.map((o) => o.kind), ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
  const [mutating, validating] = objects;
  assert.equal(mutating?.metadata.name, 'portcullis');
  const hook = mutating?.webhooks[0] as { clientConfig: { url: string; caBundle: string } } & Record<string, unknown>;
  assert.equal(hook.clientConfig.url, 'https://127.0.0.1:9443/mutate-pods');
  assert.equal(Buffer.from(hook.clientConfig.caBundle, 'base64').toString('utf8'), PEM);
  assert.equal(hook.failurePolicy, 'Fail');
  assert.equal(hook.sideEffects, 'None');
  assert.deepEqual(hook.admissionReviewVersions, ['v1']);
  assert.equal(hook.reinvocationPolicy, 'Never');
  assert.equal((validating?.webhooks[0] as Record<string, unknown>).reinvocationPolicy, undefined, 'validating webhooks have none');
});

test('IPv6 hosts are bracketed in the URL', () => {
  const [config] = webhookConfigurations({ name: 'x', port: 8443, host: '::1', validating: [spec] }, PEM) as Config[];
  assert.equal((config?.webhooks[0] as { clientConfig: { url: string } }).clientConfig.url, 'https://[::1]:8443/mutate-pods');
});

test('omits a kind that has no webhooks', () => {
  assert.deepEqual((webhookConfigurations({ name: 'x', port: 1, validating: [spec] }, PEM) as Config[]).map((o) => o.kind), ['ValidatingWebhookConfiguration']);
  assert.deepEqual(webhookConfigurations({ name: 'x', port: 1 }, PEM), []);
});

const invalid: [string, WebhookRegistration][] = [
  ['port 0', { name: 'x', port: 0, mutating: [spec] }],
  ['port above 65535', { name: 'x', port: 70000, mutating: [spec] }],
  ['fractional port', { name: 'x', port: 1.5, mutating: [spec] }],
  ['path without a leading slash', { name: 'x', port: 1, mutating: [{ ...spec, path: 'mutate' }] }],
  ['reinvocationPolicy on a validating webhook', { name: 'x', port: 1, validating: [{ ...spec, reinvocationPolicy: 'IfNeeded' }] }],
];
for (const [why, registration] of invalid) {
  test(`refuses ${why}`, () => {
    assert.throws(() => webhookConfigurations(registration, PEM));
  });
}
