// The pod shapes that would defeat the sidecar's isolation (design §3). Each check returns the problems it found,
// phrased for the person whose `kubectl apply` is refused: what, where, and why it matters.
import type { V1Container, V1EphemeralContainer, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { InjectorConfig } from './injector-config.ts';
import { AGENT_VOLUMES, RESERVED_VOLUME_PREFIX, SIDECAR_AUDIENCE, SIDECAR_CONTAINER } from './names.ts';
import { agentContainers, allContainers, type ContainerRef } from './pod-walk.ts';
import { isKubeApiAccessVolume, type InjectedResource } from './sidecar-template.ts';

/**
 * Capabilities that let a container reach into another container of the pod (memory, files, network) or out of
 * its own: SYS_ADMIN and SYS_PTRACE (mounts, ptrace), NET_ADMIN (rewrite the pod's routing around the sidecar),
 * DAC_READ_SEARCH (open_by_handle_at escapes), SYS_MODULE/SYS_RAWIO/BPF/PERFMON (kernel memory), and ALL.
 */
const DANGEROUS_CAPABILITIES: ReadonlySet<string> = new Set([
  'ALL', 'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'DAC_READ_SEARCH', 'SYS_MODULE', 'SYS_RAWIO', 'BPF', 'PERFMON',
]);

function normaliseCapability(cap: string): string {
  const up = cap.toUpperCase();
  return up.startsWith('CAP_') ? up.slice(4) : up;
}

/** Pod-level settings and volumes that share the node's or the sidecar's view with the agent. */
export function checkPodLevel(spec: V1PodSpec): string[] {
  const problems: string[] = [];
  if (spec.shareProcessNamespace) {
    problems.push('spec.shareProcessNamespace is true: agent processes could read the sidecar\'s memory and credentials through /proc');
  }
  if (spec.hostNetwork) problems.push('spec.hostNetwork is true: the sidecar\'s loopback listeners would be shared with the node');
  if (spec.hostPID) problems.push('spec.hostPID is true: agent processes could see and trace the node\'s processes, the sidecar\'s included');
  if (spec.hostIPC) problems.push('spec.hostIPC is true: the pod would share the node\'s IPC namespace');
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    if (v.hostPath) problems.push(`spec.volumes[${i}] ${JSON.stringify(v.name)} is a hostPath volume: it can expose the node's copy of the sidecar's credentials`);
  }
  return problems;
}

/** The security context of one agent container, as it takes effect (container settings over the pod's). */
export function checkAgentContainer(ref: ContainerRef, spec: V1PodSpec, config: InjectorConfig): string[] {
  const problems: string[] = [];
  const c = ref.container as V1Container | V1EphemeralContainer;
  const sc = c.securityContext;
  if (sc?.privileged) problems.push(`${ref.where} is privileged: a privileged container can read every other container of the pod`);
  const added = (sc?.capabilities?.add ?? []).map(normaliseCapability).filter((cap) => DANGEROUS_CAPABILITIES.has(cap));
  if (added.length > 0) {
    problems.push(`${ref.where} adds capabilit${added.length > 1 ? 'ies' : 'y'} ${added.join(', ')}: it could reach into the sidecar or around it`);
  }
  const uid = sc?.runAsUser ?? spec.securityContext?.runAsUser;
  if (uid === config.sidecar.uid) {
    const from = sc?.runAsUser !== undefined ? 'its securityContext.runAsUser' : 'spec.securityContext.runAsUser';
    problems.push(`${ref.where} runs as UID ${uid} (${from}), the Portcullis sidecar's UID: agents must run as another user`);
  }
  return problems;
}

/**
 * Agent containers may mount only the agent token and the generated kubeconfig (read-only); the write-ahead file,
 * the sidecar's token and the credentials belong to the sidecar.
 */
export function checkAgentMounts(ref: ContainerRef): string[] {
  const problems: string[] = [];
  for (const m of ref.container.volumeMounts ?? []) {
    if (!m.name.startsWith(RESERVED_VOLUME_PREFIX)) continue;
    if (!AGENT_VOLUMES.has(m.name)) {
      problems.push(`${ref.where} mounts ${JSON.stringify(m.name)}, a volume of the Portcullis sidecar: agents may not mount it`);
    } else if (!m.readOnly) {
      problems.push(`${ref.where} mounts ${JSON.stringify(m.name)} writable: agents get it read-only`);
    }
  }
  return problems;
}

/** Names the injector owns, used by a pod that is not (yet) injected: they would shadow or impersonate ours. */
export function checkReservedNames(spec: V1PodSpec): string[] {
  const problems: string[] = [];
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    if (v.name.startsWith(RESERVED_VOLUME_PREFIX)) {
      problems.push(`spec.volumes[${i}] ${JSON.stringify(v.name)}: volume names starting with "${RESERVED_VOLUME_PREFIX}" are reserved for the Portcullis sidecar`);
    }
  }
  for (const ref of allContainers(spec)) {
    if (ref.container.name === SIDECAR_CONTAINER) problems.push(`${ref.where}: the container name ${SIDECAR_CONTAINER} is reserved for the Portcullis sidecar`);
  }
  return problems;
}

