// The one mutation path: (pod, the policies selecting it, the injector configuration) → the injected pod.
// It starts by removing anything a previous injection added, so running it on its own output gives the same pod
// (reinvocation, a forged "already injected" pod) — idempotence by construction, not by bookkeeping.
import { createHash } from 'node:crypto';
import type { V1Container, V1EnvVar, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { recordsMaxBytes, type InjectorConfig } from './injector-config.ts';
import {
  AGENT_AUDIENCE,
  AGENT_CONFIG_DIR,
  AGENT_KUBECONFIG_FILE,
  AGENT_TOKEN_DIR,
  AGENT_TOKEN_FILE,
  ANNOTATION_INJECTED,
  ANNOTATION_POLICIES,
  ANNOTATION_RESOURCES,
  CREDENTIALS_DIR,
  CREDENTIALS_VOLUME_PREFIX,
  ENV_KUBECONFIG,
  ENV_TOKEN_FILE,
  KUBE_API_ACCESS_PREFIX,
  RESERVED_VOLUME_PREFIX,
  SIDECAR_AUDIENCE,
  SIDECAR_CONTAINER,
  SIDECAR_ENV,
  SIDECAR_TOKEN_DIR,
  VOLUME_AGENT_CONFIG,
  VOLUME_AGENT_TOKEN,
  VOLUME_SIDECAR_TOKEN,
  VOLUME_WAL,
  WAL_DIR,
} from './names.ts';
import { agentContainers, clonePod } from './pod-walk.ts';

/** What the injector needs of one ProtectedResource (a compiled BundleResource satisfies it). */
export interface InjectedResource {
  readonly name: string;
  readonly protocol: string;
  /** Name of the credentials Secret in the pod's namespace; '' when the resource has none. */
  readonly credentialsSecret: string;
  readonly expose: {
    readonly port?: number;
    readonly env?: Readonly<Record<string, string>>;
    readonly kubeconfig?: boolean;
  };
}

/** The AgentPolicies that select a pod and the resources they name. No policies: not an agent pod. */
export interface PolicySelection {
  /** Policy ids, `namespace/name`. */
  readonly policies: readonly string[];
  readonly resources: readonly InjectedResource[];
}

/** The selection cannot be injected as configured (clashing ports or env); the pod is refused with this message. */
export class InjectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectionError';
  }
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Volume name (a DNS label, ≤ 63) for a resource's credentials; readable when the name allows, hashed otherwise. */
export function credentialsVolumeName(resource: string): string {
  const plain = `${CREDENTIALS_VOLUME_PREFIX}${resource}`;
  if (plain.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(resource)) return plain;
  return `${CREDENTIALS_VOLUME_PREFIX}${createHash('sha256').update(resource).digest('hex').slice(0, 16)}`;
}

interface Plan {
  readonly resources: readonly InjectedResource[];
  readonly env: readonly V1EnvVar[];
  readonly kubeconfig: string | undefined;
}

/** Checks the selection against itself and the configuration: ports and env names must not clash. */
export function planInjection(selection: PolicySelection, config: InjectorConfig): Plan {
  const resources = [...selection.resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const problems: string[] = [];
  const ports = new Map<number, string>([[config.sidecar.adminPort, 'the sidecar admin port']]);
  const env = new Map<string, { value: string; from: string }>();
  const kube: InjectedResource[] = [];
  env.set(ENV_TOKEN_FILE, { value: AGENT_TOKEN_FILE, from: 'Portcullis' });
  for (const r of resources) {
    const port = r.expose.port;
    if (port !== undefined) {
      const clash = ports.get(port);
      if (clash) problems.push(`ProtectedResource "${r.name}" exposes port ${port}, already used by ${clash}`);
      else ports.set(port, `ProtectedResource "${r.name}"`);
    }
    if (r.expose.kubeconfig) {
      if (r.protocol !== 'kubernetes') problems.push(`ProtectedResource "${r.name}": expose.kubeconfig is for kubernetes resources`);
      else if (port === undefined) problems.push(`ProtectedResource "${r.name}": expose.kubeconfig needs expose.port`);
      else kube.push(r);
    }
    for (const [name, raw] of Object.entries(r.expose.env ?? {})) {
      if (!ENV_NAME.test(name)) {
        problems.push(`ProtectedResource "${r.name}": expose.env name ${JSON.stringify(name)} is not a valid variable name`);
        continue;
      }
      if (raw.includes('{{port}}') && port === undefined) {
        problems.push(`ProtectedResource "${r.name}": expose.env.${name} uses {{port}} but the resource exposes no port`);
        continue;
      }
      const value = raw.replaceAll('{{port}}', String(port));
      const existing = env.get(name);
      if (existing && existing.value !== value) {
        problems.push(`expose.env ${name} is set by ${existing.from} and by ProtectedResource "${r.name}" to different values`);
      } else env.set(name, { value, from: `ProtectedResource "${r.name}"` });
    }
  }
  if (kube.length > 0) {
    const existing = env.get(ENV_KUBECONFIG);
    if (existing) problems.push(`expose.env ${ENV_KUBECONFIG} of ${existing.from} clashes with the generated kubeconfig`);
    env.set(ENV_KUBECONFIG, { value: AGENT_KUBECONFIG_FILE, from: 'Portcullis' });
  }
  if (problems.length > 0) throw new InjectionError(problems.join('; '));
  return {
    resources,
    env: [...env].map(([name, { value }]) => ({ name, value })),
    kubeconfig: kube.length > 0 ? agentKubeconfig(kube) : undefined,
  };
}

/**
 * The kubeconfig agents use for kubernetes resources: one context per resource (the first, by name, is current),
 * pointing at the sidecar's loopback listener; tokenFile makes kubectl re-read the rotated token itself.
 */
export function agentKubeconfig(resources: readonly InjectedResource[]): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: resources.map((r) => ({ name: r.name, cluster: { server: `http://127.0.0.1:${r.expose.port}` } })),
    users: [{ name: 'portcullis-agent', user: { tokenFile: AGENT_TOKEN_FILE } }],
    contexts: resources.map((r) => ({ name: r.name, context: { cluster: r.name, user: 'portcullis-agent' } })),
    'current-context': resources[0]?.name ?? '',
  };
  return JSON.stringify(config);
}

