// --local convenience: server-side apply the repository's CRDs (crds/*.yaml) and wait until the API server serves
// them, so `make operator-local` works against a fresh cluster. In a cluster, Helm installs the CRDs instead.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { expectOk, type KubeApi } from './kube/rest.ts';

export const CRD_DIR = resolve(import.meta.dirname, '..', 'crds');
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface Crd {
  metadata: { name: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

export async function applyCrds(api: KubeApi, dir = CRD_DIR, timeoutMs = 60_000): Promise<string[]> {
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as Crd;
    await expectOk(api, 'PATCH', `${CRD_PATH}/${crd.metadata.name}`, {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'portcullis-operator-local', force: 'true' },
      body: crd,
    });
    names.push(crd.metadata.name);
  }
  const end = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await expectOk<Crd>(api, 'GET', `${CRD_PATH}/${name}`);
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > end) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return names;
}
