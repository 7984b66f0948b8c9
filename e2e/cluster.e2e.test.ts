// Issue 3 acceptance: the e2e control plane is a real Kubernetes (pinned release, RBAC, admission webhooks, a
// service-account issuer others can verify against), pods reach Running on kwok nodes, and helm works offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { run } from './lib/exec.ts';
import {
  REPO_ROOT, TEST_USERS, createNamespace, deleteNamespace, ensureCluster, kubectl, kubectlJson, uniqueName,
} from './lib/cluster.ts';
import { registerWebhooks, unregisterWebhooks, webhookServingCert } from './lib/webhooks.ts';

const cluster = await ensureCluster();
const ns = uniqueName('e2e-cluster');

before(async () => {
  await createNamespace(ns, { 'portcullis.dev/e2e': 'cluster' });
});
after(async () => {
  await deleteNamespace(ns);
});

/** Polls fn until it returns a value (not undefined) or the deadline passes. */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface VersionInfo { gitVersion: string; major: string; minor: string }

test('kubectl and the API server are the pinned Kubernetes release', async () => {
  const v = await kubectlJson<{ clientVersion: VersionInfo; serverVersion: VersionInfo }>(['version']);
  assert.equal(v.clientVersion.gitVersion, cluster.versions.kubernetes);
  const [, minor] = cluster.versions.kubernetes.split('.');
  assert.equal(v.clientVersion.minor, minor, 'gitMinor is stamped');
  if (cluster.mode === 'local') assert.equal(v.serverVersion.gitVersion, cluster.versions.kubernetes);
});

test('a Deployment created through the API gets a Pod scheduled onto a kwok node that reaches Running', async () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        // kwok never pulls images; against a real cluster set PORTCULLIS_E2E_IMAGE to an image its nodes can pull.
        spec: { containers: [{ name: 'web', image: process.env.PORTCULLIS_E2E_IMAGE ?? 'pause:3.10' }] },
      },
    },
  };
  await kubectl(['create', '-f', '-'], { input: JSON.stringify(deployment) });
  await kubectl(['wait', '--namespace', ns, '--for=condition=Available', 'deployment/web', '--timeout=90s']);
  const pods = await kubectlJson<{ items: { spec: { nodeName?: string }; status: { phase: string } }[] }>(
    ['get', 'pods', '--namespace', ns, '--selector', 'app=web']);
  assert.equal(pods.items.length, 2);
  for (const pod of pods.items) {
    assert.equal(pod.status.phase, 'Running');
    assert.ok(pod.spec.nodeName, 'the scheduler bound the pod to a node');
    if (cluster.mode === 'local') {
      const node = await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(['get', 'node', pod.spec.nodeName]);
      assert.equal(node.metadata.annotations?.['kwok.x-k8s.io/node'], 'fake', 'scheduled onto a kwok node');
    }
  }
});

test('each test user authenticates as a distinct person with its own groups', async () => {
  for (const [user, groups] of TEST_USERS) {
    const review = await kubectlJson<{ status: { userInfo: { username: string; groups?: string[] } } }>(
      ['auth', 'whoami'], { as: user });
    assert.equal(review.status.userInfo.username, user);
    for (const g of groups) assert.ok(review.status.userInfo.groups?.includes(g), `${user} is in ${g}`);
    // RBAC is on: a test user holds no rights it was not given.
    const canList = await kubectl(['auth', 'can-i', 'list', 'secrets', '--namespace', ns], { as: user, allowFailure: true });
    assert.equal(canList.stdout.trim(), 'no', `${user} cannot list secrets`);
  }
});

