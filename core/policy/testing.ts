// Builders for policy tests: small manifests and parts, so test tables stay readable.
import type { KubernetesPart, SqlPart } from '../analysis/command.ts';
import type { AgentPolicyInput, ProtectedResourceInput } from './compile.ts';

export function resource(name: string, protocol: string, extra: Record<string, unknown> = {}): ProtectedResourceInput {
  const endpoint = protocol === 'kubernetes' || protocol === 'http' ? { url: 'https://example.invalid' } : { host: 'db', port: 5432 };
  return {
    metadata: { name, namespace: 'agents' },
    spec: { protocol, endpoint, credentials: { secretRef: { name: `${name}-creds` } }, expose: { port: 15432 }, ...extra },
  };
}

export function policy(name: string, spec: Record<string, unknown>): AgentPolicyInput {
  return { metadata: { name, namespace: 'agents', generation: 1 }, spec: { agents: { podSelector: {} }, ...spec } };
}

export function sql(kind: string, relation?: string, extra: Partial<SqlPart> = {}): SqlPart {
  return {
    protocol: 'sql',
    kind,
    ...(relation ? { relation } : {}),
    functions: [],
    unboundedWrite: false,
    dynamicSqlFunctions: [],
    statement: 0,
    ...extra,
  };
}

export function k8s(verb: string, resource: string, extra: Partial<KubernetesPart> = {}): KubernetesPart {
  const [res, sub] = resource.split('/');
  return {
    protocol: 'kubernetes',
    kind: 'resource',
    verb,
    apiGroup: '',
    apiVersion: 'v1',
    resource: res ?? '',
    subresource: sub ?? '',
    namespace: 'default',
    allNamespaces: false,
    name: '',
    path: '',
    discovery: false,
    ...extra,
  };
}
