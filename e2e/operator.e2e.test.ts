// The operator's controllers, leader election and sidecar API against the real API server. The operator runs as
// local child processes (`operator/main.ts --local`), watching only this suite's namespace and holding a Lease of
// its own, so suites running side by side never see each other. Sidecars are simulated with the real cluster-mode
// bundle source and tokens minted by TokenRequest, bound to kwok pods. The serving certificate is issued here (the
// operator's own X.509 code) for 127.0.0.1, so the suite runs against the local e2e cluster and an external one alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCrds, createNamespace, deleteNamespace, ensureCluster, kubectl, kubectlJson, uniqueName, type ClusterInfo } from './lib/cluster.ts';
import { startOperatorProcess, stopOperatorProcess, type OperatorProcess as BaseProcess } from './lib/operator-process.ts';
import { eventually } from './lib/eventually.ts';
import { OperatorBundleSource } from '../sidecar/bundle/operator-source.ts';
import type { OfflineBundle } from '../core/manifests/offline-bundle.ts';
import { generateCa, issueServingCertificate } from '../operator/certs/x509.ts';

const LEASE_DURATION = '6s';

let cluster: ClusterInfo;
let ns: string;
let lease: string;
let tmp: string;
let tls: { cert: string; key: string; ca: string };
const operators = new Set<OperatorProcess>();

interface OperatorProcess extends BaseProcess {
  readonly identity: string;
}

async function startOperator(identity: string): Promise<OperatorProcess> {
  const proc = await startOperatorProcess([
    '--namespaces', ns, '--port', '0', '--metrics-port', '0',
    '--lease-name', lease, '--lease-namespace', ns, '--lease-duration', LEASE_DURATION,
    '--identity', identity, '--tls-cert', tls.cert, '--tls-key', tls.key, '--tls-ca', tls.ca,
    // Webhook configurations are cluster-wide: registering ours would send other suites' requests to this operator.
    '--skip-webhook-registration', '--log-level', 'debug',
  ], cluster.kubeconfig, `operator ${identity}`);
  const op = { ...proc, identity };
  operators.add(op);
  return op;
}

async function stopOperator(op: OperatorProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await stopOperatorProcess(op, signal);
  operators.delete(op);
}

interface Condition { type: string; status: string; reason: string; message: string; observedGeneration?: number }
interface Obj {
  metadata: { name: string; uid: string; generation: number; resourceVersion: string; managedFields?: Array<{ manager: string; subresource?: string }> };
  status?: { observedGeneration?: number; conditions?: Condition[]; bundleHash?: string; selectedPods?: number; restartRequired?: unknown[] };
}

const get = (kind: string, name: string) => kubectlJson<Obj>(['get', kind, name, '-n', ns, '--show-managed-fields']);
const cond = (o: Obj, type: string) => o.status?.conditions?.find((c) => c.type === type);

/** The object once its status describes its current generation and `pred` holds. */
function settled(kind: string, name: string, pred: (o: Obj) => boolean, timeoutMs?: number): Promise<Obj> {
  return eventually(`${kind} ${name} to settle`, async () => {
    const o = await get(kind, name);
    return o.status?.observedGeneration === o.metadata.generation && pred(o) ? o : undefined;
  }, timeoutMs);
}

const apply = (objects: unknown[]) => kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });

const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orders-db-agent' }, stringData: { username: 'agent', password: 'pw' } };
const resource = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'ProtectedResource',
  metadata: { name: 'orders-db' },
  spec: {
    protocol: 'postgres',
    endpoint: { host: 'orders-db.data.svc', port: 5432, tls: { mode: 'disable' } },
    credentials: { secretRef: { name: 'orders-db-agent' } },
    expose: { port: 15432, env: { PGHOST: '127.0.0.1', PGPORT: '{{port}}' } },
  },
};
function policy(statements: string[]) {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'AgentPolicy',
    metadata: { name: 'support-agent' },
    spec: {
      agents: { podSelector: { matchLabels: { app: 'support-agent' } } },
      resources: [{ resource: 'orders-db', rules: [{ name: 'reads', action: 'allow', sql: { statements } }] }],
    },
  };
}

const statusManagers = (o: Obj) => (o.metadata.managedFields ?? []).filter((m) => m.subresource === 'status').map((m) => m.manager);

