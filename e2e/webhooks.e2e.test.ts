// The admission webhooks against the real API server: the operator (operator/main.ts --local, watching only this
// suite's namespaces) serves them over HTTPS on loopback, registered by URL under a configuration name of this run
// and scoped to its namespaces, so suites running side by side never meet these webhooks. kwok runs no containers:
// the checks read the pod specs the API server stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startOperatorProcess, type OperatorProcess } from './lib/operator-process.ts';
import { eventually } from './lib/eventually.ts';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { applyCrds, createNamespace, deleteNamespace, ensureCluster, kubectl, kubectlJson, uniqueName, type ClusterInfo } from './lib/cluster.ts';
import { registerWebhooks, unregisterWebhooks, webhookServingCert } from './lib/webhooks.ts';
import { registerLocalWebhooks } from '../operator/webhooks/configurations.ts';

const SIDECAR_IMAGE = 'registry.example/portcullis-sidecar:e2e';

let cluster: ClusterInfo;
let ns: string; // labelled portcullis.dev/injection=enabled
let plainNs: string; // not labelled
let opNs: string; // the operator's own namespace (lease)
let operator: OperatorProcess | undefined;
let unregister: (() => Promise<void>) | undefined;
let relabel: { server: Server; name: string } | undefined;

async function startOperator(): Promise<OperatorProcess> {
  const pki = cluster.pki!;
  return startOperatorProcess([
    '--skip-webhook-registration', '--skip-crds',
    '--namespaces', `${ns},${plainNs}`, '--port', '0', '--metrics-port', '0',
    '--lease-name', 'portcullis-webhooks-e2e', '--lease-namespace', opNs, '--operator-namespace', opNs,
    '--cert-mode', 'files', '--tls-cert', pki.webhookCert, '--tls-key', pki.webhookKey, '--tls-ca', pki.caCert,
    '--sidecar-image', SIDECAR_IMAGE, '--log-level', 'info',
  ], cluster.kubeconfig);
}


const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const apply = (namespace: string, items: unknown[], opts: { as?: string } = {}) =>
  kubectl(['apply', '-n', namespace, '-f', '-'], { input: list(items), allowFailure: true, ...(opts.as ? { as: opts.as } : {}) });

const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { username: 'agent', password: 'pw', token: 't' } });
const ordersDb = {
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
const prodCluster = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'ProtectedResource',
  metadata: { name: 'prod-cluster' },
  spec: {
    protocol: 'kubernetes',
    endpoint: { url: 'https://kubernetes.default.svc', tls: { mode: 'require' } },
    credentials: { secretRef: { name: 'prod-cluster-token' } },
    expose: { port: 16443, kubeconfig: true },
  },
};
function agentPolicy(statements: string[] = ['select']) {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'AgentPolicy',
    metadata: { name: 'support-agent' },
    spec: {
      agents: { podSelector: { matchLabels: { app: 'support-agent' } } },
      resources: [
        { resource: 'orders-db', rules: [{ name: 'reads', action: 'allow', sql: { statements } }] },
        { resource: 'prod-cluster', rules: [{ name: 'read', action: 'allow', kubernetes: { verbs: ['get', 'list'] } }] },
      ],
      approval: { approvers: { groups: ['sre'] }, timeout: '10m' },
    },
  };
}

/** Passes the CRD schema, not the compiler: a Kubernetes matcher on a postgres resource, masking an unknown classification. */
function brokenPolicy() {
  const p = agentPolicy();
  return {
    ...p,
    metadata: { name: 'broken' },
    spec: {
      ...p.spec,
      resources: [
        { resource: 'orders-db', rules: [{ name: 'reads', action: 'allow', kubernetes: { verbs: ['get'] } }], masking: [{ classification: 'ssn', strategy: 'redact' }] },
      ],
    },
  };
}

function pod(name: string, opts: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown>; container?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: opts.labels ?? { app: 'support-agent' }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1', env: [{ name: 'MODE', value: 'e2e' }], ...opts.container }], ...opts.spec },
  };
}

