// ProtectedResource reconciler: is the endpoint well formed, and does the credentials Secret (and the upstream CA
// Secret, if named) exist with the keys the protocol needs? The answer is the Ready condition; a change of answer is
// also an Event, since that is where `kubectl describe` readers look.
import { API_VERSION, DEFAULT_CA_KEY, KIND_PROTECTED_RESOURCE, type ProtectedResource, type ProtectedResourceStatus } from '../../core/api/index.ts';
import { PLURAL } from '../kube/paths.ts';
import { findCondition, mergeConditions, type DesiredCondition } from './conditions.ts';
import { statusEqual } from './status-equal.ts';
import { splitKey, type EventSink, type Reconciler, type ReconcileResult, type SecretKeys, type StatusWriter, type Store } from './types.ts';

export const READY = 'Ready';

export const ProtectedResourceReasons = {
  Valid: 'Valid',
  InvalidEndpoint: 'InvalidEndpoint',
  CredentialsRequired: 'CredentialsRequired',
  SecretNotFound: 'SecretNotFound',
  SecretKeyMissing: 'SecretKeyMissing',
} as const;

/** Keys the credentials Secret must hold, per protocol; each inner list is one acceptable set (any one suffices). */
export const REQUIRED_KEYS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  postgres: [['username', 'password']],
  mysql: [['username', 'password']],
  kubernetes: [['token']],
  http: [['token'], ['header', 'value']],
  ssh: [['username', 'privateKey', 'knownHosts']],
};

const HOST_PORT = new Set(['postgres', 'mysql', 'ssh']);

/** Ready for one ProtectedResource, judged from its spec and the Secrets' key names. Pure. */
export function evaluateProtectedResource(pr: ProtectedResource, secrets: (name: string) => SecretKeys | undefined): DesiredCondition {
  const { Valid, InvalidEndpoint, CredentialsRequired, SecretNotFound, SecretKeyMissing } = ProtectedResourceReasons;
  const not = (reason: string, message: string): DesiredCondition => ({ type: READY, status: 'False', reason, message });
  const spec = pr.spec ?? ({} as ProtectedResource['spec']);
  const protocol = spec.protocol;
  const required = REQUIRED_KEYS[protocol];
  if (!required) return not(InvalidEndpoint, `unknown protocol ${JSON.stringify(protocol)}`);

  const endpointProblem = checkEndpoint(protocol, spec.endpoint);
  if (endpointProblem) return not(InvalidEndpoint, endpointProblem);

  const secretName = spec.credentials?.secretRef?.name;
  if (!secretName) {
    if (protocol !== 'http') return not(CredentialsRequired, `spec.credentials.secretRef is required for protocol ${protocol}`);
  } else {
    const secret = secrets(secretName);
    if (!secret) return not(SecretNotFound, `credentials Secret ${secretName} not found in namespace ${pr.metadata.namespace}`);
    const have = new Set(secret.keys);
    if (!required.some((set) => set.every((k) => have.has(k)))) {
      // Name the set the Secret comes closest to: fewest keys missing, then most keys already present.
      const score = (set: readonly string[]) => missing(set, have).length * 100 - (set.length - missing(set, have).length);
      const best = required.reduce((a, b) => (score(b) < score(a) ? b : a));
      const alternatives = required.length > 1 ? ` (or ${required.filter((s) => s !== best).map((s) => s.join(' + ')).join(', or ')})` : '';
      return not(SecretKeyMissing, `credentials Secret ${secretName} lacks key(s) ${missing(best, have).join(', ')} needed for protocol ${protocol}${alternatives}`);
    }
  }

  const ca = spec.endpoint?.tls?.caSecretRef;
  if (ca) {
    const secret = secrets(ca.name);
    const key = ca.key ?? DEFAULT_CA_KEY;
    if (!secret) return not(SecretNotFound, `CA Secret ${ca.name} (spec.endpoint.tls.caSecretRef) not found in namespace ${pr.metadata.namespace}`);
    if (!secret.keys.includes(key)) return not(SecretKeyMissing, `CA Secret ${ca.name} lacks key ${key}`);
  }
  return { type: READY, status: 'True', reason: Valid, message: secretName ? `credentials Secret ${secretName} holds the keys protocol ${protocol} needs` : 'endpoint is valid' };
}

function missing(keys: readonly string[], have: ReadonlySet<string>): string[] {
  return keys.filter((k) => !have.has(k));
}

function checkEndpoint(protocol: string, endpoint: ProtectedResource['spec']['endpoint'] | undefined): string | undefined {
  if (!endpoint) return 'spec.endpoint is required';
  if (HOST_PORT.has(protocol)) {
    if (!endpoint.host) return `spec.endpoint.host is required for protocol ${protocol}`;
    if (!Number.isInteger(endpoint.port) || endpoint.port! < 1 || endpoint.port! > 65535) return `spec.endpoint.port must be 1-65535 for protocol ${protocol}`;
    if (protocol === 'ssh' && endpoint.tls) return 'spec.endpoint.tls does not apply to protocol ssh';
    if (endpoint.tls?.mode === 'verify-full' && !endpoint.tls.caSecretRef) return 'spec.endpoint.tls.mode verify-full needs spec.endpoint.tls.caSecretRef';
    return undefined;
  }
  if (!endpoint.url) return `spec.endpoint.url is required for protocol ${protocol}`;
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    return `spec.endpoint.url ${JSON.stringify(endpoint.url)} is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `spec.endpoint.url must be http or https, got ${url.protocol}`;
  if (url.username || url.password) return 'spec.endpoint.url must not carry credentials; use spec.credentials';
  return undefined;
}

export interface ProtectedResourceDeps {
  readonly resources: Store<ProtectedResource>;
  readonly secrets: Store<SecretKeys>;
  readonly status: StatusWriter;
  readonly events: EventSink;
  readonly now?: () => Date;
}

export class ProtectedResourceReconciler implements Reconciler {
  readonly #d: ProtectedResourceDeps;
  constructor(deps: ProtectedResourceDeps) {
    this.#d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const pr = this.#d.resources.get(namespace, name);
    if (!pr || pr.metadata.deletionTimestamp) return;
    const ready = evaluateProtectedResource(pr, (n) => this.#d.secrets.get(namespace, n));
    const now = (this.#d.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const prev = pr.status ?? {};
    const next: ProtectedResourceStatus = {
      ...prev,
      observedGeneration: pr.metadata.generation,
      conditions: mergeConditions(prev.conditions, [ready], pr.metadata.generation, now),
    };
    if (statusEqual(prev, next)) return;
    if (!(await this.#d.status.write(PLURAL.protectedResources, pr.metadata, next))) return;
    const before = findCondition(prev.conditions, READY);
    if (before?.status !== ready.status || before.reason !== ready.reason) {
      this.#d.events.emit(
        { apiVersion: API_VERSION, kind: KIND_PROTECTED_RESOURCE, namespace, name, uid: pr.metadata.uid },
        ready.status === 'True' ? 'Normal' : 'Warning',
        ready.reason,
        ready.message,
      );
    }
  }
}
