// The whole path in cluster mode: the operator (local process, webhooks registered by URL and scoped to this
// suite's namespace) injects a pod; kwok runs no containers, so the sidecar runs "as the kubelet would run it" — a
// local process given exactly the configuration of the injected container (its env, the Secret files of its
// credential volumes, a TokenRequest token bound to the pod for its own audience). An agent then talks to a real
// PostgreSQL through it with a token bound to the same pod.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOperatorProcess, type OperatorProcess } from './lib/operator-process.ts';
import { eventually } from './lib/eventually.ts';
import { createInterface } from 'node:readline';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { applyCrds, createNamespace, deleteNamespace, ensureCluster, kubectl, kubectlJson, REPO_ROOT, uniqueName, type ClusterInfo } from './lib/cluster.ts';
import { webhookServingCert } from './lib/webhooks.ts';
import { registerLocalWebhooks } from '../operator/webhooks/configurations.ts';
import { startPostgres, freePort, type PgServer } from './lib/postgres.ts';
import { agentRole, createShop } from './lib/shop-fixture.ts';
import { psql } from './lib/pg-clients.ts';


let cluster: ClusterInfo;
let ns: string;
let opNs: string;
let pg: PgServer;
let exposePort: number;
let operator: OperatorProcess | undefined;
let unregister: (() => Promise<void>) | undefined;
let sidecar: { child: ChildProcess; exited: Promise<number | null>; logs: string[] } | undefined;
const work = mkdtempSync(join(tmpdir(), 'portcullis-cluster-mode-'));


const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const apply = (items: unknown[]) => kubectl(['apply', '-n', ns, '-f', '-'], { input: list(items), allowFailure: true });

function policy(extraRules: unknown[] = []) {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'AgentPolicy',
    metadata: { name: 'support-agent' },
    spec: {
      agents: { podSelector: { matchLabels: { app: 'support-agent' } } },
      resources: [{
        resource: 'shop-db',
        rules: [
          { name: 'reads', action: 'allow', sql: { statements: ['select', 'show', 'set'] } },
          ...extraRules,
        ],
        masking: [{ classification: 'card', strategy: 'last4' }],
      }],
    },
  };
}

async function startOperator(): Promise<OperatorProcess> {
  const pki = cluster.pki!;
  return startOperatorProcess([
    '--skip-webhook-registration', '--skip-crds',
    '--namespaces', ns, '--port', '0', '--metrics-port', '0',
    '--lease-name', 'portcullis-cluster-mode-e2e', '--lease-namespace', opNs, '--operator-namespace', opNs,
    '--cert-mode', 'files', '--tls-cert', pki.webhookCert, '--tls-key', pki.webhookKey, '--tls-ca', pki.caCert,
    '--sidecar-image', 'registry.example/portcullis-sidecar:e2e', '--log-level', 'info',
  ], cluster.kubeconfig);
}

const token = async (pod: V1Pod, audience: string) => {
  const r = await kubectl(['create', 'token', 'default', '-n', ns, '--audience', audience, '--duration', '10m',
    '--bound-object-kind', 'Pod', '--bound-object-name', pod.metadata!.name!, '--bound-object-uid', pod.metadata!.uid!]);
  return r.stdout.trim();
};

/** Runs the injected sidecar container's configuration as a local process. */
async function runInjectedSidecar(pod: V1Pod, c: V1Container): Promise<NonNullable<typeof sidecar>> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath;
      env[e.name] = path === 'metadata.name' ? pod.metadata!.name! : path === 'metadata.namespace' ? pod.metadata!.namespace! : path === 'metadata.uid' ? pod.metadata!.uid! : '';
    }
  }
  // The kubelet's part: the projected sidecar token and the Secret volumes, as files.
  const tokenFile = join(work, 'sidecar-token');
  writeFileSync(tokenFile, await token(pod, 'portcullis-sidecar'));
  const credDir = join(work, 'credentials');
  for (const m of c.volumeMounts ?? []) {
    const vol = pod.spec!.volumes!.find((v) => v.name === m.name);
    if (!vol?.secret?.secretName) continue;
    const s = await kubectlJson<{ data: Record<string, string> }>(['get', 'secret', vol.secret.secretName, '-n', ns, '-o', 'json']);
    const dir = join(credDir, m.mountPath.split('/').pop()!);
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(s.data)) writeFileSync(join(dir, k), Buffer.from(v, 'base64'));
  }
  const adminPort = await freePort();
  const child = spawn(join(REPO_ROOT, 'bin', 'portcullis-sidecar'), [], {
    env: {
      ...process.env,
      ...env,
      PORTCULLIS_SIDECAR_TOKEN_FILE: tokenFile,
      PORTCULLIS_CREDENTIALS_DIR: credDir,
      PORTCULLIS_RECORDS: join(work, 'records'),
      PORTCULLIS_ADMIN_PORT: String(adminPort),
      PORTCULLIS_ADMIN_ADDRESS: '127.0.0.1',
      // In the cluster the Service name resolves to the operator; here it runs on loopback.
      PORTCULLIS_OPERATOR_URL: `https://127.0.0.1:${operator!.port}`,
      PORTCULLIS_AGENT_KUBECONFIG_FILE: join(work, 'agent-kubeconfig'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (l) => logs.push(l));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('portcullis-sidecar ready')) resolve();
    });
    void exited.then((code) => reject(new Error(`sidecar exited ${code}:\n${logs.join('\n')}`)));
  });
  return { child, exited, logs };
}

let agentPod: V1Pod;

