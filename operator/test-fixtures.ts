// Object builders shared by the operator's unit tests.
import type { AgentPolicy, ProtectedResource } from '../core/api/index.ts';
import type { PodMeta } from './controller/types.ts';

export const NS = 'agents';

export function protectedResource(name: string, generation = 1, extra: Partial<ProtectedResource['spec']> = {}): ProtectedResource {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'ProtectedResource',
    metadata: { name, namespace: NS, generation, uid: `uid-${name}`, resourceVersion: '1' },
    spec: { protocol: 'postgres', endpoint: { host: 'db', port: 5432 }, credentials: { secretRef: { name: `${name}-creds` } }, expose: { port: 15432 }, ...extra },
  };
}

export function agentPolicy(name: string, opts: { generation?: number; selector?: Record<string, string>; resources?: string[]; rules?: unknown[] } = {}): AgentPolicy {
  const rules = opts.rules ?? [{ name: 'reads', action: 'allow', sql: { statements: ['select'] } }];
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'AgentPolicy',
    metadata: { name, namespace: NS, generation: opts.generation ?? 1, uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      agents: { podSelector: { matchLabels: opts.selector ?? { app: 'agent' } } },
      resources: (opts.resources ?? ['db']).map((resource) => ({ resource, rules: rules as never })),
    },
  };
}

export function pod(name: string, labels: Record<string, string>, annotations?: Record<string, string>, uid = `uid-${name}`): PodMeta {
  return { metadata: { name, namespace: NS, uid, labels, ...(annotations ? { annotations } : {}) } };
}