/** A server-side dry run of a pod create: what the API server would store, or the refusal. */
async function dryRun(namespace: string, manifest: unknown): Promise<{ pod?: V1Pod; error?: string }> {
  const r = await kubectl(['create', '--dry-run=server', '-n', namespace, '-o', 'json', '-f', '-'], { input: JSON.stringify(manifest), allowFailure: true });
  return r.code === 0 ? { pod: JSON.parse(r.stdout) as V1Pod } : { error: r.stderr };
}

const sidecarOf = (p: V1Pod) => p.spec?.initContainers?.find((c) => c.name === 'portcullis-sidecar');
const mounts = (c: V1Container | undefined) => (c?.volumeMounts ?? []).map((m) => m.name).sort();
const envMap = (c: V1Container | undefined) => new Map((c?.env ?? []).map((e) => [e.name, e.value]));

before(async () => {
  cluster = await ensureCluster();
  await applyCrds();
  ns = await createNamespace(uniqueName('wh'), { 'portcullis.dev/injection': 'enabled' });
  plainNs = await createNamespace(uniqueName('wh-plain'));
  opNs = await createNamespace(uniqueName('wh-op'));
  for (const n of [ns, plainNs]) {
    const r = await apply(n, [secret('orders-db-agent'), secret('prod-cluster-token'), ordersDb, prodCluster]);
    assert.equal(r.code, 0, r.stderr);
  }
  operator = await startOperator();
  unregister = await registerLocalWebhooks(cluster.kubeconfig, operator.port, (await webhookServingCert()).ca, {
    name: uniqueName('portcullis-e2e'),
    operatorNamespace: opNs,
    namespaces: [ns, plainNs],
  });
  // The API server picks configurations up asynchronously; the validating webhook is active once it refuses this.
  await eventually('the policy webhook to be active', async () => {
    const bad = { ...brokenPolicy(), metadata: { name: 'probe' } };
    const r = await kubectl(['create', '--dry-run=server', '-n', ns, '-f', '-'], { input: JSON.stringify(bad), allowFailure: true });
    return r.code !== 0 && /agentpolicies\.validate\.portcullis\.dev/.test(r.stderr) ? true : undefined;
  });
  for (const n of [ns, plainNs]) {
    const r = await apply(n, [agentPolicy()]);
    assert.equal(r.code, 0, r.stderr);
  }
  // Injection follows the operator's caches: wait until they select our pods.
  await eventually('the injector to see the policy', async () => ((await dryRun(ns, pod('probe'))).pod && sidecarOf((await dryRun(ns, pod('probe'))).pod!) ? true : undefined));
}, { timeout: 180_000 });

after(async () => {
  if (relabel) {
    await unregisterWebhooks(relabel.name).catch(() => {});
    relabel.server.close();
  }
  await unregister?.().catch(() => {});
  if (operator && operator.child.exitCode === null) {
    operator.child.kill('SIGTERM');
    await operator.exited;
  }
  for (const n of [ns, plainNs, opNs]) if (n) await deleteNamespace(n);
});

test('an invalid AgentPolicy is refused at kubectl apply with the compile error', async () => {
  const r = await apply(ns, [brokenPolicy()]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /admission webhook "agentpolicies\.validate\.portcullis\.dev" denied the request/);
  assert.match(r.stderr, /spec\.resources\[0\]\.rules\[0\]\.kubernetes \(rule "reads"\): a postgres resource takes "sql" rules, not "kubernetes"/);
  assert.match(r.stderr, /spec\.resources\[0\]\.masking\[0\]\.classification: ProtectedResource "orders-db" has no classification "ssn"/);
  const gone = await kubectl(['get', 'agentpolicy', 'broken', '-n', ns], { allowFailure: true });
  assert.notEqual(gone.code, 0, 'nothing was stored');
});

test('a ProtectedResource change that would break a policy is refused, naming the policy', async () => {
  const http = { ...ordersDb, spec: { ...ordersDb.spec, protocol: 'http', endpoint: { url: 'https://orders.example' } } };
  const r = await apply(ns, [http]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /protectedresources\.validate\.portcullis\.dev/);
  assert.match(r.stderr, new RegExp(`AgentPolicy ${ns}/support-agent would no longer compile`));
});