/** The kube-api-access-* volume the ServiceAccount admission plugin adds (a projected service-account token). */
export function isKubeApiAccessVolume(v: V1Volume): boolean {
  return v.name.startsWith(KUBE_API_ACCESS_PREFIX) && (v.projected?.sources ?? []).some((s) => s.serviceAccountToken !== undefined);
}

/**
 * A copy of the pod without what the injector adds: the sidecar container, every portcullis- volume and the mounts
 * of those (and, with kubeApiAccess, of the ServiceAccount plugin's kube-api-access-* volume). What is left is the
 * agent's part, which the isolation checks look at.
 */
export function stripInjection(pod: V1Pod, opts: { kubeApiAccess?: boolean } = {}): V1Pod {
  const out = clonePod(pod);
  const spec = out.spec ?? (out.spec = { containers: [] });
  const removed = new Set<string>();
  if (spec.volumes) {
    spec.volumes = spec.volumes.filter((v) => {
      const drop = v.name.startsWith(RESERVED_VOLUME_PREFIX) || (opts.kubeApiAccess === true && isKubeApiAccessVolume(v));
      if (drop) removed.add(v.name);
      return !drop;
    });
  }
  if (spec.initContainers) spec.initContainers = spec.initContainers.filter((c) => c.name !== SIDECAR_CONTAINER);
  for (const { container } of agentContainers(spec)) {
    if (container.volumeMounts) container.volumeMounts = container.volumeMounts.filter((m) => !removed.has(m.name));
  }
  return out;
}

/**
 * The injected pod. `pod` may already be injected (or look so): everything Portcullis owns is removed first and
 * rebuilt from the selection. Throws InjectionError when the selection cannot be injected.
 */
export function renderInjection(pod: V1Pod, selection: PolicySelection, config: InjectorConfig): V1Pod {
  const plan = planInjection(selection, config);
  const out = stripInjection(pod, { kubeApiAccess: true });
  const spec = out.spec ?? (out.spec = { containers: [] });
  spec.automountServiceAccountToken = false;

  const ourEnv = new Set(plan.env.map((e) => e.name));
  const agentMounts: V1VolumeMount[] = [{ name: VOLUME_AGENT_TOKEN, mountPath: AGENT_TOKEN_DIR, readOnly: true }];
  if (plan.kubeconfig) agentMounts.push({ name: VOLUME_AGENT_CONFIG, mountPath: AGENT_CONFIG_DIR, readOnly: true });
  for (const { container } of agentContainers(spec)) {
    container.volumeMounts = [...(container.volumeMounts ?? []), ...agentMounts.map((m) => ({ ...m }))];
    // Ours first, so the agent's own env can refer to them with $(PGPORT); a same-named entry of the agent's is
    // dropped (the sidecar's address is not the agent's to choose).
    container.env = [...plan.env.map((e) => ({ ...e })), ...(container.env ?? []).filter((e) => !ourEnv.has(e.name))];
  }
  // First init container: the user's own init containers may already reach protected resources through it.
  spec.initContainers = [sidecarContainer(plan, config), ...(spec.initContainers ?? [])];
  spec.volumes = [...(spec.volumes ?? []), ...injectedVolumes(plan, config)];

  const metadata = out.metadata ?? (out.metadata = {});
  metadata.annotations = {
    ...(metadata.annotations ?? {}),
    [ANNOTATION_INJECTED]: 'true',
    [ANNOTATION_POLICIES]: [...selection.policies].sort().join(','),
    [ANNOTATION_RESOURCES]: plan.resources.map((r) => r.name).join(','),
  };
  return out;
}

