// Kubernetes Events (core/v1) for what a user must see on `kubectl describe`. Repeats of the same event on the same
// object are folded into one Event with a count, as client-go's recorder does, so a flapping Secret does not flood
// etcd. Best effort: a failed write is logged, never retried and never fails a reconcile.
import { corePath } from './paths.ts';
import type { KubeApi } from './rest.ts';
import type { EventSink, ObjectReference } from '../controller/types.ts';

export interface EventRecorderOptions {
  readonly api: KubeApi;
  readonly component: string;
  readonly instance: string;
  readonly onError?: (err: Error) => void;
  readonly now?: () => Date;
  /** Remembered (object, reason, message) combinations for folding; default 4096. */
  readonly maxRemembered?: number;
}

interface Seen {
  name: string;
  count: number;
  first: string;
}

export class EventRecorder implements EventSink {
  readonly #o: EventRecorderOptions;
  readonly #seen = new Map<string, Seen>();
  #chain: Promise<void> = Promise.resolve();

  constructor(opts: EventRecorderOptions) {
    this.#o = opts;
  }

  emit(object: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    // One at a time: the folding below reads what the previous write created.
    this.#chain = this.#chain.then(() => this.#write(object, type, reason, message)).catch((e: unknown) => this.#o.onError?.(e as Error));
  }

  /** Resolves when every emitted event has been written (or has failed). */
  flush(): Promise<void> {
    return this.#chain;
  }

  async #write(object: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = (this.#o.now?.() ?? new Date()).toISOString();
    const key = `${object.uid ?? ''}|${object.kind}|${object.namespace}|${object.name}|${type}|${reason}|${message}`;
    const seen = this.#seen.get(key);
    if (seen) {
      seen.count++;
      const res = await this.#o.api.request('PATCH', corePath('events', object.namespace, seen.name), {
        contentType: 'application/merge-patch+json',
        body: { count: seen.count, lastTimestamp: now },
      });
      if (res.status < 300) return;
      this.#seen.delete(key); // expired or deleted: write a new one
    }
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${object.name}.`, namespace: object.namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, namespace: object.namespace, name: object.name, ...(object.uid ? { uid: object.uid } : {}) },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.#o.component },
      reportingComponent: this.#o.component,
      reportingInstance: this.#o.instance.slice(0, 128),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const res = await this.#o.api.request<{ metadata?: { name?: string } }>('POST', corePath('events', object.namespace), { body });
    if (res.status >= 300 || !res.body.metadata?.name) throw new Error(`create Event for ${object.kind} ${object.namespace}/${object.name}: ${res.status}`);
    if (this.#seen.size >= (this.#o.maxRemembered ?? 4096)) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, { name: res.body.metadata.name, count: 1, first: now });
  }
}
