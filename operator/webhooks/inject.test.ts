import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { mutatePod } from './inject.ts';
import { findSidecar } from './pod-walk.ts';
import { credentialsVolumeName } from './sidecar-template.ts';
import { injectorConfig } from './injector-config.ts';
import {
  agentPod,
  applyPatch,
  fakeDeps,
  ORDERS_DB,
  patchOf,
  podRequest,
  PROD_CLUSTER,
  serverDefaulted,
  TEST_CA,
  testConfig,
} from './testing.ts';

const config = testConfig();

function inject(pod: V1Pod, deps = fakeDeps()): V1Pod {
  const res = mutatePod(podRequest(pod), deps, config);
  assert.equal(res.allowed, true, res.status?.message);
  return applyPatch(pod, patchOf(res));
}

function container(pod: V1Pod, name: string): V1Container {
  const c = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === name);
  assert.ok(c, `container ${name}`);
  return c;
}

const mountNames = (c: V1Container) => (c.volumeMounts ?? []).map((m) => m.name);
const envOf = (c: V1Container) => new Map((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('mutatePod: the injected pod', () => {
  const pod = inject(agentPod());
  const sidecar = findSidecar(pod)!;
  const agent = container(pod, 'agent');

  it('adds the sidecar as the first init container, native (restartPolicy Always) with a startup probe on /readyz', () => {
    assert.equal(pod.spec?.initContainers?.[0]?.name, 'portcullis-sidecar');
    assert.equal(sidecar.restartPolicy, 'Always');
    assert.equal(sidecar.image, 'registry.example/portcullis-sidecar:test');
    assert.deepEqual(sidecar.startupProbe?.httpGet, { path: '/readyz', port: 15021, scheme: 'HTTP' });
    assert.equal(sidecar.livenessProbe?.httpGet?.path, '/healthz');
  });

  it('runs the sidecar as a fixed non-root UID, read-only root, no capabilities, no escalation, RuntimeDefault seccomp', () => {
    assert.deepEqual(sidecar.securityContext, {
      runAsUser: 65532,
      runAsGroup: 65532,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('turns off the service-account token and removes the kube-api-access volume and its mounts', () => {
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.ok(!pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-')));
    for (const c of [...pod.spec!.initContainers!, ...pod.spec!.containers]) {
      assert.ok(!mountNames(c).some((n) => n.startsWith('kube-api-access-')), c.name);
      assert.ok(!(c.volumeMounts ?? []).some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'), c.name);
    }
  });

  it('adds a size-bounded WAL emptyDir, the two projected tokens and the credentials Secret', () => {
    const volumes = new Map(pod.spec!.volumes!.map((v) => [v.name, v]));
    assert.equal(volumes.get('portcullis-wal')?.emptyDir?.sizeLimit, '256Mi');
    // The sidecar refuses commands before the volume is full (the kubelet would evict the pod).
    assert.equal(sidecar.env?.find((e) => e.name === 'PORTCULLIS_RECORDS_MAX_BYTES')?.value, String(Math.floor(256 * 2 ** 20 * 0.9)));
    assert.deepEqual(volumes.get('portcullis-sidecar-token')?.projected?.sources, [
      { serviceAccountToken: { audience: 'portcullis-sidecar', expirationSeconds: 3600, path: 'token' } },
    ]);
    assert.deepEqual(volumes.get('portcullis-agent-token')?.projected?.sources, [
      { serviceAccountToken: { audience: 'portcullis', expirationSeconds: 600, path: 'token' } },
    ]);
    assert.equal(volumes.get('portcullis-cred-orders-db')?.secret?.secretName, 'orders-db-agent');
    assert.ok(volumes.has('scratch'), 'the pod\'s own volumes stay');
  });

  it('mounts credentials, the sidecar token and the WAL into the sidecar only', () => {
    assert.deepEqual(mountNames(sidecar).sort(), ['portcullis-cred-orders-db', 'portcullis-sidecar-token', 'portcullis-wal']);
    assert.ok(sidecar.volumeMounts!.filter((m) => m.name !== 'portcullis-wal').every((m) => m.readOnly));
    assert.deepEqual(mountNames(agent), ['scratch', 'portcullis-agent-token']);
    const tokenMount = agent.volumeMounts!.find((m) => m.name === 'portcullis-agent-token')!;
    assert.equal(tokenMount.readOnly, true);
  });

  it('gives agent containers the token file and each resource\'s env with {{port}} replaced, ahead of their own', () => {
    const env = envOf(agent);
    assert.equal(env.get('PORTCULLIS_TOKEN_FILE'), '/var/run/secrets/portcullis.dev/agent/token');
    assert.equal(env.get('PGHOST'), '127.0.0.1', 'the agent\'s own PGHOST is replaced');
    assert.equal(env.get('PGPORT'), '15432');
    assert.equal(env.get('DATABASE_URL'), 'postgres://127.0.0.1:15432/orders');
    assert.equal(env.get('MODE'), 'support');
    assert.equal(agent.env!.filter((e) => e.name === 'PGHOST').length, 1);
    assert.equal(agent.env![0]?.name, 'PORTCULLIS_TOKEN_FILE');
    assert.equal(agent.env!.at(-1)?.name, 'MODE');
    assert.ok(!env.has('KUBECONFIG'), 'no kubeconfig without a kubernetes resource');
  });

  it('configures the sidecar through its environment (operator, CA, pod identity, paths)', () => {
    const env = envOf(sidecar);
    assert.equal(env.get('PORTCULLIS_MODE'), 'cluster');
    assert.equal(env.get('PORTCULLIS_OPERATOR_URL'), 'https://portcullis-operator.portcullis-system.svc:8443');
    assert.equal(env.get('PORTCULLIS_OPERATOR_CA'), TEST_CA);
    assert.equal(env.get('PORTCULLIS_SIDECAR_TOKEN_FILE'), '/var/run/secrets/portcullis.dev/sidecar/token');
    assert.equal(env.get('PORTCULLIS_RESOURCES'), 'orders-db');
    assert.deepEqual(env.get('PORTCULLIS_POD_NAME'), { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
    const credMount = sidecar.volumeMounts!.find((m) => m.name === 'portcullis-cred-orders-db')!;
    assert.equal(credMount.mountPath, `${env.get('PORTCULLIS_CREDENTIALS_DIR')}/orders-db`);
  });

  it('records what was injected in annotations (sorted policy ids and resource names)', () => {
    assert.deepEqual(pod.metadata?.annotations, {
      'portcullis.dev/injected': 'true',
      'portcullis.dev/policies': 'agents/audit,agents/support',
      'portcullis.dev/resources': 'orders-db',
    });
  });
});

describe('mutatePod: kubernetes resources get a kubeconfig', () => {
  const pod = inject(agentPod(), fakeDeps([PROD_CLUSTER, ORDERS_DB]));
  const sidecar = findSidecar(pod)!;
  const agent = container(pod, 'agent');

  it('points KUBECONFIG at a file the sidecar writes into a shared, agent-read-only emptyDir', () => {
    assert.equal(envOf(agent).get('KUBECONFIG'), '/var/run/portcullis/kubeconfig');
    assert.deepEqual(agent.volumeMounts!.find((m) => m.name === 'portcullis-agent-config'), {
      name: 'portcullis-agent-config',
      mountPath: '/var/run/portcullis',
      readOnly: true,
    });
    const rw = sidecar.volumeMounts!.find((m) => m.name === 'portcullis-agent-config')!;
    assert.ok(!rw.readOnly);
    assert.equal(envOf(sidecar).get('PORTCULLIS_AGENT_KUBECONFIG_FILE'), '/var/run/portcullis/kubeconfig');
  });

  it('the kubeconfig targets the sidecar\'s port and reads the rotating agent token by tokenFile', () => {
    const kubeconfig = JSON.parse(String(envOf(sidecar).get('PORTCULLIS_AGENT_KUBECONFIG'))) as {
      clusters: { name: string; cluster: { server: string } }[];
      users: { user: { tokenFile: string } }[];
      'current-context': string;
    };
    assert.deepEqual(kubeconfig.clusters, [{ name: 'prod-cluster', cluster: { server: 'http://127.0.0.1:16443' } }]);
    assert.equal(kubeconfig.users[0]?.user.tokenFile, envOf(agent).get('PORTCULLIS_TOKEN_FILE'));
    assert.equal(kubeconfig['current-context'], 'prod-cluster');
    assert.equal(pod.metadata?.annotations?.['portcullis.dev/resources'], 'orders-db,prod-cluster');
  });
});

describe('mutatePod: idempotence', () => {
  it('a pod already injected as we render it (after the API server\'s defaulting) gets no patch', () => {
    const once = serverDefaulted(inject(agentPod()));
    const res = mutatePod(podRequest(once), fakeDeps(), config);
    assert.equal(res.allowed, true);
    assert.equal(res.patch, undefined);
  });

  it('a forged "already injected" pod has its sidecar rebuilt from scratch', () => {
    const once = inject(agentPod());
    const forged = JSON.parse(JSON.stringify(once)) as V1Pod;
    const fake = findSidecar(forged)!;
    fake.image = 'evil.example/steal-credentials:1';
    fake.command = ['/bin/sh', '-c', 'cat /var/run/secrets/portcullis.dev/credentials/*/*'];
    const res = mutatePod(podRequest(forged), fakeDeps(), config);
    assert.equal(res.allowed, true);
    const fixed = applyPatch(forged, patchOf(res));
    assert.deepEqual(fixed, once);
  });

  it('the annotation alone does not skip injection', () => {
    const pod = inject(agentPod({ annotations: { 'portcullis.dev/injected': 'true' } }));
    assert.ok(findSidecar(pod));
  });

  it('injecting twice equals injecting once', () => {
    const once = inject(agentPod());
    const twice = inject(once);
    assert.deepEqual(twice, once);
  });
});

describe('mutatePod: pods left alone', () => {
  const cases: { name: string; pod: V1Pod; deps?: ReturnType<typeof fakeDeps>; namespace?: string }[] = [
    { name: 'no AgentPolicy selects the pod', pod: agentPod({ labels: { app: 'web' } }) },
    { name: 'opt-out annotation portcullis.dev/inject: "false"', pod: agentPod({ annotations: { 'portcullis.dev/inject': 'false' } }) },
    { name: 'the operator\'s own namespace', pod: agentPod(), namespace: 'portcullis-system' },
    { name: 'the namespace is no longer labelled (informer says so)', pod: agentPod(), deps: fakeDeps([ORDERS_DB], { enabled: false }) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const res = mutatePod(podRequest(c.pod, c.namespace ? { namespace: c.namespace } : {}), c.deps ?? fakeDeps(), config);
      assert.equal(res.allowed, true, res.status?.message);
      assert.equal(res.patch, undefined);
    });
  }

  it('an unknown namespace (cache not warm) trusts the API server\'s namespaceSelector and injects', () => {
    const deps = fakeDeps();
    deps.injectionEnabled = () => undefined;
    const res = mutatePod(podRequest(agentPod()), deps, config);
    assert.ok(patchOf(res).length > 0);
  });

  it('UPDATE and subresources are not mutated', () => {
    const pod = agentPod();
    assert.equal(mutatePod(podRequest(pod, { operation: 'UPDATE', oldObject: pod }), fakeDeps(), config).patch, undefined);
    assert.equal(mutatePod(podRequest(pod, { operation: 'CREATE', subResource: 'binding' }), fakeDeps(), config).patch, undefined);
  });
});

const withAgent = (patch: Partial<V1Container>): Partial<NonNullable<V1Pod['spec']>> => ({
  containers: [{ ...agentPod().spec!.containers[0]!, ...patch }],
});

describe('mutatePod: unsafe agent pods are refused, saying why', () => {
  const cases: { name: string; spec: Partial<NonNullable<V1Pod['spec']>>; message: RegExp }[] = [
    { name: 'shareProcessNamespace', spec: { shareProcessNamespace: true }, message: /shareProcessNamespace is true/ },
    { name: 'hostNetwork', spec: { hostNetwork: true }, message: /hostNetwork is true/ },
    { name: 'hostPID', spec: { hostPID: true }, message: /hostPID is true/ },
    { name: 'hostIPC', spec: { hostIPC: true }, message: /hostIPC is true/ },
    {
      name: 'hostPath volume',
      spec: { volumes: [{ name: 'node', hostPath: { path: '/var/lib/kubelet' } }] },
      message: /spec\.volumes\[0\] "node" is a hostPath volume/,
    },
    { name: 'privileged agent', spec: withAgent({ securityContext: { privileged: true } }), message: /"agent" is privileged/ },
    { name: 'CAP_SYS_ADMIN', spec: withAgent({ securityContext: { capabilities: { add: ['CAP_SYS_ADMIN'] } } }), message: /adds capability SYS_ADMIN/ },
    { name: 'NET_ADMIN', spec: withAgent({ securityContext: { capabilities: { add: ['NET_ADMIN'] } } }), message: /adds capability NET_ADMIN/ },
    { name: 'sys_ptrace (any case)', spec: withAgent({ securityContext: { capabilities: { add: ['sys_ptrace'] } } }), message: /SYS_PTRACE/ },
    { name: 'ALL capabilities', spec: withAgent({ securityContext: { capabilities: { add: ['ALL'] } } }), message: /adds capability ALL/ },
    {
      name: 'agent runs as the sidecar UID (container)',
      spec: withAgent({ securityContext: { runAsUser: 65532 } }),
      message: /runs as UID 65532 \(its securityContext\.runAsUser\)/,
    },
    {
      name: 'agent runs as the sidecar UID (pod level)',
      spec: { securityContext: { runAsUser: 65532 } },
      message: /runs as UID 65532 \(spec\.securityContext\.runAsUser\)/,
    },
    {
      name: 'privileged init container',
      spec: { initContainers: [{ name: 'setup', image: 'busybox', securityContext: { privileged: true } }] },
      message: /spec\.initContainers\[0\] "setup" is privileged/,
    },
    {
      name: 'a volume with the reserved prefix',
      spec: { volumes: [{ name: 'portcullis-wal', emptyDir: {} }] },
      message: /reserved for the Portcullis sidecar/,
    },
    {
      name: 'a container with the sidecar\'s name',
      spec: { containers: [{ name: 'portcullis-sidecar', image: 'x' }] },
      message: /container name portcullis-sidecar is reserved/,
    },
    {
      name: 'an API-server service-account token of its own',
      spec: { volumes: [{ name: 'mine', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }] },
      message: /token for the API server/,
    },
    {
      name: 'a token for an audience the API server accepts',
      spec: { volumes: [{ name: 'mine', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'https://kubernetes.default.svc.cluster.local' } }] } }] },
      message: /token for the API server \(audience https:\/\/kubernetes\.default\.svc\.cluster\.local\)/,
    },
    {
      name: 'a token of the sidecar\'s audience',
      spec: { volumes: [{ name: 'mine', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'portcullis-sidecar' } }] } }] },
      message: /audience portcullis-sidecar/,
    },
    { name: 'an agent port the sidecar listens on', spec: withAgent({ ports: [{ containerPort: 15432 }] }), message: /declares port 15432.*orders-db/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const res = mutatePod(podRequest(agentPod({ spec: c.spec })), fakeDeps(), config);
      assert.equal(res.allowed, false);
      assert.equal(res.status?.code, 403);
      assert.match(res.status?.message ?? '', /^portcullis: /);
      assert.match(res.status?.message ?? '', c.message);
    });
  }

  it('the same shapes are fine in a pod no policy selects (Pod Security admission\'s business, not ours)', () => {
    const res = mutatePod(podRequest(agentPod({ labels: { app: 'web' }, spec: { hostNetwork: true, shareProcessNamespace: true } })), fakeDeps(), config);
    assert.equal(res.allowed, true);
  });

  it('several problems are all listed', () => {
    const res = mutatePod(podRequest(agentPod({ spec: { hostNetwork: true, hostPID: true } })), fakeDeps(), config);
    assert.match(res.status?.message ?? '', /refused for 2 reasons: \(1\) .*hostNetwork.*\(2\) .*hostPID/);
  });

  it('a token for another audience (e.g. Vault) is fine; the API audiences come from the configuration', () => {
    const spec = { volumes: [{ name: 'vault', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }] } }] };
    assert.equal(mutatePod(podRequest(agentPod({ spec })), fakeDeps(), config).allowed, true);
    const vaultIsApi = injectorConfig({ operatorUrl: 'https://o:1', operatorCa: 'x', operatorNamespace: 'o', apiAudiences: () => ['vault'] });
    assert.equal(mutatePod(podRequest(agentPod({ spec })), fakeDeps(), vaultIsApi).allowed, false);
  });

  it('a capability that cannot reach the sidecar is fine', () => {
    const res = mutatePod(podRequest(agentPod({ spec: withAgent({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }) })), fakeDeps(), config);
    assert.equal(res.allowed, true, res.status?.message);
  });

  it('a sidecar UID configured elsewhere moves the check with it', () => {
    const other = testConfig({ uid: 1337 });
    const spec = withAgent({ securityContext: { runAsUser: 65532 } });
    assert.equal(mutatePod(podRequest(agentPod({ spec })), fakeDeps(), other).allowed, true);
    const bad = withAgent({ securityContext: { runAsUser: 1337 } });
    assert.equal(mutatePod(podRequest(agentPod({ spec: bad })), fakeDeps(), other).allowed, false);
  });
});

