// Test helpers for the webhooks: admission requests, pods as the API server hands them over, a fixed injector
// configuration, fake deps, and a small RFC 6902 applier to check what a patch does to the object.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest, AdmissionResponse, JsonPatchOp, Operation, UserInfo } from './admission.ts';
import type { InjectionDeps } from './inject.ts';
import { injectorConfig, type InjectorConfig } from './injector-config.ts';
import type { InjectedResource, PolicySelection } from './sidecar-template.ts';

export const TEST_CA = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';

export function testConfig(sidecar: Parameters<typeof injectorConfig>[0]['sidecar'] = {}): InjectorConfig {
  return injectorConfig({
    sidecar: { image: 'registry.example/portcullis-sidecar:test', ...sidecar },
    operatorUrl: 'https://portcullis-operator.portcullis-system.svc:8443',
    operatorCa: TEST_CA,
    operatorNamespace: 'portcullis-system',
  });
}

export const ORDERS_DB: InjectedResource = {
  name: 'orders-db',
  protocol: 'postgres',
  credentialsSecret: 'orders-db-agent',
  expose: { port: 15432, env: { PGHOST: '127.0.0.1', PGPORT: '{{port}}', DATABASE_URL: 'postgres://127.0.0.1:{{port}}/orders' } },
};

export const PROD_CLUSTER: InjectedResource = {
  name: 'prod-cluster',
  protocol: 'kubernetes',
  credentialsSecret: 'prod-cluster-token',
  expose: { port: 16443, kubeconfig: true },
};

export interface FakeDeps extends InjectionDeps {
  calls: number;
}

/** Policies: `support` selects app=support-agent and names `resources`; every credentials Secret is "protected". */
export function fakeDeps(resources: readonly InjectedResource[] = [ORDERS_DB], opts: { enabled?: boolean; fail?: string } = {}): FakeDeps {
  const deps: FakeDeps = {
    calls: 0,
    policiesFor(namespace, labels): PolicySelection {
      deps.calls++;
      if (opts.fail) throw new Error(opts.fail);
      if (labels.app !== 'support-agent') return { policies: [], resources: [] };
      return { policies: [`${namespace}/support`, `${namespace}/audit`], resources };
    },
    credentialsSecrets: () => new Set(resources.map((r) => r.credentialsSecret).filter(Boolean)),
    ...(opts.enabled !== undefined ? { injectionEnabled: () => opts.enabled } : {}),
  };
  return deps;
}

/** A pod as the API server passes it to webhooks: defaulted, with the ServiceAccount plugin's kube-api-access volume. */
export function agentPod(overrides: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Partial<NonNullable<V1Pod['spec']>> } = {}): V1Pod {
  const saMount = { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'support-agent-7d9f-',
      namespace: 'agents',
      labels: overrides.labels ?? { app: 'support-agent' },
      ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
    },
    spec: {
      serviceAccountName: 'default',
      containers: [
        {
          name: 'agent',
          image: 'registry.example/agent:1',
          env: [{ name: 'MODE', value: 'support' }, { name: 'PGHOST', value: 'orders-db.data' }],
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, saMount],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
      restartPolicy: 'Always',
      ...overrides.spec,
    },
  };
}

export function podRequest(pod: V1Pod, opts: { operation?: Operation; oldObject?: unknown; subResource?: string; namespace?: string } = {}): AdmissionRequest {
  return {
    uid: 'req-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: opts.namespace ?? pod.metadata?.namespace ?? 'agents',
    operation: opts.operation ?? 'CREATE',
    userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] } satisfies UserInfo,
    object: pod,
    ...(opts.oldObject !== undefined ? { oldObject: opts.oldObject } : {}),
    ...(opts.subResource ? { subResource: opts.subResource } : {}),
  };
}

/** The patch of a response, decoded. */
export function patchOf(res: AdmissionResponse): JsonPatchOp[] {
  if (!res.patch) return [];
  if (res.patchType !== 'JSONPatch') throw new Error(`unexpected patchType ${res.patchType}`);
  return JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) as JsonPatchOp[];
}

/** RFC 6902 add/replace/remove on a deep copy (the only ops the webhooks emit), with RFC 6901 pointers. */
export function applyPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  const root = JSON.parse(JSON.stringify(doc)) as unknown;
  for (const op of ops) {
    const tokens = op.path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop();
    if (last === undefined) throw new Error(`cannot patch the root: ${op.path}`);
    let parent = root as Record<string, unknown> | unknown[];
    for (const t of tokens) {
      const next = Array.isArray(parent) ? parent[Number(t)] : parent[t];
      if (typeof next !== 'object' || next === null) throw new Error(`path ${op.path}: ${t} does not exist`);
      parent = next as Record<string, unknown> | unknown[];
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(index, 0, op.value);
      else if (op.op === 'replace') parent[index] = op.value;
      else parent.splice(index, 1);
    } else if (op.op === 'remove' || op.op === 'replace') {
      if (!(last in parent)) throw new Error(`path ${op.path} does not exist for ${op.op}`);
      if (op.op === 'remove') delete parent[last];
      else parent[last] = op.value;
    } else {
      parent[last] = op.value;
    }
  }
  return root as T;
}

/** What the API server does to our rendering before storing it: fills the defaults we leave out. */
export function serverDefaulted(pod: V1Pod): V1Pod {
  const out = JSON.parse(JSON.stringify(pod)) as V1Pod;
  for (const c of [...(out.spec?.initContainers ?? []), ...(out.spec?.containers ?? [])]) {
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
    const limits = c.resources?.limits;
    if (limits && c.resources) c.resources.requests = { ...limits, ...c.resources.requests };
  }
  return out;
}
