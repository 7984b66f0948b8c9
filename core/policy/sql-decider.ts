// Statement → Decision with a bounded cache, shared by the sidecar's SQL adapters and `explain`.
// The cache key is the exact statement text plus every piece of session state that changes its analysis
// (search_path, session user, the prepared-statement set); the bundle is fixed per decider, so a new bundle means a
// new (empty) cache. Keys never come from a home-made normalisation: a lexer that disagreed with the server would
// poison the cache.
import type { Command } from '../analysis/command.ts';
import type { Engine, Decision } from './engine.ts';

export interface SqlAnalysisResult<S> extends Command {
  readonly stateAfter: S;
}

export interface CachedDecision<S> {
  readonly decision: Decision;
  readonly analysis: SqlAnalysisResult<S>;
  /** Callers may memoise per-statement derivations here (e.g. the redacted text for records). */
  redacted?: string;
}

export class SqlDecider<S> {
  readonly #engine: Engine;
  readonly #resource: string;
  readonly #analyse: (text: string, state: S) => SqlAnalysisResult<S>;
  readonly #stateKey: (state: S) => string;
  readonly #cache = new Map<string, CachedDecision<S>>();
  readonly #max: number;
  hits = 0;
  misses = 0;

  constructor(opts: {
    engine: Engine;
    resource: string;
    analyse: (text: string, state: S) => SqlAnalysisResult<S>;
    stateKey: (state: S) => string;
    maxEntries?: number;
  }) {
    this.#engine = opts.engine;
    this.#resource = opts.resource;
    this.#analyse = opts.analyse;
    this.#stateKey = opts.stateKey;
    this.#max = opts.maxEntries ?? 20_000;
  }

  decide(text: string, state: S): CachedDecision<S> {
    const key = `${this.#stateKey(state)}\u0000${text}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const analysis = this.#analyse(text, state);
    const result: CachedDecision<S> = { decision: this.#engine.decide(this.#resource, analysis), analysis };
    if (this.#cache.size >= this.#max) {
      // Evict the oldest insertion: Map iterates in insertion order, so this is FIFO — cheap and bounded.
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, result);
    return result;
  }

  /** Forget every cached analysis, e.g. after DDL changed what an unqualified name resolves to. */
  clear(): void {
    this.#cache.clear();
  }
}

/** Identity of an immutable state object (prepared-statement maps), so it can take part in a string cache key. */
const ids = new WeakMap<object, number>();
let nextId = 1;
export function objectId(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}
