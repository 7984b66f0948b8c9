// Operator at scale against the real API server: N kwok pods (default 1000) selected by one AgentPolicy.
// Reports (targets from the operator issue):
//   - apply → Ready: from creating the Secret, ProtectedResource and AgentPolicy until both are Ready=True with every
//     pod counted in selectedPods (target ≤ 5 s);
//   - policy change → every sidecar updated: N simulated sidecars (the real cluster-mode bundle source, each with a
//     TokenRequest token bound to its own pod) long-poll the operator; from the policy edit until the last one has the
//     new bundle (target ≤ 5 s).
// Run: eval "$(make -s cluster-up | tail -1)"; node bench/operator-bundles.bench.ts   (BENCH_PODS=N to change N)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { applyCrds, createNamespace, deleteNamespace, ensureCluster, uniqueName } from '../e2e/lib/cluster.ts';
import { kubeApiFromConfig, expectOk, type KubeApi } from '../operator/kube/rest.ts';
import { OperatorBundleSource } from '../sidecar/bundle/operator-source.ts';
import { spawnOperator } from './operator-harness.ts';
import { generateCa, issueServingCertificate } from '../operator/certs/x509.ts';
import { percentile, pool } from './stats.ts';

const N = Number(process.env.BENCH_PODS ?? 1000);
const CONCURRENCY = 25;


