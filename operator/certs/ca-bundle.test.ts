import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeApi, RequestOptions } from '../kube/rest.ts';
import { publishCaBundle } from './ca-bundle.ts';

interface Call {
  method: string;
  path: string;
  opts?: RequestOptions;
}

function fakeApi(objects: Record<string, unknown>, patchStatus = 200): KubeApi & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async request<T>(method: string, path: string, opts?: RequestOptions) {
      calls.push({ method, path, ...(opts ? { opts } : {}) });
      if (method === 'GET') {
        const body = objects[path];
        return { status: body ? 200 : 404, body: (body ?? { reason: 'NotFound' }) as T };
      }
      return { status: patchStatus, body: {} as T };
    },
  };
}

const CA = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const b64 = Buffer.from(CA).toString('base64');
const M = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/portcullis';
const V = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/portcullis';

describe('publishCaBundle', () => {
  it('patches only the webhooks whose caBundle differs, each guarded by a test of its name', async () => {
    const api = fakeApi({
      [M]: { webhooks: [{ name: 'pods.inject.portcullis.dev', clientConfig: { caBundle: b64 } }, { name: 'approvals.portcullis.dev', clientConfig: {} }] },
      [V]: { webhooks: [{ name: 'a.portcullis.dev', clientConfig: { caBundle: b64 } }] },
    });
    const changed = await publishCaBundle(api, { mutating: ['portcullis'], validating: ['portcullis'] }, CA);
    assert.deepEqual(changed, ['portcullis']);
    const patches = api.calls.filter((c) => c.method === 'PATCH');
    assert.equal(patches.length, 1);
    assert.equal(patches[0]?.path, M);
    assert.equal(patches[0]?.opts?.contentType, 'application/json-patch+json');
    assert.deepEqual(patches[0]?.opts?.body, [
      { op: 'test', path: '/webhooks/1/name', value: 'approvals.portcullis.dev' },
      { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: b64 },
    ]);
  });

  it('configurations that are not installed are skipped', async () => {
    const api = fakeApi({});
    assert.deepEqual(await publishCaBundle(api, { mutating: ['portcullis'], validating: ['portcullis'] }, CA), []);
    assert.ok(api.calls.every((c) => c.method === 'GET'));
  });

  it('a failed patch (e.g. the test guard after a concurrent edit) throws, for the next check to retry', async () => {
    const api = fakeApi({ [M]: { webhooks: [{ name: 'x.portcullis.dev', clientConfig: {} }] } }, 422);
    await assert.rejects(publishCaBundle(api, { mutating: ['portcullis'], validating: [] }, CA), /PATCH .*: 422/);
  });
});