before(async () => {
  cluster = await ensureCluster();
  await applyCrds();
  ns = await createNamespace(uniqueName('op'));
  lease = 'portcullis-operator-e2e';
  tmp = mkdtempSync(join(tmpdir(), 'portcullis-op-e2e-'));
  const ca = generateCa({ validityDays: 1 });
  const leaf = issueServingCertificate(ca, { ipAddresses: ['127.0.0.1'], validityDays: 1 });
  tls = { cert: join(tmp, 'tls.crt'), key: join(tmp, 'tls.key'), ca: join(tmp, 'ca.crt') };
  writeFileSync(tls.cert, leaf.certPem);
  writeFileSync(tls.key, leaf.keyPem, { mode: 0o600 });
  writeFileSync(tls.ca, ca.certPem);
});

after(async () => {
  for (const op of [...operators]) await stopOperator(op);
  if (ns) await deleteNamespace(ns);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let leader: OperatorProcess;
let follower: OperatorProcess;

test('ProtectedResource + Secret + AgentPolicy → both Ready=True with the current observedGeneration', async () => {
  leader = await startOperator('op-a');
  await eventually('op-a to hold the Lease', async () => {
    const l = await kubectlJson<{ spec: { holderIdentity?: string } }>(['get', 'lease', lease, '-n', ns]);
    return l.spec.holderIdentity === 'op-a' ? true : undefined;
  });
  follower = await startOperator('op-b');
  await apply([secret, resource, policy(['select'])]);
  const pr = await settled('protectedresource', 'orders-db', (o) => cond(o, 'Ready')?.status === 'True');
  assert.equal(cond(pr, 'Ready')!.reason, 'Valid');
  assert.equal(cond(pr, 'Ready')!.observedGeneration, pr.metadata.generation);
  const ap = await settled('agentpolicy', 'support-agent', (o) => cond(o, 'Ready')?.status === 'True');
  assert.equal(cond(ap, 'Compiled')!.status, 'True');
  assert.match(ap.status!.bundleHash ?? '', /^[0-9a-f]{64}$/);
  assert.equal(ap.status!.selectedPods, 0);
});

test('two operators: one holds the Lease, and only it writes status', async () => {
  const l = await kubectlJson<{ spec: { holderIdentity?: string } }>(['get', 'lease', lease, '-n', ns]);
  assert.equal(l.spec.holderIdentity, 'op-a');
  for (const [kind, name] of [['protectedresource', 'orders-db'], ['agentpolicy', 'support-agent']] as const) {
    assert.deepEqual(statusManagers(await get(kind, name)), ['portcullis-operator-op-a'], `${kind} status written by op-a only`);
  }
});

test('deleting the credentials Secret → Ready=False SecretNotFound; the policy follows; restoring it heals both', async () => {
  await kubectl(['delete', 'secret', 'orders-db-agent', '-n', ns]);
  const pr = await settled('protectedresource', 'orders-db', (o) => cond(o, 'Ready')?.status === 'False');
  assert.equal(cond(pr, 'Ready')!.reason, 'SecretNotFound');
  assert.match(cond(pr, 'Ready')!.message, /orders-db-agent not found/);
  const ap = await settled('agentpolicy', 'support-agent', (o) => cond(o, 'Ready')?.status === 'False');
  assert.equal(cond(ap, 'Ready')!.reason, 'ResourceNotReady');
  const events = await kubectlJson<{ items: Array<{ reason: string; involvedObject: { name: string }; reportingInstance?: string }> }>(['get', 'events', '-n', ns]);
  assert.ok(events.items.some((e) => e.reason === 'SecretNotFound' && e.involvedObject.name === 'orders-db' && e.reportingInstance === 'op-a'), 'a Warning event from the leader');

  await apply([secret]);
  await settled('protectedresource', 'orders-db', (o) => cond(o, 'Ready')?.status === 'True');
  await settled('agentpolicy', 'support-agent', (o) => cond(o, 'Ready')?.status === 'True');
});

test('a policy edit changes bundleHash and observedGeneration', async () => {
  const before = await get('agentpolicy', 'support-agent');
  await apply([policy(['select', 'insert'])]);
  const after = await settled('agentpolicy', 'support-agent', (o) => o.status?.bundleHash !== before.status?.bundleHash);
  assert.equal(after.metadata.generation, before.metadata.generation + 1);
  assert.equal(cond(after, 'Ready')!.status, 'True');
});

test('a policy the schema accepts but the compiler does not: Compiled=False with the rule and field in the message', async () => {
  // A kubernetes matcher on a postgres resource passes the CRD schema; only the compiler knows the protocols.
  const bad = {
    ...policy([]),
    metadata: { name: 'broken' },
    spec: {
      agents: { podSelector: { matchLabels: { app: 'nobody' } } },
      resources: [{ resource: 'orders-db', rules: [{ name: 'reads', action: 'allow', kubernetes: { verbs: ['get'] } }] }],
    },
  };
  await apply([bad]);
  try {
    const o = await settled('agentpolicy', 'broken', (x) => cond(x, 'Compiled')?.status === 'False');
    assert.match(cond(o, 'Compiled')!.message, /spec\.resources\[0\]\.rules\[0\]\.kubernetes \(rule "reads"\): a postgres resource takes "sql" rules/);
    assert.equal(cond(o, 'Ready')!.status, 'False');
    assert.equal(o.status!.bundleHash, undefined);
  } finally {
    await kubectl(['delete', 'agentpolicy', 'broken', '-n', ns]);
  }
});

interface Sidecar { source: OperatorBundleSource; pod: string }

async function simulatedSidecar(port: number, pod: string, labels: Record<string, string>): Promise<Sidecar> {
  await kubectl(['create', 'serviceaccount', `sa-${pod}`, '-n', ns]);
  await kubectl(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels },
      spec: { serviceAccountName: `sa-${pod}`, automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'pause:3.10' }] },
    }),
  });
  const uid = (await kubectlJson<Obj>(['get', 'pod', pod, '-n', ns])).metadata.uid;
  const token = await kubectl(['create', 'token', `sa-${pod}`, '-n', ns, '--audience', 'portcullis-sidecar',
    '--bound-object-kind', 'Pod', '--bound-object-name', pod, '--bound-object-uid', uid, '--duration', '10m']);
  const tokenFile = join(tmp, `${pod}.token`);
  writeFileSync(tokenFile, token.stdout.trim());
  const source = new OperatorBundleSource({ url: `https://127.0.0.1:${port}`, tokenFile, caFile: tls.ca, minBackoffMs: 100, maxBackoffMs: 1000 });
  return { source, pod };
}

