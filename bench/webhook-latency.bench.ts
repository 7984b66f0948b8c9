// Admission webhook latency with the real operator (operator/main.ts --local) and the real API server.
//   1. direct: N pod AdmissionReviews (as the API server sends them: defaulted, with the kube-api-access volume)
//      POSTed to the operator's /mutate-pods and /validate-pods over keep-alive TLS — the webhook's own latency;
//   2. through the API server: N pods created (kwok) in an injection-enabled namespace, each passing the
//      mutating and the validating pod webhook; the create round trip, and the API server's own measurement of
//      each webhook call (apiserver_admission_webhook_admission_duration_seconds, bucketed).
// Target (issue 4): webhook p99 ≤ 50 ms.
// Run: eval "$(make -s cluster-up | tail -1)"; node bench/webhook-latency.bench.ts   (BENCH_PODS=N, default 1000)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { applyCrds, createNamespace, deleteNamespace, ensureCluster, kubectl, uniqueName } from '../e2e/lib/cluster.ts';
import { generateCa, issueServingCertificate } from '../operator/certs/x509.ts';
import { kubeApiFromConfig, type KubeApi } from '../operator/kube/rest.ts';
import { registerLocalWebhooks } from '../operator/webhooks/configurations.ts';
import { spawnOperator } from './operator-harness.ts';
import { percentile, pool } from './stats.ts';

const N = Number(process.env.BENCH_PODS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 25);