describe('mutatePod: credentials Secrets are the sidecar\'s alone, in every pod of an enabled namespace', () => {
  const refs: { name: string; spec: Partial<NonNullable<V1Pod['spec']>>; message: RegExp }[] = [
    {
      name: 'secret volume',
      spec: { volumes: [{ name: 'creds', secret: { secretName: 'orders-db-agent' } }] },
      message: /spec\.volumes\[0\] "creds" mounts Secret "orders-db-agent"/,
    },
    {
      name: 'projected secret source',
      spec: { volumes: [{ name: 'p', projected: { sources: [{ secret: { name: 'orders-db-agent' } }] } }] },
      message: /projects Secret "orders-db-agent"/,
    },
    {
      name: 'env valueFrom.secretKeyRef',
      spec: withAgent({ env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'orders-db-agent', key: 'password' } } }] }),
      message: /env PW reads Secret "orders-db-agent"/,
    },
    {
      name: 'envFrom.secretRef',
      spec: withAgent({ envFrom: [{ secretRef: { name: 'orders-db-agent' } }] }),
      message: /envFrom\[0\] reads Secret "orders-db-agent"/,
    },
    {
      name: 'init container env',
      spec: { initContainers: [{ name: 'init', image: 'x', env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'orders-db-agent', key: 'p' } } }] }] },
      message: /spec\.initContainers\[0\] "init" env PW/,
    },
  ];
  const pods: { kind: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] = [
    { kind: 'agent pod' },
    { kind: 'pod no policy selects', labels: { app: 'web' } },
    { kind: 'opted-out pod', annotations: { 'portcullis.dev/inject': 'false' } },
  ];
  for (const p of pods) {
    for (const r of refs) {
      it(`${p.kind}: ${r.name}`, () => {
        const pod = agentPod({ spec: r.spec, ...(p.labels ? { labels: p.labels } : {}), ...(p.annotations ? { annotations: p.annotations } : {}) });
        const res = mutatePod(podRequest(pod), fakeDeps(), config);
        assert.equal(res.allowed, false);
        assert.match(res.status?.message ?? '', r.message);
        assert.match(res.status?.message ?? '', /only the Portcullis sidecar may read/);
      });
    }
  }

  it('other Secrets are fine', () => {
    const spec = withAgent({ envFrom: [{ secretRef: { name: 'app-config' } }] });
    assert.equal(mutatePod(podRequest(agentPod({ spec })), fakeDeps(), config).allowed, true);
  });
});