function sidecarContainer(plan: Plan, config: InjectorConfig): V1Container {
  const s = config.sidecar;
  const env: V1EnvVar[] = [
    { name: SIDECAR_ENV.mode, value: 'cluster' },
    { name: SIDECAR_ENV.operatorUrl, value: config.operatorUrl },
    { name: SIDECAR_ENV.operatorCa, value: config.operatorCa() },
    { name: SIDECAR_ENV.tokenFile, value: `${SIDECAR_TOKEN_DIR}/token` },
    { name: SIDECAR_ENV.credentialsDir, value: CREDENTIALS_DIR },
    { name: SIDECAR_ENV.records, value: WAL_DIR },
    { name: SIDECAR_ENV.recordsMaxBytes, value: String(recordsMaxBytes(s.walSizeLimit)) },
    { name: SIDECAR_ENV.adminPort, value: String(s.adminPort) },
    // The kubelet probes the pod IP, so the admin server (health and metrics only in cluster mode) listens on all.
    { name: SIDECAR_ENV.adminAddress, value: '0.0.0.0' },
    { name: SIDECAR_ENV.logLevel, value: s.logLevel },
    { name: SIDECAR_ENV.podName, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: SIDECAR_ENV.podNamespace, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    { name: SIDECAR_ENV.podUid, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } } },
    { name: SIDECAR_ENV.resources, value: plan.resources.map((r) => r.name).join(',') },
  ];
  if (plan.kubeconfig) {
    env.push({ name: SIDECAR_ENV.agentKubeconfig, value: plan.kubeconfig });
    env.push({ name: SIDECAR_ENV.agentKubeconfigFile, value: AGENT_KUBECONFIG_FILE });
  }
  const mounts: V1VolumeMount[] = [
    { name: VOLUME_WAL, mountPath: WAL_DIR },
    { name: VOLUME_SIDECAR_TOKEN, mountPath: SIDECAR_TOKEN_DIR, readOnly: true },
  ];
  for (const r of plan.resources) {
    if (r.credentialsSecret) mounts.push({ name: credentialsVolumeName(r.name), mountPath: `${CREDENTIALS_DIR}/${r.name}`, readOnly: true });
  }
  if (plan.kubeconfig) mounts.push({ name: VOLUME_AGENT_CONFIG, mountPath: AGENT_CONFIG_DIR });
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: s.adminPort, scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 1,
    successThreshold: 1,
  });
  const container: V1Container = {
    name: SIDECAR_CONTAINER,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    // Native sidecar: starts before the agent, keeps running beside it, and does not hold a finished Job open.
    restartPolicy: 'Always',
    env,
    ports: [{ name: 'pc-admin', containerPort: s.adminPort, protocol: 'TCP' }],
    resources: withDefaultedRequests(s.resources),
    securityContext: {
      runAsUser: s.uid,
      runAsGroup: s.uid,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // The agent starts only once the sidecar has loaded its policy (its /readyz).
    startupProbe: probe('/readyz', s.startupPeriodSeconds, s.startupFailureThreshold),
    livenessProbe: probe('/healthz', 10, 3),
    volumeMounts: mounts,
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (s.command) container.command = [...s.command];
  if (s.args) container.args = [...s.args];
  return container;
}

// The API server copies a limit into a missing request; doing it here keeps our rendering equal to the stored pod.
function withDefaultedRequests(r: InjectorConfig['sidecar']['resources']): { requests?: Record<string, string>; limits?: Record<string, string> } {
  const limits = { ...(r.limits ?? {}) } as Record<string, string>;
  const requests = { ...limits, ...(r.requests ?? {}) } as Record<string, string>;
  return {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
}

function injectedVolumes(plan: Plan, config: InjectorConfig): V1Volume[] {
  const volumes: V1Volume[] = [
    { name: VOLUME_WAL, emptyDir: { sizeLimit: config.sidecar.walSizeLimit } },
    {
      name: VOLUME_SIDECAR_TOKEN,
      projected: {
        defaultMode: 0o444,
        sources: [{ serviceAccountToken: { audience: SIDECAR_AUDIENCE, expirationSeconds: config.sidecarTokenExpirationSeconds, path: 'token' } }],
      },
    },
    {
      name: VOLUME_AGENT_TOKEN,
      projected: {
        defaultMode: 0o444,
        sources: [{ serviceAccountToken: { audience: AGENT_AUDIENCE, expirationSeconds: config.agentTokenExpirationSeconds, path: 'token' } }],
      },
    },
  ];
  if (plan.kubeconfig) volumes.push({ name: VOLUME_AGENT_CONFIG, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
  // Credentials: readable by the sidecar's UID (0444); only the sidecar mounts them, which is the isolation.
  const seen = new Set<string>();
  for (const r of plan.resources) {
    if (!r.credentialsSecret) continue;
    const name = credentialsVolumeName(r.name);
    if (seen.has(name)) continue;
    seen.add(name);
    volumes.push({ name, secret: { secretName: r.credentialsSecret, defaultMode: 0o444, optional: false } });
  }
  return volumes;
}