test('a Deployment\'s pods in an enabled namespace get the native sidecar, env and volumes where they belong, no SA token', async () => {
  const template = pod('ignored');
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'support-agent' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'support-agent' } },
      template: { metadata: { labels: template.metadata.labels }, spec: template.spec },
    },
  };
  const r = await apply(ns, [deployment]);
  assert.equal(r.code, 0, r.stderr);
  const pods = await eventually('2 running agent pods', async () => {
    const l = await kubectlJson<{ items: V1Pod[] }>(['get', 'pods', '-n', ns, '-l', 'app=support-agent']);
    const running = l.items.filter((p) => p.status?.phase === 'Running');
    return running.length >= 2 ? running : undefined;
  }, 60_000);
  for (const p of pods) {
    const name = p.metadata?.name;
    const sidecar = sidecarOf(p);
    assert.ok(sidecar, `${name}: sidecar injected`);
    assert.equal(p.spec?.initContainers?.[0]?.name, 'portcullis-sidecar');
    assert.equal(sidecar.restartPolicy, 'Always');
    assert.equal(sidecar.image, SIDECAR_IMAGE);
    assert.equal(sidecar.startupProbe?.httpGet?.path, '/readyz');
    assert.equal(sidecar.securityContext?.runAsUser, 65532);
    assert.equal(sidecar.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(sidecar.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(mounts(sidecar), ['portcullis-agent-config', 'portcullis-cred-orders-db', 'portcullis-cred-prod-cluster', 'portcullis-sidecar-token', 'portcullis-wal']);

    assert.equal(p.spec?.automountServiceAccountToken, false);
    assert.ok(!(p.spec?.volumes ?? []).some((v) => v.name.startsWith('kube-api-access-')), `${name}: no kube-api-access volume`);
    const agent = p.spec!.containers.find((c) => c.name === 'agent')!;
    assert.deepEqual(mounts(agent), ['portcullis-agent-config', 'portcullis-agent-token']);
    assert.ok(agent.volumeMounts!.every((m) => m.readOnly), 'agents mount read-only');
    assert.ok(!agent.volumeMounts!.some((m) => m.mountPath.startsWith('/var/run/secrets/kubernetes.io')), 'no service-account token in the agent');
    const env = envMap(agent);
    assert.equal(env.get('PORTCULLIS_TOKEN_FILE'), '/var/run/secrets/portcullis.dev/agent/token');
    assert.equal(env.get('PGHOST'), '127.0.0.1');
    assert.equal(env.get('PGPORT'), '15432');
    assert.equal(env.get('KUBECONFIG'), '/var/run/portcullis/kubeconfig');
    assert.equal(env.get('MODE'), 'e2e');

    const volumes = new Map((p.spec?.volumes ?? []).map((v) => [v.name, v]));
    assert.equal(volumes.get('portcullis-cred-orders-db')?.secret?.secretName, 'orders-db-agent');
    assert.equal(volumes.get('portcullis-sidecar-token')?.projected?.sources?.[0]?.serviceAccountToken?.audience, 'portcullis-sidecar');
    assert.equal(volumes.get('portcullis-agent-token')?.projected?.sources?.[0]?.serviceAccountToken?.audience, 'portcullis');
    assert.equal(volumes.get('portcullis-agent-token')?.projected?.sources?.[0]?.serviceAccountToken?.expirationSeconds, 600);
    assert.ok(volumes.get('portcullis-wal')?.emptyDir?.sizeLimit, 'the WAL is size-bounded');

    assert.equal(p.metadata?.annotations?.['portcullis.dev/injected'], 'true');
    assert.equal(p.metadata?.annotations?.['portcullis.dev/policies'], `${ns}/support-agent`);
    assert.equal(p.metadata?.annotations?.['portcullis.dev/resources'], 'orders-db,prod-cluster');
  }
});

test('pods left untouched: an unlabelled namespace, the opt-out annotation, pods no policy selects', async () => {
  const cases: [string, string, unknown][] = [
    ['unlabelled namespace', plainNs, pod('plain')],
    ['opt-out annotation', ns, pod('opted-out', { annotations: { 'portcullis.dev/inject': 'false' } })],
    ['not selected', ns, pod('web', { labels: { app: 'web' } })],
  ];
  for (const [name, namespace, manifest] of cases) {
    const { pod: stored, error } = await dryRun(namespace, manifest);
    assert.ok(stored, `${name}: ${error}`);
    assert.equal(sidecarOf(stored), undefined, name);
    assert.ok((stored.spec?.volumes ?? []).some((v) => v.name.startsWith('kube-api-access-')), `${name}: the SA token stays`);
    assert.equal(stored.metadata?.annotations?.['portcullis.dev/injected'], undefined, name);
  }
});