async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cluster = await ensureCluster();
await applyCrds();
const ns = await createNamespace(uniqueName('opbench'));
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-opbench-'));
const ca = generateCa({ validityDays: 1 });
const leaf = issueServingCertificate(ca, { ipAddresses: ['127.0.0.1'], validityDays: 1 });
const tls = { cert: join(tmp, 'tls.crt'), key: join(tmp, 'tls.key'), ca: join(tmp, 'ca.crt') };
writeFileSync(tls.cert, leaf.certPem);
writeFileSync(tls.key, leaf.keyPem, { mode: 0o600 });
writeFileSync(tls.ca, ca.certPem);
const kc = new KubeConfig();
kc.loadFromFile(cluster.kubeconfig);
const api: KubeApi = kubeApiFromConfig(kc);
const crd = (plural: string, name?: string) => `/apis/portcullis.dev/v1alpha1/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;

let operator: Awaited<ReturnType<typeof spawnOperator>> | undefined;
const sources: OperatorBundleSource[] = [];
try {
  await expectOk(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: 'bench-agent' } } });
  const names = Array.from({ length: N }, (_, i) => `agent-${i}`);
  const uids = new Map<string, string>();
  let t = Date.now();
  await pool(names, CONCURRENCY, async (name) => {
    const pod = await expectOk<{ metadata: { uid: string } }>(api, 'POST', `/api/v1/namespaces/${ns}/pods`, {
      body: { metadata: { name, labels: { app: 'bench-agent' } }, spec: { serviceAccountName: 'bench-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'pause:3.10' }] } },
    });
    uids.set(name, pod.metadata.uid);
  });
  process.stderr.write(`created ${N} pods in ${Date.now() - t} ms\n`);

  operator = await spawnOperator(['--namespaces', ns, '--port', '0', '--metrics-port', '0', '--lease-namespace', ns, '--identity', 'bench',
    '--tls-cert', tls.cert, '--tls-key', tls.key, '--tls-ca', tls.ca, '--skip-webhook-registration', '--log-level', 'warn'], { KUBECONFIG: cluster.kubeconfig });
  const op = operator;

  // apply → Ready
  const policy = (statements: string[]) => ({
    apiVersion: 'portcullis.dev/v1alpha1', kind: 'AgentPolicy', metadata: { name: 'bench' },
    spec: { agents: { podSelector: { matchLabels: { app: 'bench-agent' } } }, resources: [{ resource: 'db', rules: [{ name: 'r', action: 'allow', sql: { statements } }] }] },
  });
  t = Date.now();
  await expectOk(api, 'POST', `/api/v1/namespaces/${ns}/secrets`, { body: { metadata: { name: 'db-creds' }, stringData: { username: 'u', password: 'p' } } });
  await expectOk(api, 'POST', crd('protectedresources'), {
    body: { apiVersion: 'portcullis.dev/v1alpha1', kind: 'ProtectedResource', metadata: { name: 'db' }, spec: { protocol: 'postgres', endpoint: { host: 'db', port: 5432 }, credentials: { secretRef: { name: 'db-creds' } }, expose: { port: 15432 } } },
  });
  await expectOk(api, 'POST', crd('agentpolicies'), { body: policy(['select']) });
  type Status = { metadata: { generation: number }; status?: { observedGeneration?: number; selectedPods?: number; bundleHash?: string; conditions?: Array<{ type: string; status: string }> } };
  const isReady = (o: Status) => o.status?.observedGeneration === o.metadata.generation && o.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const ready = await until('Ready', 60_000, async () => {
    const [pr, ap] = await Promise.all([expectOk<Status>(api, 'GET', crd('protectedresources', 'db')), expectOk<Status>(api, 'GET', crd('agentpolicies', 'bench'))]);
    return isReady(pr) && isReady(ap) && ap.status?.selectedPods === N ? ap : undefined;
  });
  const readyMs = Date.now() - t;
  process.stderr.write(`apply → Ready (selectedPods=${N}): ${readyMs} ms\n`);

  // N sidecars with pod-bound tokens.
  t = Date.now();
  await pool(names, CONCURRENCY, async (name, i) => {
    const tr = await expectOk<{ status: { token: string } }>(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/bench-agent/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['portcullis-sidecar'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name, uid: uids.get(name) } } },
    });
    const tokenFile = join(tmp, `${name}.token`);
    writeFileSync(tokenFile, tr.status.token);
    sources[i] = new OperatorBundleSource({ url: `https://127.0.0.1:${op.port}`, tokenFile, caFile: tls.ca, minBackoffMs: 200, maxBackoffMs: 2000 });
  });
  const initial = new Array<string>(N);
  await pool(sources, CONCURRENCY, async (s, i) => {
    initial[i] = (await s.load(30_000)).bundle.hash;
  });
  process.stderr.write(`${N} sidecars loaded their bundle in ${Date.now() - t} ms\n`);
  if (new Set(initial).size !== 1 || initial[0] !== ready.status?.bundleHash) throw new Error('sidecars got a bundle other than the policy\'s');

  const updatedAt = new Array<number>(N).fill(0);
  sources.forEach((s, i) => {
    s.on('bundle', (b) => {
      if (b.bundle.hash !== initial[i] && updatedAt[i] === 0) updatedAt[i] = Date.now();
    });
    s.on('error', () => {});
    s.watch();
  });
  const metricsUrl = `http://127.0.0.1:${op.metricsPort}/metrics`;
  await until('every sidecar to be long-polling', 30_000, async () => {
    const text = await (await fetch(metricsUrl)).text();
    const m = /^portcullis_operator_bundle_waiters (\d+)/m.exec(text);
    return m && Number(m[1]) === N ? true : undefined;
  });

  // policy change → every sidecar has the new bundle
  const edited = Date.now();
  await expectOk(api, 'PATCH', crd('agentpolicies', 'bench'), { contentType: 'application/merge-patch+json', body: { spec: policy(['select', 'insert']).spec } });
  await until('every sidecar to get the new bundle', 60_000, async () => (updatedAt.every((x) => x > 0) ? true : undefined));
  const lat = updatedAt.map((x) => x - edited).sort((a, b) => a - b);
  const result = {
    pods: N,
    applyToReadyMs: readyMs,
    policyChangeToAllSidecarsMs: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] },
    targets: { applyToReadyMs: 5000, policyChangeToAllSidecarsMs: 5000 },
  };
  const ok = (v: number, target: number) => (v <= target ? 'ok' : 'MISSED');
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(`apply → Ready:                       ${readyMs} ms (target ≤ 5000: ${ok(readyMs, 5000)})\n`);
  process.stdout.write(`policy change → all ${N} sidecars:  p50 ${result.policyChangeToAllSidecarsMs.p50} ms, p99 ${result.policyChangeToAllSidecarsMs.p99} ms, max ${result.policyChangeToAllSidecarsMs.max} ms (target ≤ 5000: ${ok(result.policyChangeToAllSidecarsMs.max!, 5000)})\n`);
} finally {
  for (const s of sources) s?.close();
  await operator?.stop();
  await deleteNamespace(ns);
  rmSync(tmp, { recursive: true, force: true });
}
