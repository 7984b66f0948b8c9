// Kubernetes bound service-account tokens carry their binding in a private claim:
//   "kubernetes.io": {"namespace": NS, "serviceaccount": {"name", "uid"}, "pod": {"name", "uid"}, "node": {...}}
// with `sub` = "system:serviceaccount:NS:NAME". This reads that claim, derives the groups the API server would give
// the account, and checks that a token is bound to the sidecar's own pod (a token lifted from another pod is useless).

import { AuthError } from './auth-error.ts';

export const SERVICE_ACCOUNT_SUBJECT_PREFIX = 'system:serviceaccount:';

export interface ServiceAccountClaims {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly pod?: { readonly name: string; readonly uid: string };
}

export interface PodBinding {
  /** The sidecar's own pod name (downward API). */
  readonly name: string;
  /** The pod's UID: distinguishes a re-created pod of the same name. */
  readonly uid?: string;
  /** The pod's namespace. */
  readonly namespace?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(what: string): AuthError {
  return new AuthError('invalid_claims', `token has a malformed "kubernetes.io" claim (${what})`);
}

/** The service-account claims of a token, or undefined when it has no "kubernetes.io" claim. Malformed → AuthError. */
export function readServiceAccountClaims(payload: Readonly<Record<string, unknown>>): ServiceAccountClaims | undefined {
  const claim = payload['kubernetes.io'];
  if (claim === undefined) return undefined;
  if (!isRecord(claim)) throw invalid('not an object');
  const { namespace, serviceaccount, pod } = claim;
  if (typeof namespace !== 'string' || namespace === '') throw invalid('namespace');
  if (!isRecord(serviceaccount) || typeof serviceaccount.name !== 'string' || serviceaccount.name === '') {
    throw invalid('serviceaccount');
  }
  // The subject must name the same account, or the groups we derive would describe someone else.
  if (payload.sub !== `${SERVICE_ACCOUNT_SUBJECT_PREFIX}${namespace}:${serviceaccount.name}`) {
    throw invalid('subject does not match the service account');
  }
  if (pod === undefined) return { namespace, serviceAccount: serviceaccount.name };
  if (!isRecord(pod) || typeof pod.name !== 'string' || typeof pod.uid !== 'string') throw invalid('pod');
  return { namespace, serviceAccount: serviceaccount.name, pod: { name: pod.name, uid: pod.uid } };
}

/** The groups the API server puts a service account in. */
export function serviceAccountGroups(claims: ServiceAccountClaims): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${claims.namespace}`];
}

/**
 * Applies the pod binding to a service-account token (one that has the claim or whose subject says it is one).
 * Tokens of other issuers' users (a human's OIDC token) carry no pod and are not service-account tokens: they pass.
 */
export function checkPodBinding(binding: PodBinding, subject: string, claims: ServiceAccountClaims | undefined): void {
  if (claims === undefined) {
    if (subject.startsWith(SERVICE_ACCOUNT_SUBJECT_PREFIX)) {
      throw new AuthError('pod_binding', 'service-account token is not bound to a pod');
    }
    return;
  }
  if (claims.pod === undefined) throw new AuthError('pod_binding', 'service-account token is not bound to a pod');
  const samePod =
    claims.pod.name === binding.name &&
    (binding.uid === undefined || claims.pod.uid === binding.uid) &&
    (binding.namespace === undefined || claims.namespace === binding.namespace);
  if (!samePod) throw new AuthError('pod_binding', "service-account token is not bound to this sidecar's pod");
}
