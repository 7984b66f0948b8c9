// What the pod injector asks of the operator's caches, answered from the same BundleCache the sidecar API serves:
// a pod is injected for exactly the policies (and their resources) whose bundle it will be served.
import type { ProtectedResource } from '../core/api/index.ts';
import type { BundleCache } from './bundles.ts';
import type { Store } from './controller/types.ts';
import type { InjectionDeps } from './webhooks/inject.ts';
import type { PolicySelection } from './webhooks/sidecar-template.ts';

export function injectionDeps(bundles: BundleCache, resources: Store<ProtectedResource>): InjectionDeps {
  return {
    policiesFor(namespace: string, labels: Readonly<Record<string, string>>): PolicySelection {
      const policies = bundles.selectingPolicies(namespace, labels);
      if (policies.length === 0) return { policies: [], resources: [] };
      const result = bundles.bundleFor(namespace, policies.map((p) => p.metadata.name));
      // Refuse rather than start an agent whose policies cannot be enforced.
      if (!result.ok) throw new Error(result.message);
      return {
        policies: result.bundle.key,
        resources: result.bundle.resources.map((r) => ({
          name: r.name,
          protocol: r.protocol,
          credentialsSecret: r.credentialsSecret,
          expose: r.expose,
        })),
      };
    },
    credentialsSecrets(namespace: string): ReadonlySet<string> {
      const names = new Set<string>();
      for (const r of resources.list(namespace)) {
        const n = r.spec?.credentials?.secretRef?.name;
        if (n) names.add(n);
      }
      return names;
    },
  };
}
