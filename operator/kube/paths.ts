// API paths of the kinds the operator reads and writes. An empty namespace means "all namespaces" (list/watch).
import { GROUP, VERSION } from '../../core/api/index.ts';

export const PLURAL = {
  protectedResources: 'protectedresources',
  agentPolicies: 'agentpolicies',
} as const;

const enc = encodeURIComponent;

function scoped(prefix: string, plural: string, namespace: string, name?: string, sub?: string): string {
  let p = namespace ? `${prefix}/namespaces/${enc(namespace)}/${plural}` : `${prefix}/${plural}`;
  if (name !== undefined) p += `/${enc(name)}`;
  if (sub !== undefined) p += `/${sub}`;
  return p;
}

export function customPath(plural: string, namespace: string, name?: string, sub?: string): string {
  return scoped(`/apis/${GROUP}/${VERSION}`, plural, namespace, name, sub);
}

export function corePath(plural: 'pods' | 'secrets' | 'events' | 'serviceaccounts', namespace: string, name?: string, sub?: string): string {
  return scoped('/api/v1', plural, namespace, name, sub);
}

export function leasePath(namespace: string, name?: string): string {
  return scoped('/apis/coordination.k8s.io/v1', 'leases', namespace, name);
}

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