/**
 * Service-account tokens the pod asks for itself: one for the API server (no audience, or one the API server
 * accepts) would hand agents the Kubernetes access the sidecar is there to mediate; one for the sidecar's audience
 * would let them pose as it. Tokens for other audiences (Vault, a cloud provider) are the agent's business.
 */
export function checkProjectedTokens(spec: V1PodSpec, config: InjectorConfig): string[] {
  const problems: string[] = [];
  const api = new Set(config.apiAudiences());
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    // The ServiceAccount plugin's own volume is removed by the injection, mounts and all.
    if (isKubeApiAccessVolume(v)) continue;
    for (const [j, s] of (v.projected?.sources ?? []).entries()) {
      const t = s.serviceAccountToken;
      if (!t) continue;
      if (!t.audience || api.has(t.audience)) {
        problems.push(`spec.volumes[${i}].projected.sources[${j}] requests a service-account token for the API server${t.audience ? ` (audience ${t.audience})` : ''}: agents reach the Kubernetes API through Portcullis only`);
      } else if (t.audience === SIDECAR_AUDIENCE) {
        problems.push(`spec.volumes[${i}].projected.sources[${j}] requests a token of audience ${SIDECAR_AUDIENCE}, which only the Portcullis sidecar may hold`);
      }
    }
  }
  return problems;
}

/** Ports of agent containers that the sidecar listens on in the same network namespace. */
export function checkPortClashes(spec: V1PodSpec, resources: readonly InjectedResource[], config: InjectorConfig): string[] {
  const taken = new Map<number, string>([[config.sidecar.adminPort, 'the sidecar admin port']]);
  for (const r of resources) if (r.expose.port !== undefined) taken.set(r.expose.port, `ProtectedResource "${r.name}"`);
  const problems: string[] = [];
  for (const ref of agentContainers(spec)) {
    for (const p of (ref.container as V1Container).ports ?? []) {
      const owner = taken.get(p.containerPort);
      if (owner) problems.push(`${ref.where} declares port ${p.containerPort}, which the sidecar uses for ${owner}`);
    }
  }
  return problems;
}

/**
 * References to a ProtectedResource's credentials Secret, from any container or volume of the pod except those the
 * caller excludes (the sidecar's own credentials volumes). Applies to every pod of an injection-enabled namespace.
 */
export function checkCredentialReferences(
  spec: V1PodSpec,
  secrets: ReadonlySet<string>,
  opts: { ignoreVolumes?: ReadonlySet<string>; containers?: Iterable<ContainerRef> } = {},
): string[] {
  if (secrets.size === 0) return [];
  const problems: string[] = [];
  const why = 'it holds a ProtectedResource\'s credentials, which only the Portcullis sidecar may read';
  if (!opts.containers) {
    for (const [i, v] of (spec.volumes ?? []).entries()) {
      if (opts.ignoreVolumes?.has(v.name)) continue;
      if (v.secret?.secretName && secrets.has(v.secret.secretName)) {
        problems.push(`spec.volumes[${i}] ${JSON.stringify(v.name)} mounts Secret ${JSON.stringify(v.secret.secretName)}: ${why}`);
      }
      for (const [j, s] of (v.projected?.sources ?? []).entries()) {
        if (s.secret?.name && secrets.has(s.secret.name)) {
          problems.push(`spec.volumes[${i}].projected.sources[${j}] projects Secret ${JSON.stringify(s.secret.name)}: ${why}`);
        }
      }
    }
  }
  for (const ref of opts.containers ?? allContainers(spec)) {
    for (const e of ref.container.env ?? []) {
      const name = e.valueFrom?.secretKeyRef?.name;
      if (name && secrets.has(name)) problems.push(`${ref.where} env ${e.name} reads Secret ${JSON.stringify(name)}: ${why}`);
    }
    for (const [k, from] of (ref.container.envFrom ?? []).entries()) {
      const name = from.secretRef?.name;
      if (name && secrets.has(name)) problems.push(`${ref.where} envFrom[${k}] reads Secret ${JSON.stringify(name)}: ${why}`);
    }
  }
  return problems;
}

/** Every check for the agent part of a pod that gets (or has) the sidecar. `pod` has the injected parts removed. */
export function checkAgentPod(pod: V1Pod, resources: readonly InjectedResource[], config: InjectorConfig): string[] {
  const spec = pod.spec ?? { containers: [] };
  const problems = [...checkPodLevel(spec), ...checkProjectedTokens(spec, config), ...checkPortClashes(spec, resources, config)];
  for (const ref of agentContainers(spec)) problems.push(...checkAgentContainer(ref, spec, config));
  return problems;
}

/** The refusal message for a list of problems. */
export function refusal(problems: readonly string[]): string {
  return problems.length === 1
    ? `portcullis: ${problems[0]}`
    : `portcullis: this pod is refused for ${problems.length} reasons: ${problems.map((p, i) => `(${i + 1}) ${p}`).join('; ')}`;
}
