import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { Registry } from 'prom-client';
import type { AdmissionReviewOut } from './admission.ts';
import { webhookMetrics } from './metrics.ts';
import { webhookRouter, type ReviewEvent } from './routes.ts';
import { agentPod, fakeDeps, podRequest, testConfig } from './testing.ts';

const events: ReviewEvent[] = [];
const registry = new Registry();
const metrics = webhookMetrics(registry);
let server: Server;
let base: string;
let throwInPolicies = false;

before(async () => {
  const app = express();
  app.use(
    webhookRouter({
      injection: fakeDeps(),
      injector: testConfig(),
      policies: {
        resources: {
          list: () => {
            if (throwInPolicies) throw new Error('cache exploded');
            return [];
          },
        },
        policies: { list: () => [] },
      },
      approvals: { policies: { get: () => undefined } },
      onReview: (e) => {
        events.push(e);
        metrics(e);
      },
      maxBodyBytes: 64 * 1024,
    }),
  );
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

async function post(path: string, body: string | object, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as AdmissionReviewOut & { error?: string } };
}

const envelope = (request: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

describe('webhookRouter', () => {
  it('answers an AdmissionReview with the same uid and a JSONPatch for an agent pod', async () => {
    const { status, body } = await post('/mutate-pods', envelope({ ...podRequest(agentPod()), uid: 'abc-123' }));
    assert.equal(status, 200);
    assert.equal(body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(body.kind, 'AdmissionReview');
    assert.equal(body.response.uid, 'abc-123');
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, 'JSONPatch');
    assert.ok(Array.isArray(JSON.parse(Buffer.from(body.response.patch!, 'base64').toString('utf8'))));
    assert.deepEqual(events.at(-1)?.decision, 'mutated');
    assert.equal(events.at(-1)?.webhook, 'mutatePods');
  });

  it('a refusal is allowed=false with the reason, HTTP 200', async () => {
    const { status, body } = await post('/validate-pods', envelope(podRequest(agentPod({ spec: { hostPID: true } }))));
    assert.equal(status, 200);
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /hostPID/);
    assert.equal(events.at(-1)?.decision, 'denied');
  });

  const bad: { name: string; body: string | object; message: RegExp }[] = [
    { name: 'not JSON', body: '{"apiVersion":', message: /body is not JSON/ },
    { name: 'empty body', body: '', message: /empty body/ },
    { name: 'not an AdmissionReview', body: { kind: 'Pod' }, message: /expected AdmissionReview/ },
    { name: 'old review version', body: { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, message: /admission\.k8s\.io\/v1/ },
    { name: 'no request', body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, message: /request is missing/ },
    { name: 'no uid', body: envelope({ operation: 'CREATE' }), message: /uid is missing/ },
    { name: 'unknown operation', body: envelope({ uid: 'x', operation: 'PATCH' }), message: /operation "PATCH"/ },
    { name: 'a JSON array', body: '[1,2]', message: /not a JSON object/ },
  ];
  for (const c of bad) {
    it(`400 with the reason: ${c.name}`, async () => {
      const { status, body } = await post('/validate-policies', c.body);
      assert.equal(status, 400);
      assert.match(body.error ?? '', c.message);
      assert.equal(events.at(-1)?.decision, 'bad-request');
    });
  }

  it('a body over the limit is refused with 413, and the server keeps serving', async () => {
    const { status, body } = await post('/mutate-pods', 'x'.repeat(70 * 1024));
    assert.equal(status, 413);
    assert.match(body.error ?? '', /body over 65536 bytes/);
    const ok = await post('/mutate-pods', envelope(podRequest(agentPod({ labels: { app: 'web' } }))));
    assert.equal(ok.status, 200);
  });

  it('any content type is read as JSON (the API server sends application/json; tools may not)', async () => {
    const { status } = await post('/mutate-pods', envelope(podRequest(agentPod())), { 'content-type': 'text/plain' });
    assert.equal(status, 200);
  });

  it('a handler that throws fails closed: allowed=false with the error', async () => {
    throwInPolicies = true;
    try {
      const object = { metadata: { name: 'p', namespace: 'agents' }, spec: { resources: [] } };
      const { status, body } = await post('/validate-policies', envelope({ uid: 'u', operation: 'CREATE', namespace: 'agents', userInfo: {}, object }));
      assert.equal(status, 200);
      assert.equal(body.response.allowed, false);
      assert.equal(body.response.status?.code, 500);
      assert.match(body.response.status?.message ?? '', /internal error in the \/validate-policies webhook: cache exploded/);
      assert.equal(events.at(-1)?.decision, 'error');
    } finally {
      throwInPolicies = false;
    }
  });

  it('GET is not a webhook', async () => {
    const res = await fetch(`${base}/mutate-pods`);
    assert.equal(res.status, 404);
  });

  it('latency and decisions reach the Prometheus registry', async () => {
    const text = await registry.metrics();
    assert.match(text, /portcullis_webhook_duration_seconds_count\{webhook="mutatePods"\} [1-9]/);
    assert.match(text, /portcullis_webhook_decisions_total\{webhook="validatePolicies",decision="bad-request"\} 8/);
  });
});
