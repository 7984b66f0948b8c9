// Informers on client-node's ListWatch: list + watch one resource (in every watched namespace), keep a cache, and
// call back on add/update/delete. Two things are added around it:
//   - a transform applied to every object before it is cached (Secrets are cut down to their key names, so secret
//     values never sit in the operator's memory; Pods to their metadata);
//   - restart with capped exponential back-off when ListWatch gives up after an error (it does not retry itself).
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { expectOk, type KubeApi } from '../kube/rest.ts';
import type { Store } from './types.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
export type Handler<T> = (event: InformerEvent, obj: T) => void;

/** A Watch whose events carry transformed objects. */
class TransformingWatch extends Watch {
  readonly #transform: (o: unknown) => unknown;
  constructor(kc: KubeConfig, transform: (o: unknown) => unknown) {
    super(kc);
    this.#transform = transform;
  }
  override watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(path, query, (phase, obj, watchObj) => {
      // ERROR events carry a Status, not an object of the kind: pass them through untouched.
      callback(phase, phase === 'ERROR' ? obj : this.#transform(obj), watchObj);
    }, done);
  }
}

export interface InformerOptions<T> {
  readonly kc: KubeConfig;
  readonly api: KubeApi;
  /** Collection paths to list+watch, one per watched namespace (or one cluster-wide path). */
  readonly paths: readonly string[];
  readonly transform?: (raw: unknown) => T;
  readonly onError?: (path: string, err: unknown) => void;
  readonly maxBackoffMs?: number;
}

interface Part<T> {
  readonly path: string;
  readonly lw: ListWatch<T & KubernetesObject>;
  backoff: number;
  timer: NodeJS.Timeout | undefined;
}

export class Informer<T extends { metadata: { name?: string; namespace?: string } }> implements Store<T> {
  readonly #parts: Part<T>[] = [];
  readonly #handlers: Handler<T>[] = [];
  readonly #o: InformerOptions<T>;
  #stopped = false;
  #synced = false;

  constructor(opts: InformerOptions<T>) {
    this.#o = opts;
    const transform = opts.transform ?? ((o: unknown) => o as T);
    for (const path of opts.paths) {
      const listFn = async (): Promise<KubernetesListObject<T & KubernetesObject>> => {
        const list = await expectOk<KubernetesListObject<KubernetesObject>>(opts.api, 'GET', path);
        return { ...list, items: list.items.map((i) => transform(i) as T & KubernetesObject) };
      };
      const lw = new ListWatch<T & KubernetesObject>(path, new TransformingWatch(opts.kc, transform as (o: unknown) => unknown), listFn, false);
      const part: Part<T> = { path, lw, backoff: 1000, timer: undefined };
      lw.on('add', (o) => this.#emit('add', o));
      lw.on('update', (o) => this.#emit('update', o));
      lw.on('delete', (o) => this.#emit('delete', o));
      lw.on('connect', () => {
        part.backoff = 1000;
      });
      lw.on('error', (err) => this.#restart(part, err));
      this.#parts.push(part);
    }
  }

  on(handler: Handler<T>): void {
    this.#handlers.push(handler);
  }

  get synced(): boolean {
    return this.#synced;
  }

  #emit(event: InformerEvent, obj: T): void {
    for (const h of this.#handlers) h(event, obj);
  }

  #restart(part: Part<T>, err: unknown): void {
    // Stopping aborts the watch, which ListWatch reports as an error: not worth a word.
    if (this.#stopped) return;
    this.#o.onError?.(part.path, err);
    clearTimeout(part.timer);
    const delay = part.backoff;
    part.backoff = Math.min(part.backoff * 2, this.#o.maxBackoffMs ?? 30_000);
    part.timer = setTimeout(() => void part.lw.start(), delay);
    part.timer.unref();
  }

  /** Lists and starts watching; resolves once every path has been listed (or failed and scheduled a retry). */
  async start(): Promise<void> {
    this.#stopped = false;
    await Promise.all(this.#parts.map((p) => p.lw.start()));
    this.#synced = this.#parts.every((p) => p.lw.latestResourceVersion() !== '');
  }

  /** Resolves when every path has been listed at least once. */
  async waitForSync(pollMs = 100): Promise<void> {
    while (!this.#stopped && !this.#parts.every((p) => p.lw.latestResourceVersion() !== '')) {
      await new Promise((r) => setTimeout(r, pollMs));
    }
    this.#synced = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const p of this.#parts) {
      clearTimeout(p.timer);
      await p.lw.stop();
    }
  }

  get(namespace: string, name: string): T | undefined {
    for (const p of this.#parts) {
      const o = p.lw.get(name, namespace);
      if (o) return o;
    }
    return undefined;
  }

  list(namespace?: string): readonly T[] {
    if (this.#parts.length === 1) return this.#parts[0]!.lw.list(namespace);
    const out: T[] = [];
    for (const p of this.#parts) out.push(...p.lw.list(namespace));
    return out;
  }
}

/** Secrets keep only their key names. */
export function secretKeysOf(raw: unknown): { metadata: { name: string; namespace: string; resourceVersion?: string }; keys: string[] } {
  const s = raw as { metadata: { name: string; namespace: string; resourceVersion?: string }; data?: Record<string, unknown>; stringData?: Record<string, unknown> };
  const keys = [...new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})])].sort();
  return { metadata: { name: s.metadata.name, namespace: s.metadata.namespace, resourceVersion: s.metadata.resourceVersion }, keys };
}

/** Pods keep their metadata (labels, annotations, uid) and phase. */
export function podMetaOf(raw: unknown): { metadata: Record<string, unknown>; phase?: string } {
  const p = raw as { metadata: Record<string, unknown>; status?: { phase?: string } };
  const m = p.metadata;
  const metadata: Record<string, unknown> = {};
  for (const k of ['name', 'namespace', 'uid', 'labels', 'annotations', 'creationTimestamp', 'deletionTimestamp', 'resourceVersion']) {
    if (m[k] !== undefined) metadata[k] = m[k];
  }
  return p.status?.phase ? { metadata, phase: p.status.phase } : { metadata };
}
