// The bundles the operator serves, as a pure function of the informers' state: the policies that select a pod,
// compiled with their namespace's ProtectedResources, plus the cluster issuer's JWKS. Pods selected by the same set
// of policies share one bundle. A compiled bundle is kept until an input it was built from changes (the policies'
// and resources' uid+generation, the JWKS version); every replica computes the same bundle and hash.
import { EventEmitter } from 'node:events';
import type { AgentPolicy, ProtectedResource } from '../core/api/index.ts';
import { compileBundle, CompileError } from '../core/policy/compile.ts';
import { hashBundle, type Bundle } from '../core/policy/bundle.ts';
import { selectorMatches } from '../core/policy/selector.ts';
import type { PodMeta, Store } from './controller/types.ts';

export type BundleResult =
  | { readonly ok: true; readonly bundle: Bundle }
  | { readonly ok: false; readonly reason: 'PodNotFound' | 'NotSelected' | 'CompileFailed'; readonly message: string; readonly error?: CompileError };

export interface BundleInputs {
  readonly policies: Store<AgentPolicy>;
  readonly resources: Store<ProtectedResource>;
  readonly pods: Store<PodMeta>;
}

export interface JwksSnapshot {
  /** Issuer URL → JSON Web Key Set. */
  readonly keys: Readonly<Record<string, unknown>>;
  /** Changes whenever the keys change. */
  readonly version: number;
}

interface Entry {
  readonly fingerprint: string;
  readonly result: BundleResult;
  /** The cache version at which the fingerprint was last checked. */
  checkedAt: number;
}

export function policyId(p: { metadata: { namespace?: string; name: string } }): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name}`;
}

export class BundleCache extends EventEmitter<{ changed: [] }> {
  readonly #in: BundleInputs;
  readonly #entries = new Map<string, Entry>();
  #jwks: JwksSnapshot = { keys: {}, version: 0 };
  /** Bumped on every input change; entries checked at the current version are returned without a second look. */
  #version = 0;
  compiles = 0;

  constructor(inputs: BundleInputs) {
    super();
    this.#in = inputs;
  }

  get version(): number {
    return this.#version;
  }

  get jwks(): JwksSnapshot {
    return this.#jwks;
  }

  /** Call on every informer event: marks cached bundles for a fingerprint check and wakes up waiting sidecars. */
  touch(): void {
    this.#version++;
    this.emit('changed');
  }

  setJwks(keys: Readonly<Record<string, unknown>>): void {
    this.#jwks = { keys, version: this.#jwks.version + 1 };
    this.touch();
  }

  /** The policies of the pod's namespace whose selector matches these labels, sorted by id. */
  selectingPolicies(namespace: string, labels: Readonly<Record<string, string>>): AgentPolicy[] {
    return this.#in.policies
      .list(namespace)
      .filter((p) => !p.metadata.deletionTimestamp && selectorMatches(p.spec?.agents?.podSelector, labels))
      .sort((a, b) => policyId(a).localeCompare(policyId(b)));
  }

  bundleForPod(namespace: string, podName: string): BundleResult {
    const pod = this.#in.pods.get(namespace, podName);
    if (!pod || pod.metadata.deletionTimestamp) return { ok: false, reason: 'PodNotFound', message: `pod ${namespace}/${podName} not found` };
    const policies = this.selectingPolicies(namespace, pod.metadata.labels ?? {});
    if (policies.length === 0) return { ok: false, reason: 'NotSelected', message: `no AgentPolicy in namespace ${namespace} selects pod ${podName}` };
    return this.bundleFor(namespace, policies.map((p) => p.metadata.name));
  }

  /** The bundle for a set of policies of one namespace (names; order does not matter). */
  bundleFor(namespace: string, policyNames: readonly string[]): BundleResult {
    const names = [...new Set(policyNames)].sort();
    const key = `${namespace}|${names.join(',')}`;
    const entry = this.#entries.get(key);
    if (entry && entry.checkedAt === this.#version) return entry.result;
    const policies: AgentPolicy[] = [];
    for (const n of names) {
      const p = this.#in.policies.get(namespace, n);
      if (!p) return { ok: false, reason: 'NotSelected', message: `AgentPolicy ${namespace}/${n} not found` };
      policies.push(p);
    }
    const resources = this.#in.resources.list(namespace);
    const fingerprint = this.#fingerprint(policies, resources);
    if (entry && entry.fingerprint === fingerprint) {
      entry.checkedAt = this.#version;
      return entry.result;
    }
    const result = this.#compile(namespace, resources, policies);
    this.#entries.set(key, { fingerprint, result, checkedAt: this.#version });
    return result;
  }

  #fingerprint(policies: readonly AgentPolicy[], resources: readonly ProtectedResource[]): string {
    // Only the resources the policies name matter, but naming one that does not exist yet is an input too.
    const named = new Set<string>();
    for (const p of policies) for (const r of p.spec?.resources ?? []) named.add(r.resource);
    const parts: string[] = [`jwks:${this.#jwks.version}`];
    for (const p of policies) parts.push(`p:${p.metadata.name}:${p.metadata.uid ?? ''}:${p.metadata.generation ?? ''}`);
    for (const r of resources) {
      if (named.has(r.metadata.name)) parts.push(`r:${r.metadata.name}:${r.metadata.uid ?? ''}:${r.metadata.generation ?? ''}`);
    }
    return parts.join('|');
  }

  #compile(namespace: string, resources: readonly ProtectedResource[], policies: readonly AgentPolicy[]): BundleResult {
    this.compiles++;
    try {
      const compiled = compileBundle(namespace, resources, policies);
      const keys = this.#jwks.keys;
      if (Object.keys(keys).length === 0) return { ok: true, bundle: compiled };
      const { hash: _h, ...content } = compiled;
      const withJwks = { ...content, jwks: { ...keys } };
      return { ok: true, bundle: { ...withJwks, hash: hashBundle(withJwks) } };
    } catch (e) {
      if (e instanceof CompileError) return { ok: false, reason: 'CompileFailed', message: e.message, error: e };
      // Anything else is a bug in the compiler; still fail closed for this set rather than crash every sidecar.
      return { ok: false, reason: 'CompileFailed', message: `internal compiler error: ${(e as Error).message}` };
    }
  }

  /** Drops entries for policy sets that no longer exist (call now and then; entries are small). */
  prune(): void {
    for (const key of this.#entries.keys()) {
      const [namespace, names] = key.split('|') as [string, string];
      if (names.split(',').some((n) => !this.#in.policies.get(namespace, n))) this.#entries.delete(key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