function summary(ms: number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

/** Cumulative bucket counts of one webhook's admission duration histogram, from the API server's /metrics. */
async function webhookHistogram(api: KubeApi, webhook: string): Promise<Map<string, number>> {
  const res = await api.request<string>('GET', '/metrics');
  const buckets = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('apiserver_admission_webhook_admission_duration_seconds_bucket{')) continue;
    if (!line.includes(`name="${webhook}"`) || !line.includes('rejected="false"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le) buckets.set(le, (buckets.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The smallest bucket bound holding quantile q of the calls between two snapshots. */
function bucketQuantile(before: Map<string, number>, after: Map<string, number>, q: number): string {
  const bounds = [...after.keys()].sort((a, b) => (a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b)));
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  if (total === 0) return 'no calls';
  for (const le of bounds) {
    const count = (after.get(le) ?? 0) - (before.get(le) ?? 0);
    if (count >= q * total) return le === '+Inf' ? '> largest bucket' : `≤ ${Number(le) * 1000} ms`;
  }
  return '?';
}

const cluster = await ensureCluster();
await applyCrds();
const ns = await createNamespace(uniqueName('whbench'), { 'portcullis.dev/injection': 'enabled' });
const opNs = await createNamespace(uniqueName('whbench-op'));
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-whbench-'));
const ca = generateCa({ validityDays: 1 });
const leaf = issueServingCertificate(ca, { ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], validityDays: 1 });
const tls = { cert: join(tmp, 'tls.crt'), key: join(tmp, 'tls.key'), ca: join(tmp, 'ca.crt') };
writeFileSync(tls.cert, leaf.certPem);
writeFileSync(tls.key, leaf.keyPem, { mode: 0o600 });
writeFileSync(tls.ca, ca.certPem);
const kc = new KubeConfig();
kc.loadFromFile(cluster.kubeconfig);
const api = kubeApiFromConfig(kc);

const operator = await spawnOperator(
  ['--skip-webhook-registration', '--skip-crds', '--namespaces', ns, '--port', '0', '--metrics-port', '0', '--lease-name', 'whbench',
    '--lease-namespace', opNs, '--operator-namespace', opNs, '--cert-mode', 'files', '--tls-cert', tls.cert, '--tls-key', tls.key, '--tls-ca', tls.ca,
    '--sidecar-image', 'registry.example/portcullis-sidecar:bench', '--log-level', 'warn'],
  { KUBECONFIG: cluster.kubeconfig },
);
let unregister: (() => Promise<void>) | undefined;
try {
  const manifests = [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orders-db-agent' }, stringData: { username: 'u', password: 'p' } },
    {
      apiVersion: 'portcullis.dev/v1alpha1', kind: 'ProtectedResource', metadata: { name: 'orders-db' },
      spec: {
        protocol: 'postgres', endpoint: { host: 'db', port: 5432, tls: { mode: 'disable' } }, credentials: { secretRef: { name: 'orders-db-agent' } },
        expose: { port: 15432, env: { PGHOST: '127.0.0.1', PGPORT: '{{port}}' } },
      },
    },
    {
      apiVersion: 'portcullis.dev/v1alpha1', kind: 'AgentPolicy', metadata: { name: 'bench' },
      spec: { agents: { podSelector: { matchLabels: { app: 'agent' } } }, resources: [{ resource: 'orders-db', rules: [{ name: 'r', action: 'allow', sql: { statements: ['select'] } }] }] },
    },
  ];
  await kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }) });
  unregister = await registerLocalWebhooks(cluster.kubeconfig, operator.port, ca.certPem, { name: uniqueName('whbench'), operatorNamespace: opNs, namespaces: [ns] });

  const podManifest = (name: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { app: 'agent' } },
    spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1', env: [{ name: 'A', value: '1' }] }] },
  });
  // Wait until the webhooks are active and the operator's caches select the pods.
  for (const end = Date.now() + 60_000; ; ) {
    const r = await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(podManifest('probe')), allowFailure: true });
    if (r.code === 0 && r.stdout.includes('portcullis-sidecar')) break;
    if (Date.now() > end) throw new Error(`webhooks never became active: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  // What the API server sends: the pod after defaulting and the ServiceAccount plugin (kube-api-access).
  const stored = JSON.parse((await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], {
    input: JSON.stringify({ ...podManifest('template'), metadata: { ...podManifest('template').metadata, annotations: { 'portcullis.dev/inject': 'false' } } }),
  })).stdout) as { metadata: { annotations?: Record<string, string> } };
  delete stored.metadata.annotations;

  // 1. Direct.
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: ca.certPem });
  const review = (i: number, path: string, object: unknown) => new Promise<number>((resolve, reject) => {
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: { uid: `u-${i}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: ns, operation: 'CREATE', userInfo: { username: 'bench' }, object },
    });
    const t0 = performance.now();
    const req = https.request({ host: '127.0.0.1', port: operator.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const out = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response?: { allowed?: boolean; patch?: string } };
        if (res.statusCode !== 200 || !out.response?.allowed) return reject(new Error(`${path}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
        resolve(ms);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  const mutateMs: number[] = [];
  await pool([...Array(N).keys()], CONCURRENCY, async (i) => void mutateMs.push(await review(i, '/mutate-pods', stored)));
  agent.destroy();

  // 2. Through the API server.
  const names = ['pods.inject.portcullis.dev', 'pods.validate.portcullis.dev'];
  const before = await Promise.all(names.map((n) => webhookHistogram(api, n)));
  const createMs: number[] = [];
  const t0 = performance.now();
  await pool([...Array(N).keys()], CONCURRENCY, async (i) => {
    const t = performance.now();
    const res = await api.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: podManifest(`agent-${i}`) });
    if (res.status !== 201) throw new Error(`pod agent-${i}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    createMs.push(performance.now() - t);
  });
  const wall = performance.now() - t0;
  const after = await Promise.all(names.map((n) => webhookHistogram(api, n)));
  const injected = JSON.parse((await kubectl(['get', 'pods', '-n', ns, '-o', 'json'])).stdout) as { items: { metadata: { annotations?: Record<string, string> } }[] };
  const injectedCount = injected.items.filter((p) => p.metadata.annotations?.['portcullis.dev/injected'] === 'true').length;

  const direct = summary(mutateMs);
  const result = {
    pods: N,
    concurrency: CONCURRENCY,
    directMutateMs: direct,
    podCreateMs: summary(createMs),
    podsPerSecond: Math.round((N / wall) * 1000),
    apiServerObserved: Object.fromEntries(names.map((n, i) => [n, { p50: bucketQuantile(before[i]!, after[i]!, 0.5), p99: bucketQuantile(before[i]!, after[i]!, 0.99) }])),
    injected: injectedCount,
    targetP99Ms: 50,
    pass: direct.p99 <= 50 && injectedCount === N,
  };
  console.log(`webhook latency, ${N} pods, ${CONCURRENCY} in flight`);
  console.log(`  direct /mutate-pods          p50 ${direct.p50} ms  p99 ${direct.p99} ms  max ${direct.max} ms   (target p99 ≤ 50 ms: ${direct.p99 <= 50 ? 'met' : 'MISSED'})`);
  console.log(`  pod create via API server    p50 ${result.podCreateMs.p50} ms  p99 ${result.podCreateMs.p99} ms  (${result.podsPerSecond} pods/s; ${injectedCount}/${N} injected)`);
  for (const [n, q] of Object.entries(result.apiServerObserved)) console.log(`  API server → ${n.padEnd(30)} p50 ${q.p50}  p99 ${q.p99}`);
  console.log(JSON.stringify(result));
  process.exitCode = result.pass ? 0 : 1;
} finally {
  await unregister?.().catch(() => {});
  await operator.stop();
  await deleteNamespace(ns);
  await deleteNamespace(opNs);
  rmSync(tmp, { recursive: true, force: true });
}
