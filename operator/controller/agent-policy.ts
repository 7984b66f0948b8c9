// AgentPolicy reconciler. Status, computed from the informers' state through the shared BundleCache:
//   Compiled      the policy compiled on its own (False: the compile error, naming the rule and the field);
//   Ready         Compiled, every distinct set of policies selecting some pod compiles too, every resource it names
//                 is Ready, and the cluster issuer's keys are there when a policy relies on them;
//   bundleHash    the hash of the bundle served to pods selected by this policy alone (JWKS included) — pods that
//                 several policies select get the hash of their set, which the sidecar logs;
//   selectedPods  pods of the namespace the selector matches (terminating ones excluded);
//   restartRequired  selected pods whose injected resource set (annotation portcullis.dev/resources, written by the
//                 injector) differs from the resources their policies name now: mounts and env reach new pods only.
import { API_VERSION, KIND_AGENT_POLICY, type AgentPolicy, type AgentPolicyStatus, type ProtectedResource, type RestartRequiredPod } from '../../core/api/index.ts';
import { selectorMatches } from '../../core/policy/selector.ts';
import type { BundleCache } from '../bundles.ts';
import { ANNOTATION_RESOURCES as RESOURCES_ANNOTATION } from '../webhooks/names.ts';
import { PLURAL } from '../kube/paths.ts';
import { findCondition, mergeConditions, type DesiredCondition } from './conditions.ts';
import { evaluateProtectedResource } from './protected-resource.ts';
import { statusEqual } from './status-equal.ts';
import { splitKey, type EventSink, type PodMeta, type Reconciler, type ReconcileResult, type SecretKeys, type StatusWriter, type Store } from './types.ts';

export const COMPILED = 'Compiled';
export const READY = 'Ready';
/** At most this many pods are listed in restartRequired (the CRD's maxItems). */
export const MAX_RESTART_REQUIRED = 1024;