test('pod shapes that defeat isolation are refused with the reason', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['shareProcessNamespace', pod('u1', { spec: { shareProcessNamespace: true } }), /shareProcessNamespace is true/],
    ['hostNetwork', pod('u2', { spec: { hostNetwork: true } }), /hostNetwork is true/],
    ['hostPID', pod('u3', { spec: { hostPID: true } }), /hostPID is true/],
    ['hostIPC', pod('u4', { spec: { hostIPC: true } }), /hostIPC is true/],
    ['hostPath', pod('u5', { spec: { volumes: [{ name: 'node', hostPath: { path: '/var/lib/kubelet' } }] } }), /"node" is a hostPath volume/],
    ['privileged agent', pod('u6', { container: { securityContext: { privileged: true } } }), /"agent" is privileged/],
    ['CAP_SYS_ADMIN', pod('u7', { container: { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } } }), /adds capability SYS_ADMIN/],
    ['NET_ADMIN', pod('u8', { container: { securityContext: { capabilities: { add: ['NET_ADMIN'] } } } }), /adds capability NET_ADMIN/],
    ['SYS_PTRACE', pod('u9', { container: { securityContext: { capabilities: { add: ['SYS_PTRACE'] } } } }), /adds capability SYS_PTRACE/],
    ['the sidecar UID (pod)', pod('u10', { spec: { securityContext: { runAsUser: 65532 } } }), /runs as UID 65532/],
    ['the sidecar UID (container)', pod('u11', { container: { securityContext: { runAsUser: 65532 } } }), /runs as UID 65532/],
    ['a reserved volume', pod('u12', { spec: { volumes: [{ name: 'portcullis-wal', emptyDir: {} }] } }), /reserved for the Portcullis sidecar/],
    [
      'a non-agent pod reading a credentials Secret (envFrom)',
      pod('u13', { labels: { app: 'web' }, container: { envFrom: [{ secretRef: { name: 'orders-db-agent' } }] } }),
      /envFrom\[0\] reads Secret "orders-db-agent"/,
    ],
    [
      'a non-agent pod mounting a credentials Secret',
      pod('u14', { labels: { app: 'web' }, spec: { volumes: [{ name: 'c', secret: { secretName: 'prod-cluster-token' } }] } }),
      /mounts Secret "prod-cluster-token"/,
    ],
    [
      'an opted-out pod reading a credentials Secret (env)',
      pod('u15', { annotations: { 'portcullis.dev/inject': 'false' }, container: { env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'orders-db-agent', key: 'password' } } }] } }),
      /env PW reads Secret "orders-db-agent"/,
    ],
  ];
  for (const [name, manifest, message] of cases) {
    const { pod: stored, error } = await dryRun(ns, manifest);
    assert.equal(stored, undefined, `${name} was admitted`);
    assert.match(error ?? '', /admission webhook "pods\.(inject|validate)\.portcullis\.dev" denied the request: portcullis: /, name);
    assert.match(error ?? '', message, name);
  }
  // The same credentials reference is fine outside injection-enabled namespaces.
  const outside = await dryRun(plainNs, pod('ok', { labels: { app: 'web' }, container: { envFrom: [{ secretRef: { name: 'orders-db-agent' } }] } }));
  assert.ok(outside.pod, outside.error);
});

async function runningAgentPod(name: string): Promise<V1Pod> {
  const r = await kubectl(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(pod(name)), allowFailure: true });
  assert.equal(r.code, 0, r.stderr);
  return eventually(`${name} running`, async () => {
    const p = await kubectlJson<V1Pod>(['get', 'pod', name, '-n', ns]);
    return p.status?.phase === 'Running' ? p : undefined;
  }, 60_000);
}

const addEphemeral = (name: string, container: Record<string, unknown>) =>
  kubectl(['patch', 'pod', name, '-n', ns, '--subresource=ephemeralcontainers', '--type=strategic', '-p', JSON.stringify({ spec: { ephemeralContainers: [container] } })], { allowFailure: true });

