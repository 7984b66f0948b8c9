// Keeps `clientConfig.caBundle` of the operator's webhook configurations equal to the CA bundle that verifies the
// serving certificate (self-managed mode). Each webhook is patched with a JSON patch guarded by a `test` of its name
// at that index, so a concurrent edit of the configuration makes the patch fail instead of writing the wrong entry;
// the next check retries.
import type { KubeApi } from '../kube/rest.ts';
import { KubeError } from '../kube/rest.ts';

export interface WebhookConfigurationNames {
  readonly mutating: readonly string[];
  readonly validating: readonly string[];
}

const BASE = '/apis/admissionregistration.k8s.io/v1';

interface Configuration {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/** Returns the names of the configurations it changed; absent configurations are skipped (not installed yet). */
export async function publishCaBundle(api: KubeApi, names: WebhookConfigurationNames, caPem: string): Promise<string[]> {
  const want = Buffer.from(caPem, 'utf8').toString('base64');
  const changed: string[] = [];
  const targets = [
    ...names.mutating.map((n) => `${BASE}/mutatingwebhookconfigurations/${encodeURIComponent(n)}`),
    ...names.validating.map((n) => `${BASE}/validatingwebhookconfigurations/${encodeURIComponent(n)}`),
  ];
  for (const path of targets) {
    const res = await api.request<Configuration>('GET', path);
    if (res.status === 404) continue;
    if (res.status !== 200) throw new KubeError('GET', path, res.status, res.body);
    const ops: object[] = [];
    (res.body.webhooks ?? []).forEach((w, i) => {
      if (w.clientConfig?.caBundle === want) return;
      ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
      ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want });
    });
    if (ops.length === 0) continue;
    const patched = await api.request('PATCH', path, { body: ops, contentType: 'application/json-patch+json' });
    if (patched.status !== 200) throw new KubeError('PATCH', path, patched.status, patched.body);
    changed.push(path.slice(path.lastIndexOf('/') + 1));
  }
  return changed;
}
