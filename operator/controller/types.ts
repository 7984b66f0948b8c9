// The seams between reconcilers and the cluster: read-only stores (informer caches) and the few writers. Reconcilers
// depend only on these, so unit tests drive them with in-memory fakes.
import type { ObjectMeta } from '../../core/api/index.ts';

export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  /** Every object, or those of one namespace. */
  list(namespace?: string): readonly T[];
}

/** What a Secret looks like to the operator: its key names only — values are dropped before they are cached. */
export interface SecretKeys {
  readonly metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'resourceVersion'>;
  readonly keys: readonly string[];
}

/** A pod as the operator keeps it: metadata only (labels select, annotations record what was injected). */
export interface PodMeta {
  readonly metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'labels' | 'annotations' | 'creationTimestamp' | 'deletionTimestamp' | 'resourceVersion'>;
  readonly phase?: string;
}

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventSink {
  /** Records a Kubernetes Event on the object (best effort: failures are logged, never thrown). */
  emit(object: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface StatusWriter {
  /**
   * Writes `status` through the status subresource, conditional on the object's resourceVersion. Returns false when
   * the object is gone; throws on conflict (the caller retries after the cache caught up) and other errors.
   */
  write(plural: string, metadata: ObjectMeta, status: unknown): Promise<boolean>;
}

export type ReconcileResult = void | { readonly requeueAfterMs: number };

export interface Reconciler {
  /** The key is `namespace/name`. */
  reconcile(key: string): Promise<ReconcileResult>;
}

export function splitKey(key: string): [namespace: string, name: string] {
  const slash = key.indexOf('/');
  return slash < 0 ? ['', key] : [key.slice(0, slash), key.slice(slash + 1)];
}

export function keyOf(o: { metadata: { namespace?: string; name?: string } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}