test('a simulated sidecar with a pod-bound token gets its bundle, then the update within seconds of a policy edit', async () => {
  const sc = await simulatedSidecar(follower.port, 'agent-1', { app: 'support-agent' });
  try {
    const first = await sc.source.load(20_000);
    const ap = await settled('agentpolicy', 'support-agent', (o) => o.status?.selectedPods === 1);
    assert.equal(first.bundle.hash, ap.status!.bundleHash, 'a pod selected by this policy alone gets the policy\'s bundle (the follower serves it too)');
    assert.deepEqual(first.bundle.key, [`${ns}/support-agent`]);
    const issuers = Object.keys(first.bundle.jwks ?? {});
    assert.equal(issuers.length, 1, 'the cluster issuer keys are in the bundle');
    if (cluster.serviceAccountIssuer) assert.equal(issuers[0], cluster.serviceAccountIssuer);

    const updated = new Promise<OfflineBundle>((resolve) => sc.source.once('bundle', resolve));
    sc.source.watch();
    const edited = Date.now();
    await apply([policy(['select', 'insert', 'update'])]);
    const next = await updated;
    const elapsed = Date.now() - edited;
    assert.notEqual(next.bundle.hash, first.bundle.hash);
    assert.deepEqual(next.bundle.resources[0]!.rules.map((r) => r.sql?.statements), [['select', 'insert', 'update']]);
    assert.ok(elapsed < 5000, `update reached the sidecar in ${elapsed} ms`);
  } finally {
    sc.source.close();
  }
});

