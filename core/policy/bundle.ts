// The compiled bundle: everything a sidecar needs to enforce, as plain JSON, so the operator can serve it and the
// sidecar can load it from a file alike. Its hash is a pure function of its content: replicas agree by hash.
import { createHash } from 'node:crypto';
import type { Action, MaskingStrategy } from './vocabulary.ts';

export const bundleFormatVersion = 1;

export interface SqlMatch {
  statements?: string[];
  tables?: string[];
  functions?: string[];
  unboundedWrite?: boolean;
}
export interface KubernetesMatch {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  namespaces?: string[];
  names?: string[];
  nonResourceURLs?: string[];
}
export interface HttpMatch {
  methods?: string[];
  paths?: string[];
  headers?: Record<string, string[]>;
  jsonBody?: Record<string, string[]>;
}
export interface SshMatch {
  commands?: string[];
  interactiveShell?: boolean;
  sftp?: boolean;
}

export interface BundleRule {
  /** `namespace/name` of the AgentPolicy the rule comes from. */
  policy: string;
  name: string;
  action: Action;
  message?: string;
  sql?: SqlMatch;
  kubernetes?: KubernetesMatch;
  http?: HttpMatch;
  ssh?: SshMatch;
}

export interface BundleMasking {
  classification: string;
  strategy: MaskingStrategy;
  strict: boolean;
  /** The policy the masking comes from (the most restrictive one when several mask the same classification). */
  policy: string;
}

export interface BundleClassification {
  name: string;
  columns: string[];
  jsonPaths: string[];
  kubernetes: Array<{ resource: string; fields: string[] }>;
  detectors: string[];
}

export interface BundleResource {
  name: string;
  namespace: string;
  protocol: 'postgres' | 'mysql' | 'kubernetes' | 'http' | 'ssh';
  endpoint: Record<string, unknown>;
  credentialsSecret: string;
  expose: { port?: number; env?: Record<string, string>; kubeconfig?: boolean };
  classifications: BundleClassification[];
  defaultAction: 'allow' | 'deny';
  rules: BundleRule[];
  masking: BundleMasking[];
  /** The policies that name this resource. */
  policies: string[];
}

export interface BundleIssuer {
  issuer: string;
  audiences: string[];
  jwksUri?: string;
}

export interface BundlePolicy {
  /** `namespace/name`. */
  id: string;
  generation?: number;
  subjects: { sessionGrace: string; issuers: BundleIssuer[]; claims: Record<string, string[]> } | null;
  approval: { users: string[]; groups: string[]; timeout: string; grantWindow: string } | null;
  recording: { responses: 'none' | 'summary' | 'full'; retention: string };
}

export interface Bundle {
  formatVersion: number;
  /** Sorted `namespace/name` of the policies compiled in: pods selected by the same set share one bundle. */
  key: string[];
  /** SHA-256 over the canonical JSON of everything else. */
  hash: string;
  namespace: string;
  policies: BundlePolicy[];
  resources: BundleResource[];
  /** JSON Web Key Sets by issuer, filled in by the operator (cluster mode) — never fetched by the sidecar from a token. */
  jwks?: Record<string, unknown>;
}

/** JSON with object keys sorted, so equal content gives equal bytes whatever the construction order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function hashBundle(bundle: Omit<Bundle, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...content } = bundle;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