describe('mutatePod: selections that cannot be injected fail closed', () => {
  it('a policy that cannot be decided refuses the pod with the reason', () => {
    const res = mutatePod(podRequest(agentPod()), fakeDeps([ORDERS_DB], { fail: 'AgentPolicy agents/support does not compile: spec.resources[0].rules[0].sql.statements[0]: unknown statement kind "selec"' }), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /cannot decide which AgentPolicies apply to this pod: AgentPolicy agents\/support does not compile/);
  });

  const clashes: { name: string; resources: Parameters<typeof fakeDeps>[0]; message: RegExp }[] = [
    {
      name: 'two resources on one port',
      resources: [ORDERS_DB, { ...ORDERS_DB, name: 'orders-replica', expose: { port: 15432 } }],
      message: /exposes port 15432, already used by ProtectedResource "orders-db"/,
    },
    { name: 'a resource on the admin port', resources: [{ ...ORDERS_DB, expose: { port: 15021 } }], message: /already used by the sidecar admin port/ },
    {
      name: 'one env name, two values',
      resources: [ORDERS_DB, { ...ORDERS_DB, name: 'reporting-db', credentialsSecret: 'r', expose: { port: 15433, env: { PGHOST: 'localhost' } } }],
      message: /expose\.env PGHOST is set by ProtectedResource "orders-db" and by ProtectedResource "reporting-db"/,
    },
    { name: '{{port}} without a port', resources: [{ ...ORDERS_DB, expose: { env: { PGPORT: '{{port}}' } } }], message: /uses \{\{port\}\} but the resource exposes no port/ },
    { name: 'resource env overriding the token file', resources: [{ ...ORDERS_DB, expose: { port: 1, env: { PORTCULLIS_TOKEN_FILE: '/tmp/x' } } }], message: /PORTCULLIS_TOKEN_FILE is set by Portcullis/ },
    { name: 'kubeconfig on a postgres resource', resources: [{ ...ORDERS_DB, expose: { port: 1, kubeconfig: true } }], message: /kubeconfig is for kubernetes resources/ },
  ];
  for (const c of clashes) {
    it(c.name, () => {
      const res = mutatePod(podRequest(agentPod()), fakeDeps(c.resources), config);
      assert.equal(res.allowed, false);
      assert.match(res.status?.message ?? '', /the selected resources cannot be injected/);
      assert.match(res.status?.message ?? '', c.message);
    });
  }
});