test('the sidecar API refuses tokens that are not bound to a live pod of ours', async () => {
  const call = async (token: string) => {
    const file = join(tmp, 'probe.token');
    writeFileSync(file, token);
    const src = new OperatorBundleSource({ url: `https://127.0.0.1:${leader.port}`, tokenFile: file, caFile: tls.ca, minBackoffMs: 10 });
    src.on('error', () => {});
    try {
      await src.load(0);
      return 'served';
    } catch (e) {
      return (e as Error).message;
    } finally {
      src.close();
    }
  };
  await kubectl(['create', 'serviceaccount', 'unbound', '-n', ns]);
  const unbound = (await kubectl(['create', 'token', 'unbound', '-n', ns, '--audience', 'portcullis-sidecar'])).stdout.trim();
  assert.match(await call(unbound), /403: the token is not bound to a pod/);
  const wrongAudience = (await kubectl(['create', 'token', 'unbound', '-n', ns])).stdout.trim();
  assert.match(await call(wrongAudience), /401/);
  assert.match(await call('not-a-token'), /401/);

  // A token bound to a pod that is then deleted: the API server's TokenReview or our cache refuses it.
  const sc = await simulatedSidecar(leader.port, 'agent-gone', { app: 'support-agent' });
  sc.source.close();
  const token = (await kubectl(['create', 'token', 'sa-agent-gone', '-n', ns, '--audience', 'portcullis-sidecar', '--bound-object-kind', 'Pod',
    '--bound-object-name', 'agent-gone', '--bound-object-uid', (await get('pod', 'agent-gone')).metadata.uid])).stdout.trim();
  assert.equal(await call(token), 'served');
  await kubectl(['delete', 'pod', 'agent-gone', '-n', ns, '--grace-period=0', '--force']);
  await eventually('the deleted pod\'s token to be refused', async () => {
    const r = await call(token);
    return /40[13]/.test(r) ? r : undefined;
  });
});

test('kill -9 of the leader mid-reconcile: the other replica takes over and the status converges to the latest generation', async () => {
  // Freeze the leader (it holds the Lease and cannot reconcile), change both objects, then kill it: whatever it was
  // in the middle of, the work must be done by the successor, once.
  leader.child.kill('SIGSTOP');
  await apply([policy(['select', 'delete'])]);
  await kubectl(['delete', 'secret', 'orders-db-agent', '-n', ns]);
  await stopOperator(leader, 'SIGKILL');
  const takeover = await eventually('op-b to take the Lease', async () => {
    const l = await kubectlJson<{ spec: { holderIdentity?: string; leaseTransitions?: number } }>(['get', 'lease', lease, '-n', ns]);
    return l.spec.holderIdentity === 'op-b' ? l.spec : undefined;
  }, 30_000);
  assert.ok((takeover.leaseTransitions ?? 0) >= 1);
  const pr = await settled('protectedresource', 'orders-db', (o) => cond(o, 'Ready')?.reason === 'SecretNotFound', 30_000);
  assert.equal(cond(pr, 'Ready')!.observedGeneration, pr.metadata.generation);
  const ap = await settled('agentpolicy', 'support-agent', (o) => cond(o, 'Ready')?.reason === 'ResourceNotReady', 30_000);
  const sc = await simulatedSidecar(follower.port, 'agent-2', { app: 'support-agent' });
  try {
    const served = await sc.source.load(10_000);
    assert.deepEqual(served.bundle.resources[0]!.rules.map((r) => r.sql?.statements), [['select', 'delete']], 'the latest generation is what is served');
  } finally {
    sc.source.close();
  }
  assert.ok(statusManagers(ap).includes('portcullis-operator-op-b'), 'the new leader wrote the status');

  // Converged: nothing keeps rewriting the status (no duplicate work, no hot loop).
  const rv = (await get('agentpolicy', 'support-agent')).metadata.resourceVersion;
  const prRv = (await get('protectedresource', 'orders-db')).metadata.resourceVersion;
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await get('agentpolicy', 'support-agent')).metadata.resourceVersion, rv);
  assert.equal((await get('protectedresource', 'orders-db')).metadata.resourceVersion, prRv);
});

test('a graceful stop releases the Lease at once', async () => {
  const c = await startOperator('op-c');
  await stopOperator(follower);
  const l = await eventually('op-c to lead after op-b released the Lease', async () => {
    const x = await kubectlJson<{ spec: { holderIdentity?: string } }>(['get', 'lease', lease, '-n', ns]);
    return x.spec.holderIdentity === 'op-c' ? x : undefined;
  }, 5_000);
  assert.ok(l);
  assert.equal(await follower.exited, 0);
  await stopOperator(c);
});
