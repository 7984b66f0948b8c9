// Test helpers for the controller: a manual clock whose timers fire only when the test advances time.
import type { Clock } from './queue.ts';

export class ManualClock implements Clock {
  #now = 0;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #nextId = 0;

  now(): number {
    return this.#now;
  }

  schedule(ms: number, fn: () => void): () => void {
    const id = this.#nextId++;
    this.#timers.push({ at: this.#now + ms, fn, id });
    return () => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    };
  }

  /** Pending timer delays from now, in firing order. */
  pending(): number[] {
    return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }
}

/** An in-memory Store keyed by namespace/name. */
export class MemoryStore<T extends { metadata: { namespace?: string; name?: string } }> {
  readonly #items = new Map<string, T>();
  constructor(items: readonly T[] = []) {
    for (const i of items) this.set(i);
  }
  set(item: T): void {
    this.#items.set(`${item.metadata.namespace ?? ''}/${item.metadata.name ?? ''}`, item);
  }
  delete(namespace: string, name: string): void {
    this.#items.delete(`${namespace}/${name}`);
  }
  get(namespace: string, name: string): T | undefined {
    return this.#items.get(`${namespace}/${name}`);
  }
  list(namespace?: string): readonly T[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((i) => (i.metadata.namespace ?? '') === namespace);
  }
}

export interface RecordedWrite {
  plural: string;
  name: string;
  status: Record<string, unknown>;
}

/** A StatusWriter that records writes and applies them to a store, as the API server would. */
export class RecordingStatusWriter {
  readonly writes: RecordedWrite[] = [];
  readonly #apply: ((plural: string, name: string, namespace: string, status: unknown) => void) | undefined;
  constructor(apply?: (plural: string, name: string, namespace: string, status: unknown) => void) {
    this.#apply = apply;
  }
  async write(plural: string, metadata: { name: string; namespace?: string }, status: unknown): Promise<boolean> {
    this.writes.push({ plural, name: metadata.name, status: structuredClone(status) as Record<string, unknown> });
    this.#apply?.(plural, metadata.name, metadata.namespace ?? '', status);
    return true;
  }
}

export interface RecordedEvent {
  name: string;
  kind: string;
  type: string;
  reason: string;
  message: string;
}

export class RecordingEvents {
  readonly events: RecordedEvent[] = [];
  emit(object: { kind: string; name: string }, type: string, reason: string, message: string): void {
    this.events.push({ name: object.name, kind: object.kind, type, reason, message });
  }
}