before(async () => {
  cluster = await ensureCluster();
  await applyCrds();
  ns = await createNamespace(uniqueName('cm'), { 'portcullis.dev/injection': 'enabled' });
  opNs = await createNamespace(uniqueName('cm-op'));
  pg = await startPostgres();
  createShop(pg);
  exposePort = await freePort();
  const r = await apply([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-db-agent' }, stringData: { username: agentRole.user, password: agentRole.password, database: 'shop' } },
    {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'ProtectedResource',
      metadata: { name: 'shop-db' },
      spec: {
        protocol: 'postgres',
        endpoint: { host: '127.0.0.1', port: pg.port, tls: { mode: 'disable' } },
        credentials: { secretRef: { name: 'shop-db-agent' } },
        expose: { port: exposePort, env: { PGHOST: '127.0.0.1', PGPORT: '{{port}}' } },
        classifications: [{ name: 'card', columns: ['public.customers.card_number'], detectors: ['credit-card'] }],
      },
    },
    policy(),
  ]);
  assert.equal(r.code, 0, r.stderr);
  operator = await startOperator();
  unregister = await registerLocalWebhooks(cluster.kubeconfig, operator.port, (await webhookServingCert()).ca, {
    name: uniqueName('portcullis-cm'),
    operatorNamespace: opNs,
    namespaces: [ns],
  });
  await eventually('the default ServiceAccount', async () => ((await kubectl(['get', 'sa', 'default', '-n', ns], { allowFailure: true })).code === 0 ? true : undefined));
  await eventually('the policy to be Ready', async () => {
    const p = await kubectlJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(['get', 'agentpolicy', 'support-agent', '-n', ns, '-o', 'json']);
    return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
  });
  // Create the agent pod once the webhook injects (the API server picks configurations up asynchronously).
  agentPod = await eventually('an injected agent pod', async () => {
    const name = uniqueName('agent');
    const created = await kubectl(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'support-agent' } }, spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1' }] } }),
      allowFailure: true,
    });
    if (created.code !== 0) return undefined;
    const p = await kubectlJson<V1Pod>(['get', 'pod', name, '-n', ns, '-o', 'json']);
    if (p.spec?.initContainers?.some((c) => c.name === 'portcullis-sidecar')) return p;
    await kubectl(['delete', 'pod', name, '-n', ns, '--wait=false'], { allowFailure: true });
    return undefined;
  });
  const container = agentPod.spec!.initContainers!.find((c) => c.name === 'portcullis-sidecar')!;
  sidecar = await runInjectedSidecar(agentPod, container);
}, { timeout: 240_000 });

after(async () => {
  if (sidecar && sidecar.child.exitCode === null) {
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
  }
  await unregister?.().catch(() => {});
  if (operator && operator.child.exitCode === null) {
    operator.child.kill('SIGTERM');
    await operator.exited;
  }
  pg?.stop();
  for (const n of [ns, opNs]) if (n) await deleteNamespace(n);
  rmSync(work, { recursive: true, force: true });
});

test('the agent container gets the sidecar\'s port and a pod-bound token file, never the credentials', () => {
  const agent = agentPod.spec!.containers.find((c) => c.name === 'agent')!;
  const env = new Map((agent.env ?? []).map((e) => [e.name, e.value]));
  assert.equal(env.get('PGPORT'), String(exposePort));
  assert.ok(env.get('PORTCULLIS_TOKEN_FILE'));
  assert.ok(!(agent.volumeMounts ?? []).some((m) => m.name.startsWith('portcullis-cred-')));
  assert.equal(agentPod.spec!.automountServiceAccountToken, false);
});

test('an agent with a token bound to its pod queries PostgreSQL through the cluster-mode sidecar', async () => {
  const t = await token(agentPod, 'portcullis');
  const ok = psql(exposePort, t, 'SELECT count(*) FROM orders');
  assert.equal(ok.status, 0, `${ok.stderr}\n${sidecar!.logs.slice(-20).join('\n')}`);
  assert.equal(ok.stdout.trim(), '20');
  const masked = psql(exposePort, t, 'SELECT card_number FROM customers WHERE id = 1');
  assert.equal(masked.stdout.trim(), '***************1111');
  const denied = psql(exposePort, t, 'DROP TABLE orders');
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /42501.*portcullis/s);
});

test('tokens for another audience, or bound to another pod, are refused', async () => {
  const wrongAudience = await token(agentPod, 'portcullis-sidecar');
  assert.match(psql(exposePort, wrongAudience, 'SELECT 1').stderr, /authentication failed/);
  const other = await kubectl(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other-pod', annotations: { 'portcullis.dev/inject': 'false' } }, spec: { containers: [{ name: 'x', image: 'registry.example/x:1' }] } }),
  });
  assert.equal(other.code, 0, other.stderr);
  const otherPod = await kubectlJson<V1Pod>(['get', 'pod', 'other-pod', '-n', ns, '-o', 'json']);
  const foreign = await token(otherPod, 'portcullis');
  const r = psql(exposePort, foreign, 'SELECT 1');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /authentication failed/);
});

test('a policy change reaches the running sidecar within seconds', async () => {
  const t = await token(agentPod, 'portcullis');
  const started = Date.now();
  const r = await apply([policy([{ name: 'no-customers', action: 'deny', sql: { tables: ['public.customers'] } }])]);
  assert.equal(r.code, 0, r.stderr);
  await eventually('the tightened policy to apply', async () => (psql(exposePort, t, 'SELECT id FROM customers').status !== 0 ? true : undefined), 30_000);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  assert.equal(psql(exposePort, t, 'SELECT count(*) FROM orders').stdout.trim(), '20');
});