test('ephemeral containers added later get the same checks', async () => {
  await runningAgentPod('debug-target');
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['a credentials Secret in env', { name: 'd1', image: 'busybox', env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'orders-db-agent', key: 'password' } } }] }, /env PW reads Secret "orders-db-agent"/],
    ['targeting the sidecar', { name: 'd2', image: 'busybox', targetContainerName: 'portcullis-sidecar' }, /targets portcullis-sidecar/],
    ['mounting the credentials', { name: 'd3', image: 'busybox', volumeMounts: [{ name: 'portcullis-cred-orders-db', mountPath: '/c' }] }, /a volume of the Portcullis sidecar/],
    ['privileged', { name: 'd4', image: 'busybox', securityContext: { privileged: true } }, /is privileged/],
  ];
  for (const [name, container, message] of refused) {
    const r = await addEphemeral('debug-target', container);
    assert.notEqual(r.code, 0, `${name} was admitted`);
    assert.match(r.stderr, /ephemeralcontainers\.validate\.portcullis\.dev/, name);
    assert.match(r.stderr, message, name);
  }
  const ok = await addEphemeral('debug-target', { name: 'debugger', image: 'busybox', targetContainerName: 'agent' });
  assert.equal(ok.code, 0, ok.stderr);
  const stored = await kubectlJson<V1Pod>(['get', 'pod', 'debug-target', '-n', ns]);
  assert.deepEqual((stored.spec?.ephemeralContainers ?? []).map((c) => c.name), ['debugger']);
});

test('the sidecar of an injected pod cannot be swapped for another image', async () => {
  await runningAgentPod('swap-target');
  const r = await kubectl(['set', 'image', 'pod/swap-target', '-n', ns, 'portcullis-sidecar=evil.example/reads-credentials:1'], { allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /portcullis-sidecar container of an injected pod cannot be changed/);
  const ok = await kubectl(['set', 'image', 'pod/swap-target', '-n', ns, 'agent=registry.example/agent:2'], { allowFailure: true });
  assert.equal(ok.code, 0, ok.stderr);
});

test('a forged "already injected" pod gets the real sidecar', async () => {
  const forged = pod('forged', {
    annotations: { 'portcullis.dev/injected': 'true' },
    spec: {
      initContainers: [{ name: 'portcullis-sidecar', image: 'evil.example/steal:1', restartPolicy: 'Always', volumeMounts: [{ name: 'portcullis-cred-orders-db', mountPath: '/c' }] }],
      volumes: [{ name: 'portcullis-cred-orders-db', secret: { secretName: 'orders-db-agent' } }],
    },
  });
  const { pod: stored, error } = await dryRun(ns, forged);
  assert.ok(stored, error);
  assert.equal(sidecarOf(stored)?.image, SIDECAR_IMAGE);
  assert.equal(stored.spec?.initContainers?.length, 1);
});

test('another mutating webhook after ours: the injector is re-invoked, confirms its work, the pod validates', async () => {
  const cert = await webhookServingCert();
  const server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string; object: V1Pod } };
      const labels = review.request.object.metadata?.labels ?? {};
      const patch = labels['e2e.portcullis.dev/relabelled'] ? [] : [{ op: 'add', path: '/metadata/labels/e2e.portcullis.dev~1relabelled', value: 'true' }];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: review.request.uid, allowed: true, ...(patch.length ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}) },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // Configurations are called in name order: "zz-…" runs after ours, so its change re-invokes the injector.
  relabel = { server, name: uniqueName('zz-relabel') };
  await registerWebhooks({
    name: relabel.name,
    port: (server.address() as AddressInfo).port,
    mutating: [{
      name: 'relabel.e2e.portcullis.dev',
      path: '/relabel',
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      failurePolicy: 'Ignore',
      reinvocationPolicy: 'Never',
    }],
  });
  const stored = await eventually('the relabelling webhook to be active', async () => {
    const r = await dryRun(ns, pod('reinvoked'));
    if (r.error) throw new Error(r.error);
    return r.pod?.metadata?.labels?.['e2e.portcullis.dev/relabelled'] ? r.pod : undefined;
  });
  assert.ok(sidecarOf(stored));
  assert.equal(stored.spec?.initContainers?.filter((c) => c.name === 'portcullis-sidecar').length, 1);
  await unregisterWebhooks(relabel.name);
  server.close();
  relabel = undefined;
});