if (cluster.mode === 'local') {
  const pki = cluster.pki!;
  const issuer = cluster.serviceAccountIssuer!;

  /** GET over HTTPS with only the cluster CA: no client certificate, so the request is anonymous. */
  const anonymousGet = (url: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      httpsGet(url, { ca: readFileSync(pki.caCert) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      }).on('error', reject);
    });

  test('service-account tokens verify against the issuer discovery document and JWKS, read anonymously', async () => {
    const discovery = await anonymousGet(`${issuer}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200, discovery.body);
    const doc = JSON.parse(discovery.body) as { issuer: string; jwks_uri: string };
    assert.equal(doc.issuer, issuer);
    const jwksResponse = await anonymousGet(doc.jwks_uri);
    assert.equal(jwksResponse.status, 200, jwksResponse.body);
    const jwks = JSON.parse(jwksResponse.body) as JSONWebKeySet;
    assert.ok(jwks.keys.length >= 1);

    await eventually('the default ServiceAccount', async () =>
      (await kubectl(['get', 'serviceaccount', 'default', '--namespace', ns], { allowFailure: true })).code === 0 ? true : undefined);
    const token = (await kubectl(['create', 'token', 'default', '--namespace', ns, '--audience', 'portcullis', '--duration', '10m'])).stdout.trim();
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: 'portcullis' });
    assert.equal(payload.sub, `system:serviceaccount:${ns}:default`);
    // A token for another audience must not pass as a portcullis token.
    const other = (await kubectl(['create', 'token', 'default', '--namespace', ns, '--audience', 'elsewhere'])).stdout.trim();
    await assert.rejects(jwtVerify(other, createLocalJWKSet(jwks), { issuer, audience: 'portcullis' }));
  });

  test('issuer discovery: the default binding covers only service accounts; the e2e cluster adds everyone', async () => {
    type Binding = { subjects?: { kind: string; name: string }[] };
    const builtIn = await kubectlJson<Binding>(['get', 'clusterrolebinding', 'system:service-account-issuer-discovery']);
    assert.deepEqual(builtIn.subjects?.map((s) => `${s.kind}/${s.name}`), ['Group/system:serviceaccounts']);
    const ours = await kubectlJson<Binding>(['get', 'clusterrolebinding', 'portcullis-e2e:service-account-issuer-discovery']);
    assert.deepEqual(ours.subjects?.map((s) => s.name).sort(), ['system:authenticated', 'system:unauthenticated']);
  });

  test('every control-plane process listens on loopback only', async () => {
    const pidDir = join(cluster.stateDir!, 'pids');
    const pids = new Map<string, string>();
    for (const file of readdirSync(pidDir)) {
      const [pid] = readFileSync(join(pidDir, file), 'utf8').trim().split(' ');
      if (pid) pids.set(pid, file.replace(/\.pid$/, ''));
    }
    assert.equal(pids.size, 5, 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok');
    const listeners = (await run('ss', ['-Htlnp'])).stdout.split('\n');
    const seen = new Set<string>();
    for (const line of listeners) {
      const pid = /pid=(\d+)/.exec(line)?.[1];
      const component = pid ? pids.get(pid) : undefined;
      if (!component) continue;
      const local = line.trim().split(/\s+/)[3] ?? '';
      assert.match(local, /^127\.0\.0\.1:\d+$/, `${component} listens on ${local}`);
      seen.add(component);
    }
    assert.deepEqual([...seen].sort(), [...pids.values()].sort(), 'each component has a listener');
  });

  test('a webhook served by a local process is registered by URL and called by the API server', async (t) => {
    const serving = await webhookServingCert();
    const calls: string[] = [];
    const server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          request: { uid: string; name?: string; object?: { metadata?: { name?: string; labels?: Record<string, string> } } };
        };
        const name = review.request.object?.metadata?.name ?? '';
        // The API server appends ?timeout=…; the path is what was registered.
        calls.push(`${new URL(req.url ?? '/', 'https://webhook').pathname} ${name}`);
        const deny = review.request.object?.metadata?.labels?.['e2e-deny'] === 'yes';
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: !deny, ...(deny ? { status: { code: 403, message: 'denied by the e2e webhook' } } : {}) },
        }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const registration = uniqueName('e2e-webhook');
    t.after(async () => {
      await unregisterWebhooks(registration);
      server.close();
    });
    await registerWebhooks({
      name: registration,
      port: (server.address() as AddressInfo).port,
      validating: [{
        name: 'configmaps.e2e.portcullis.dev',
        path: '/validate-configmaps',
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      }],
    });
    const configMap = (name: string, deny: boolean): string => JSON.stringify({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { 'e2e-deny': deny ? 'yes' : 'no' } },
    });
    // Registration reaches the API server's webhook informer asynchronously: probe until the webhook answers.
    let probe = 0;
    const denial = await eventually('the webhook to take effect', async () => {
      const r = await kubectl(['create', '-f', '-'], { input: configMap(`probe-${probe++}`, true), allowFailure: true });
      return r.code !== 0 ? r.stderr : undefined;
    }, 30_000);
    assert.match(denial, /denied by the e2e webhook/);
    await kubectl(['create', '-f', '-'], { input: configMap('allowed', false) });
    assert.ok(calls.includes('/validate-configmaps allowed'), `webhook saw the allowed create: ${calls.join(', ')}`);
  });
}

// ---- helm: pinned, stamped, offline ----
async function helm(args: readonly string[], allowFailure = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'portcullis-helm-'));
  try {
    return await run(cluster.helmPath, args, {
      allowFailure,
      env: {
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
        // Offline: any attempt to reach a network fails instead of silently succeeding.
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '',
        KUBECONFIG: join(home, 'no-cluster'),
      },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function writeChart(kubeVersion: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-chart-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), [
    'apiVersion: v2', 'name: demo', 'description: e2e chart', 'type: application', 'version: 0.1.0',
    'appVersion: "1.0"', `kubeVersion: "${kubeVersion}"`, 'icon: https://example.invalid/icon.png', '',
  ].join('\n'));
  writeFileSync(join(dir, 'values.yaml'), 'greeting: hello\n');
  writeFileSync(join(dir, 'templates', 'configmap.yaml'), [
    'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: {{ .Release.Name }}-demo', 'data:',
    '  greeting: {{ .Values.greeting | quote }}', '  kube: {{ .Capabilities.KubeVersion.Version | quote }}', '',
  ].join('\n'));
  return dir;
}

test('helm version reports the pinned release', async () => {
  const v = await helm(['version', '--template', '{{.Version}}']);
  assert.equal(v.stdout.trim(), cluster.versions.helm);
});

test('helm template renders offline, with kubeVersion checks against a real Kubernetes version', async (t) => {
  const chart = writeChart('>= 1.30.0-0');
  const tooNew = writeChart('< 1.21.0');
  t.after(() => {
    rmSync(chart, { recursive: true, force: true });
    rmSync(tooNew, { recursive: true, force: true });
  });
  const out = await helm(['template', 'demo', chart, '--set', 'greeting=hi']);
  assert.match(out.stdout, /kind: ConfigMap/);
  assert.match(out.stdout, /greeting: "hi"/);
  const kube = /kube: "v1\.(\d+)\.\d+"/.exec(out.stdout);
  assert.ok(kube?.[1], out.stdout);
  assert.ok(Number(kube[1]) >= 30, `helm's default Kubernetes version is stamped (got v1.${kube[1]})`);
  // The cluster's own version satisfies the same constraint, and an old-cluster chart is refused.
  await helm(['template', 'demo', chart, '--kube-version', cluster.versions.kubernetes]);
  const refused = await helm(['template', 'demo', tooNew], true);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /kubeVersion/);
});

test('helm lint passes on a fresh chart and on charts/portcullis once it exists', async (t) => {
  const chart = writeChart('>= 1.30.0-0');
  t.after(() => rmSync(chart, { recursive: true, force: true }));
  const lint = await helm(['lint', chart]);
  assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  const ours = join(REPO_ROOT, 'charts', 'portcullis');
  if (existsSync(join(ours, 'Chart.yaml'))) {
    const result = await helm(['lint', ours], true);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  }
});