export interface AgentPolicyDeps {
  readonly policies: Store<AgentPolicy>;
  readonly resources: Store<ProtectedResource>;
  readonly secrets: Store<SecretKeys>;
  readonly pods: Store<PodMeta>;
  readonly bundles: BundleCache;
  readonly status: StatusWriter;
  readonly events: EventSink;
  /** The cluster's service-account issuer, once known (its keys must be in the bundle for default subjects). */
  readonly clusterIssuer?: () => string | undefined;
  readonly now?: () => Date;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Resource names recorded on a pod at injection time, or undefined for a pod that was not injected. */
export function injectedResources(pod: PodMeta): string[] | undefined {
  const v = pod.metadata.annotations?.[RESOURCES_ANNOTATION];
  if (v === undefined) return undefined;
  return v.split(',').map((s) => s.trim()).filter(Boolean).sort();
}

/** Does any policy of the set rely on the cluster's own issuer (no issuers listed)? */
function usesClusterIssuer(policies: readonly AgentPolicy[]): boolean {
  return policies.some((p) => !p.spec?.subjects?.issuers?.length);
}

export class AgentPolicyReconciler implements Reconciler {
  readonly #d: AgentPolicyDeps;
  constructor(deps: AgentPolicyDeps) {
    this.#d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const d = this.#d;
    const policy = d.policies.get(namespace, name);
    if (!policy || policy.metadata.deletionTimestamp) return;
    const now = d.now?.() ?? new Date();
    const generation = policy.metadata.generation;
    const prev = policy.status ?? {};

    const alone = d.bundles.bundleFor(namespace, [name]);
    const compiled: DesiredCondition = alone.ok
      ? { type: COMPILED, status: 'True', reason: 'Compiled', message: `bundle ${alone.bundle.hash.slice(0, 12)}` }
      : { type: COMPILED, status: 'False', reason: 'CompileFailed', message: alone.message };

    // Selection, and the distinct policy sets the selected pods fall into.
    const selector = policy.spec?.agents?.podSelector;
    const selected: PodMeta[] = [];
    const sets = new Map<string, { names: string[]; pods: PodMeta[] }>();
    for (const pod of d.pods.list(namespace)) {
      if (pod.metadata.deletionTimestamp || !selectorMatches(selector, pod.metadata.labels ?? {})) continue;
      selected.push(pod);
      const names = d.bundles.selectingPolicies(namespace, pod.metadata.labels ?? {}).map((p) => p.metadata.name);
      const setKey = names.join(',');
      const set = sets.get(setKey) ?? { names, pods: [] };
      set.pods.push(pod);
      sets.set(setKey, set);
    }

    // Ready, in order of what a user should fix first.
    let ready: DesiredCondition = { type: READY, status: 'True', reason: 'Ready', message: `bundle served to ${selected.length} selected pod(s)` };
    const setFailures: string[] = [];
    const resourcesByPod = new Map<PodMeta, string[]>();
    for (const set of sets.values()) {
      const r = d.bundles.bundleFor(namespace, set.names);
      if (!r.ok) setFailures.push(`policies ${set.names.join(', ')} (pods ${set.pods.slice(0, 3).map((p) => p.metadata.name).join(', ')}${set.pods.length > 3 ? ', …' : ''}): ${r.message}`);
      else for (const p of set.pods) resourcesByPod.set(p, r.bundle.resources.map((x) => x.name).sort());
    }
    const notReady = (policy.spec?.resources ?? [])
      .map((r) => r.resource)
      .map((rname) => {
        const pr = d.resources.get(namespace, rname);
        if (!pr) return `ProtectedResource ${rname} not found`;
        const c = evaluateProtectedResource(pr, (n) => d.secrets.get(namespace, n));
        return c.status === 'True' ? undefined : `ProtectedResource ${rname}: ${c.reason}: ${c.message}`;
      })
      .filter((m): m is string => m !== undefined);
    const issuer = d.clusterIssuer?.();
    if (!alone.ok) ready = { type: READY, status: 'False', reason: 'CompileFailed', message: 'the policy does not compile (see the Compiled condition)' };
    else if (setFailures.length > 0) ready = { type: READY, status: 'False', reason: 'CombinedCompileFailed', message: `combined with other policies selecting the same pods, the bundle does not compile: ${setFailures.join('; ')}` };
    else if (notReady.length > 0) ready = { type: READY, status: 'False', reason: 'ResourceNotReady', message: notReady.join('; ') };
    else if (d.clusterIssuer && usesClusterIssuer([policy]) && (!issuer || !d.bundles.jwks.keys[issuer])) {
      ready = { type: READY, status: 'False', reason: 'IssuerKeysUnavailable', message: "the cluster service-account issuer's keys have not been fetched yet; sidecars could not verify agent tokens" };
    }

    const restartRequired = this.#restartRequired(selected, resourcesByPod, prev.restartRequired ?? [], now);
    const next: AgentPolicyStatus = {
      ...prev,
      observedGeneration: generation,
      selectedPods: selected.length,
      restartRequired,
      conditions: mergeConditions(prev.conditions, [compiled, ready], generation, rfc3339(now)),
    };
    if (alone.ok) next.bundleHash = alone.bundle.hash;
    else delete next.bundleHash;
    if (statusEqual(prev, next)) return;
    if (!(await d.status.write(PLURAL.agentPolicies, policy.metadata, alone.ok ? next : { ...next, bundleHash: null }))) return;

    const ref = { apiVersion: API_VERSION, kind: KIND_AGENT_POLICY, namespace, name, uid: policy.metadata.uid };
    const before = findCondition(prev.conditions, COMPILED);
    if (before?.status !== compiled.status || (compiled.status === 'False' && before.message !== compiled.message)) {
      d.events.emit(ref, compiled.status === 'True' ? 'Normal' : 'Warning', compiled.reason, compiled.status === 'True' ? `compiled: ${compiled.message}` : compiled.message);
    }
    const readyBefore = findCondition(prev.conditions, READY);
    if (ready.status === 'False' && ready.reason !== 'CompileFailed' && (readyBefore?.status !== 'False' || readyBefore.reason !== ready.reason)) {
      d.events.emit(ref, 'Warning', ready.reason, ready.message);
    }
    const known = new Set((prev.restartRequired ?? []).map((r) => r.pod));
    const fresh = restartRequired.filter((r) => !known.has(r.pod));
    if (fresh.length > 0) {
      d.events.emit(ref, 'Warning', 'RestartRequired',
        `${fresh.length} pod(s) must be restarted to get their new resources (${fresh.slice(0, 5).map((r) => `${r.pod}: ${r.reason}`).join('; ')}${fresh.length > 5 ? '; …' : ''})`);
    }
  }

  #restartRequired(selected: readonly PodMeta[], resourcesByPod: ReadonlyMap<PodMeta, string[]>, prev: readonly RestartRequiredPod[], now: Date): RestartRequiredPod[] {
    const since = new Map(prev.map((r) => [r.pod, r.since]));
    const out: RestartRequiredPod[] = [];
    for (const pod of selected) {
      const injected = injectedResources(pod);
      const current = resourcesByPod.get(pod);
      if (!injected || !current) continue; // not injected (yet), or its set does not compile: nothing to compare
      const added = current.filter((r) => !injected.includes(r));
      const removed = injected.filter((r) => !current.includes(r));
      if (added.length === 0 && removed.length === 0) continue;
      const reason = [...added.map((r) => `resource ${r} added`), ...removed.map((r) => `resource ${r} removed`)].join(', ');
      out.push({ pod: pod.metadata.name, reason, since: since.get(pod.metadata.name) ?? rfc3339(now) });
    }
    out.sort((a, b) => a.pod.localeCompare(b.pod));
    return out.slice(0, MAX_RESTART_REQUIRED);
  }
}