describe('mutatePod: pods that carry a sidecar of their own', () => {
  it('a sidecar in a pod no policy selects is refused', () => {
    const once = inject(agentPod());
    once.metadata!.labels = { app: 'web' };
    const res = mutatePod(podRequest(once), fakeDeps(), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /reserved for the Portcullis sidecar, and no AgentPolicy selects this pod/);
  });

  it('an agent container mounting the sidecar\'s credentials is refused', () => {
    const once = inject(agentPod());
    once.spec!.containers[0]!.volumeMounts!.push({ name: 'portcullis-cred-orders-db', mountPath: '/stolen' });
    const res = mutatePod(podRequest(once), fakeDeps(), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /mounts "portcullis-cred-orders-db", a volume of the Portcullis sidecar/);
  });

  it('an agent container mounting the kubeconfig volume writable is refused', () => {
    const once = inject(agentPod(), fakeDeps([PROD_CLUSTER]));
    const m = once.spec!.containers[0]!.volumeMounts!.find((v) => v.name === 'portcullis-agent-config')!;
    m.readOnly = false;
    const res = mutatePod(podRequest(once), fakeDeps([PROD_CLUSTER]), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /mounts "portcullis-agent-config" writable/);
  });
});

describe('mutatePod: details', () => {
  it('the user\'s init containers get the agent env and run after the sidecar', () => {
    const pod = inject(agentPod({ spec: { initContainers: [{ name: 'migrate', image: 'm' }] } }));
    assert.deepEqual(pod.spec!.initContainers!.map((c) => c.name), ['portcullis-sidecar', 'migrate']);
    assert.equal(envOf(container(pod, 'migrate')).get('PGPORT'), '15432');
  });

  it('a resource without credentials gets no Secret volume', () => {
    const pod = inject(agentPod(), fakeDeps([{ ...ORDERS_DB, credentialsSecret: '' }]));
    assert.ok(!pod.spec!.volumes!.some((v) => v.secret));
  });

  it('credentials volume names stay valid DNS labels for long or dotted resource names', () => {
    for (const name of ['a'.repeat(80), 'orders.db.v2']) {
      const v = credentialsVolumeName(name);
      assert.ok(v.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v), v);
    }
    assert.notEqual(credentialsVolumeName('a'.repeat(80)), credentialsVolumeName('a'.repeat(81)));
  });

  it('limits without requests are copied into requests, as the API server would', () => {
    const pod = inject(agentPod(), fakeDeps());
    const other = testConfig({ resources: { limits: { cpu: '1', memory: '1Gi' } } });
    const res = mutatePod(podRequest(agentPod()), fakeDeps(), other);
    const sidecar = findSidecar(applyPatch(agentPod(), patchOf(res)))!;
    assert.deepEqual(sidecar.resources, { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } });
    assert.deepEqual(findSidecar(pod)!.resources, { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
  });

  it('the patch only adds and replaces whole fields, and escapes pointer tokens', () => {
    const ops = patchOf(mutatePod(podRequest(agentPod()), fakeDeps(), config));
    assert.deepEqual(ops.map((o) => o.path).sort(), [
      '/metadata/annotations', '/spec/automountServiceAccountToken', '/spec/containers', '/spec/initContainers', '/spec/volumes',
    ]);
    assert.ok(ops.every((o) => o.op === 'add'));
  });
});
