// Statement → Decision with a bounded cache, shared by the sidecar's SQL adapters and `explain`.
// Every level is per session state: its key includes every piece of the state that changes a statement's analysis
// (search_path, session user, the prepared-statement set); the bundle is fixed per decider, so a new bundle means a
// new (empty) cache. A statement is looked up, in this order, by:
// 1. its exact text;
// 2. its fast key (`fastKey`), only an index to entries of level 3, never a decision of its own;
// 3. its shape (`secondKey`): the real parser's normalisation, equal for statements that differ only in constants.
//    An analysis is stored under a shape only when `reusable` says no constant can change it.
// Level 2 exists because the normalisation is a full parse (≈ 10–25 µs), and traffic that repeats a shape with new
// constants pays it on every statement. The fast key comes from a home-made scanner (fast-shape.ts), so it is never
// trusted on its own. Two texts with the same fast key are byte-identical outside spans the scanner proved to be
// unsigned integers of at most 9 digits (ICONST, never FCONST) or plain '…' strings (SCONST), in an identical lexical
// context; so PostgreSQL's lexer and grammar build the same tree for both apart from those constants' values, and
// their normalisations are equal. And a fast key is linked to a shape's entry only after the real parser's
// normalisation of a statement with that key — the statement being decided, whose normalisation is that shape — put
// its placeholders exactly on the scanner's spans (`matches`). Where the scanner and the parser disagree (ORDER BY 1 is
// not a constant to the parser; `a - -5`; strings the scanner does not understand) nothing is linked and statements
// keep taking the parser's route. So a fast hit returns what the shape route would have returned, and shares only
// analyses `reusable` accepted.
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

/** A fast key for a statement, and the check that the real parser's normalisation of it agrees (see fast-shape.ts). */
export interface FastKey {
  readonly key: string;
  matches(shape: string): boolean;
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
  readonly #fastKey: ((text: string) => FastKey | undefined) | undefined;
  /** state key → fast key → the shape entry it was verified to reach (an entry of #byShape, or one evicted from it). */
  readonly #byFast = new Map<string, Map<string, CachedDecision<S>>>();
  #fastSize = 0;
  hits = 0;
  /** Hits on a shape entry, by either route. */
  shapeHits = 0;
  /** The shape hits that took the fast key instead of the parser's normalisation. */
  fastHits = 0;
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
    /**
     * A cheaper key to the shape entries (used only with secondKey and reusable): linked to an entry only when
     * `matches(secondKey(text))` holds for a statement that reached it, so it never leads anywhere the shape would not.
     */
    fastKey?: (text: string) => FastKey | undefined;
  }) {
    this.#engine = opts.engine;
    this.#resource = opts.resource;
    this.#analyse = opts.analyse;
    this.#stateKey = opts.stateKey;
    this.#max = opts.maxEntries ?? 20_000;
    this.#secondKey = opts.secondKey;
    this.#reusable = opts.reusable;
    this.#fastKey = opts.secondKey && opts.reusable ? opts.fastKey : undefined;
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
    const fast = this.#fastKey?.(text);
    let byFast: Map<string, CachedDecision<S>> | undefined;
    if (fast !== undefined) {
      byFast = this.#byFast.get(key);
      const same = byFast?.get(fast.key);
      if (same?.shape !== undefined) {
        this.fastHits++;
        this.shapeHits++;
        return shared(same, same.shape, state);
      }
    }
    const shape = this.#secondKey?.(text);
    let byShape: Map<string, CachedDecision<S>> | undefined;
    if (shape !== undefined) {
      byShape = this.#byShape.get(key);
      const same = byShape?.get(shape);
      if (same !== undefined) {
        this.shapeHits++;
        if (fast !== undefined && fast.matches(shape)) this.#link(key, byFast, fast.key, same);
        return shared(same, shape, state);
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
      if (fast !== undefined && fast.matches(shape)) this.#link(key, byFast, fast.key, result);
    }
    return result;
  }

  /** Remembers that statements with this fast key reach this shape entry (bounded like the other levels). */
  #link(key: string, byFast: Map<string, CachedDecision<S>> | undefined, fastKey: string, entry: CachedDecision<S>): void {
    if (byFast === undefined) {
      byFast = new Map();
      this.#byFast.set(key, byFast);
    }
    if (this.#fastSize >= this.#max) {
      const from = byFast.size > 0 ? byFast : this.#byFast.values().next().value;
      const oldest = from?.keys().next().value;
      if (from !== undefined && oldest !== undefined) {
        from.delete(oldest);
        this.#fastSize--;
        if (from.size === 0 && from !== byFast) for (const [k, m] of this.#byFast) if (m === from) this.#byFast.delete(k);
      }
    }
    byFast.set(fastKey, entry);
    this.#fastSize++;
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
    this.#byFast.clear();
    this.#fastSize = 0;
  }
}

/**
 * A shape entry served to another statement of the shape. The parts and the decision are shared; the entry itself is
 * per text (it memoises text-specific things). Not remembered by text: statements of a known shape mostly differ in
 * constants, and filling the text level with them would only churn it (and the heap). A repeat takes the fast key or
 * one normalisation again.
 */
function shared<S>(same: CachedDecision<S>, shape: string, state: S): CachedDecision<S> {
  // A shared analysis never changes the state (see `reusable`): in the state it was made in, it is itself.
  const analysis = same.analysis.stateAfter === state ? same.analysis : { ...same.analysis, stateAfter: state };
  return { decision: same.decision, analysis, shape, redactsNothing: same.redactsNothing === true ? true : undefined };
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