test('approvalrequests/status: decidedBy from the authenticated user; self-approval, outsiders, expiry and re-decisions refused', async () => {
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'approvers' },
    rules: [
      { apiGroups: ['portcullis.dev'], resources: ['approvalrequests'], verbs: ['get', 'list'] },
      { apiGroups: ['portcullis.dev'], resources: ['approvalrequests/status'], verbs: ['get', 'patch', 'update'] },
    ],
  };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'approvers' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'approvers' },
    subjects: ['alice', 'bob', 'carol'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
  };
  const request = (name: string, requester: string, expiresAt: string) => ({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name },
    spec: {
      policy: 'support-agent', rule: 'order-writes', resource: 'orders-db', pod: 'support-agent-x', session: 's1',
      requester, command: 'DELETE FROM orders WHERE id = 1', fingerprint: 'f', expiresAt,
    },
  });
  const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const past = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const r = await apply(ns, [role, binding, request('ar-ok', 'system:serviceaccount:agents:support-agent', future), request('ar-self', 'bob', future), request('ar-late', 'bob', past)]);
  assert.equal(r.code, 0, r.stderr);
  const decide = (name: string, user: string, phase: string) =>
    kubectl(['patch', 'approvalrequest', name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase, decidedBy: 'mallory', reason: 'e2e' } })], { as: user, allowFailure: true });

  const outsider = await decide('ar-ok', 'carol', 'Approved');
  assert.notEqual(outsider.code, 0);
  assert.match(outsider.stderr, /carol is not an approver of AgentPolicy .*\/support-agent/);

  const approved = await decide('ar-ok', 'alice', 'Approved');
  assert.equal(approved.code, 0, approved.stderr);
  const stored = await kubectlJson<{ status: { phase: string; decidedBy: string; decidedAt: string } }>(['get', 'approvalrequest', 'ar-ok', '-n', ns]);
  assert.equal(stored.status.phase, 'Approved');
  assert.equal(stored.status.decidedBy, 'alice', 'stamped from the authenticated user, not the body');
  assert.ok(Math.abs(Date.parse(stored.status.decidedAt) - Date.now()) < 120_000);

  const again = await decide('ar-ok', 'bob', 'Denied');
  assert.match(again.stderr, /already Approved \(by alice\)/);
  const self = await decide('ar-self', 'bob', 'Approved');
  assert.match(self.stderr, /bob requested this command and cannot decide it/);
  const late = await decide('ar-late', 'alice', 'Approved');
  assert.match(late.stderr, /expired at .*; it can no longer be approved/);
});

test('a resource removed from running pods\' policies: the pods are listed as RestartRequired', async () => {
  const running = await kubectlJson<{ items: V1Pod[] }>(['get', 'pods', '-n', ns, '-l', 'app=support-agent']);
  const injected = running.items.filter((p) => p.metadata?.annotations?.['portcullis.dev/resources'] === 'orders-db,prod-cluster').map((p) => p.metadata!.name!);
  assert.ok(injected.length >= 2, 'the Deployment\'s injected pods are running');
  const narrowed = agentPolicy();
  narrowed.spec.resources = narrowed.spec.resources.filter((r) => r.resource === 'orders-db');
  try {
    const r = await apply(ns, [narrowed]);
    assert.equal(r.code, 0, r.stderr);
    const listed = await eventually('the pods to be listed as RestartRequired', async () => {
      const p = await kubectlJson<{ metadata: { generation: number }; status?: { observedGeneration?: number; restartRequired?: Array<{ pod: string }> } }>(['get', 'agentpolicy', 'support-agent', '-n', ns, '-o', 'json']);
      const pods = (p.status?.restartRequired ?? []).map((x) => x.pod);
      return p.status?.observedGeneration === p.metadata.generation && injected.every((n) => pods.includes(n)) ? pods : undefined;
    }, 60_000);
    assert.ok(injected.every((n) => listed.includes(n)));
  } finally {
    const back = await apply(ns, [agentPolicy()]);
    assert.equal(back.code, 0, back.stderr);
  }
});
