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
  /** The statement's shape (second key), when it has one: equal for statements that differ only in constants. */
  shape?: string;
  /** Set by callers when redaction left the text unchanged: redaction depends on the statement's structure, not its
   * constants, so this holds for every statement of the shape. */
  redactsNothing?: boolean;
}

export class SqlDecider<S extends object> {
  readonly #engine: Engine;
  readonly #resource: string;
  readonly #analyse: (text: string, state: S) => SqlAnalysisResult<S>;
  readonly #stateKey: (state: S) => string;
  /** state key → statement text → decision. Two levels, so a hit hashes the statement text once, never a copy. */
  readonly #cache = new Map<string, Map<string, CachedDecision<S>>>();
  /** Session states are immutable objects reused until they change: compute each one's key once. */
  readonly #keys = new WeakMap<S, string>();
  readonly #max: number;
  #size = 0;
  readonly #secondKey: ((text: string) => string | undefined) | undefined;
  readonly #reusable: ((analysis: SqlAnalysisResult<S>, state: S) => boolean) | undefined;
  /** state key → normalised text → a decision that holds for every statement normalising to it. */
  readonly #byShape = new Map<string, Map<string, CachedDecision<S>>>();
  #shapeSize = 0;
  hits = 0;
  shapeHits = 0;
  misses = 0;

  constructor(opts: {
    engine: Engine;
    resource: string;
    analyse: (text: string, state: S) => SqlAnalysisResult<S>;
    stateKey: (state: S) => string;
    maxEntries?: number;
    /**
     * A second key from the real parser (e.g. the text with constants replaced by $n), and which analyses may be
     * shared under it — only those where no constant can change the parts. Both or neither.
     */
    secondKey?: (text: string) => string | undefined;
    reusable?: (analysis: SqlAnalysisResult<S>, state: S) => boolean;
  }) {
    this.#engine = opts.engine;
    this.#resource = opts.resource;
    this.#analyse = opts.analyse;
    this.#stateKey = opts.stateKey;
    this.#max = opts.maxEntries ?? 20_000;
    this.#secondKey = opts.secondKey;
    this.#reusable = opts.reusable;
  }

  decide(text: string, state: S): CachedDecision<S> {
    let key = this.#keys.get(state);
    if (key === undefined) {
      key = this.#stateKey(state);
      this.#keys.set(state, key);
    }
    const byText = this.#cache.get(key);
    const hit = byText?.get(text);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    const shape = this.#secondKey?.(text);
    let byShape: Map<string, CachedDecision<S>> | undefined;
    if (shape !== undefined) {
      byShape = this.#byShape.get(key);
      const same = byShape?.get(shape);
      if (same !== undefined) {
        this.shapeHits++;
        // The parts and the decision are shared; the entry itself is per text (it memoises text-specific things).
        // Not remembered by text: statements of a known shape mostly differ in constants, and filling the text level
        // with them would only churn it (and the heap). A repeat costs one normalisation again.
        return { decision: same.decision, analysis: { ...same.analysis, stateAfter: state }, shape, ...(same.redactsNothing ? { redactsNothing: true } : {}) };
      }
    }
    this.misses++;
    const analysis = this.#analyse(text, state);
    const result: CachedDecision<S> = { decision: this.#engine.decide(this.#resource, analysis), analysis, ...(shape !== undefined ? { shape } : {}) };
    this.#remember(key, byText, text, result);
    if (shape !== undefined && this.#reusable?.(analysis, state)) {
      if (byShape === undefined) {
        byShape = new Map();
        this.#byShape.set(key, byShape);
      }
      if (this.#shapeSize >= this.#max) {
        const oldest = byShape.keys().next().value;
        if (oldest !== undefined) {
          byShape.delete(oldest);
          this.#shapeSize--;
        }
      }
      byShape.set(shape, result);
      this.#shapeSize++;
    }
    return result;
  }

  #remember(key: string, byText: Map<string, CachedDecision<S>> | undefined, text: string, result: CachedDecision<S>): void {
    if (byText === undefined) {
      byText = new Map();
      this.#cache.set(key, byText);
    }
    if (this.#size >= this.#max) this.#evict(byText);
    byText.set(text, result);
    this.#size++;
  }

  /** Bounded: drop the oldest entry of this state (Map iterates in insertion order), else of the oldest state. */
  #evict(preferred: Map<string, CachedDecision<S>>): void {
    const from = preferred.size > 0 ? preferred : this.#cache.values().next().value;
    if (!from) return;
    const oldest = from.keys().next().value;
    if (oldest !== undefined) {
      from.delete(oldest);
      this.#size--;
    }
    if (from.size === 0) for (const [k, m] of this.#cache) if (m === from) this.#cache.delete(k);
  }

  /** Forget every cached analysis, e.g. after DDL changed what an unqualified name resolves to. */
  clear(): void {
    this.#cache.clear();
    this.#size = 0;
    this.#byShape.clear();
    this.#shapeSize = 0;
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
