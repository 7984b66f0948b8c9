// Manifests → the bundle one pod would get, without a cluster: the same selection and compiler the operator uses.
// Used by `kubectl-portcullis explain` and the standalone sidecar.
import type { LoadedManifest } from './load.ts';
import { ManifestError } from './load.ts';
import { compileBundle, type AgentPolicyInput, type ProtectedResourceInput } from '../policy/compile.ts';
import type { Bundle } from '../policy/bundle.ts';
import { selectorMatches, type LabelSelector } from '../policy/selector.ts';
import { formatFieldErrors, validateObject } from '../api/validate.ts';

export const apiVersion = 'portcullis.dev/v1alpha1';

export interface OfflineBundle {
  readonly bundle: Bundle;
  /** Secrets by name (of the bundle's namespace): key → value (decoded). */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export interface OfflineOptions {
  /** The pod's labels; absent: every policy applies. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The pod's namespace; absent: the one namespace the policies are in. */
  readonly namespace?: string;
}

const nsOf = (m: LoadedManifest) => m.object.metadata.namespace ?? 'default';

export function offlineBundle(manifests: readonly LoadedManifest[], opts: OfflineOptions = {}): OfflineBundle {
  const resources: ProtectedResourceInput[] = [];
  const policies: Array<AgentPolicyInput & { source: string }> = [];
  const secrets = new Map<string, Map<string, Record<string, string>>>();
  for (const m of manifests) {
    const { object } = m;
    if (object.apiVersion === apiVersion) {
      const errors = validateObject(object);
      if (errors.length > 0) throw new ManifestError(`${m.source}: ${object.kind} ${nsOf(m)}/${object.metadata.name}: ${formatFieldErrors(errors).join('; ')}`);
      if (object.kind === 'ProtectedResource') resources.push(withNamespace(object as ProtectedResourceInput, nsOf(m)));
      else if (object.kind === 'AgentPolicy') policies.push({ ...withNamespace(object as AgentPolicyInput, nsOf(m)), source: m.source });
      // ApprovalRequest, AgentSession, SessionChunk are records, not policy: ignored here.
    } else if (object.apiVersion === 'v1' && object.kind === 'Secret') {
      const byName = secrets.get(nsOf(m)) ?? new Map<string, Record<string, string>>();
      byName.set(object.metadata.name, secretValues(object, m.source));
      secrets.set(nsOf(m), byName);
    }
  }
  const namespaces = [...new Set(policies.map((p) => p.metadata.namespace!))].sort();
  const namespace = opts.namespace ?? (namespaces.length === 1 ? namespaces[0]! : undefined);
  if (namespace === undefined) {
    throw new ManifestError(namespaces.length === 0
      ? 'no AgentPolicy found in the given files'
      : `AgentPolicies of several namespaces (${namespaces.join(', ')}): say which namespace the pod is in`);
  }
  const selected = policies.filter((p) => p.metadata.namespace === namespace && (opts.labels === undefined ||
    selectorMatches(podSelector(p), opts.labels)));
  if (selected.length === 0) {
    throw new ManifestError(`no AgentPolicy in namespace ${namespace} selects a pod with labels ${JSON.stringify(opts.labels ?? {})}`);
  }
  const bundle = compileBundle(namespace, resources.filter((r) => r.metadata.namespace === namespace), selected);
  return { bundle, secrets: secrets.get(namespace) ?? new Map() };
}

function withNamespace<T extends { metadata: { namespace?: string } }>(o: T, namespace: string): T {
  return { ...o, metadata: { ...o.metadata, namespace } };
}

function podSelector(p: AgentPolicyInput): LabelSelector | undefined {
  const spec = p.spec as { agents?: { podSelector?: LabelSelector } } | undefined;
  return spec?.agents?.podSelector;
}

function secretValues(o: Record<string, unknown>, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  const data = o.data as Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(data ?? {})) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new ManifestError(`${source}: data.${k}: must be base64`);
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  const stringData = o.stringData as Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(stringData ?? {})) {
    if (typeof v !== 'string') throw new ManifestError(`${source}: stringData.${k}: must be a string`);
    out[k] = v;
  }
  return out;
}
