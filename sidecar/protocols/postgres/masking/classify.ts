// Which masking classifications a source column belongs to. A column is classified when `schema.table.column`
// matches a classification's `columns` glob (folded as SQL names fold); a column of an inheritance child or
// partition also when its parent's column is; a view's (or materialized view's) column when the base columns its
// definition computes it from are — through views of views, bounded. Where nothing can be known, the answer is
// every classification (fail closed): a relation the catalog does not know (the agent's temporary objects, objects
// created in a transaction not yet committed), a view whose definition cannot be read, lineage that is unknown.
import {
  alignShape,
  ANYTHING,
  lineageOfStatements,
  parseStatements,
  READS,
  type Col,
  type LineageCatalog,
  type Shape,
} from '../../../../core/analysis/postgres/lineage.ts';
import type { BundleResource } from '../../../../core/policy/bundle.ts';
import { compileAny, type StringMatcher } from '../../../../core/policy/glob.ts';
import { foldSqlPattern } from '../../../../core/policy/matchers/sql.ts';
import { stricterStrategy, type MaskingStrategy } from '../../../../core/masking/strategies.ts';
import type { Catalog, CatalogFacts, Missing, RelationInfo } from './catalog.ts';

export interface MaskClass {
  readonly index: number;
  readonly name: string;
  readonly strategy: MaskingStrategy;
  readonly strict: boolean;
  readonly match: StringMatcher;
}

export type ClassSet = ReadonlySet<number>;

/** The resource's masked classifications that name columns (detector-only ones are the backstop's). */
export function compileClasses(resource: BundleResource): MaskClass[] {
  const out: MaskClass[] = [];
  for (const m of resource.masking) {
    const c = resource.classifications.find((x) => x.name === m.classification);
    const patterns = (c?.columns ?? []).map(foldSqlPattern);
    if (patterns.length === 0) continue;
    out.push({ index: out.length, name: m.classification, strategy: m.strategy, strict: m.strict, match: compileAny(patterns) });
  }
  return out;
}

/** The strictest strategy of a set of classifications (undefined for none). */
export function strategyOf(classes: readonly MaskClass[], set: ClassSet): MaskingStrategy | undefined {
  let s: MaskingStrategy | undefined;
  for (const i of set) {
    const c = classes[i];
    if (c) s = s === undefined ? c.strategy : stricterStrategy(s, c.strategy);
  }
  return s;
}

/**
 * Catalog columns that hold copies of table values: the planner statistics (most common values, histogram bounds —
 * what pg_stats and pg_stats_ext show). Any classification may be in them.
 */
const valueCopies: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['pg_catalog.pg_statistic', new Set(['stavalues1', 'stavalues2', 'stavalues3', 'stavalues4', 'stavalues5'])],
  ['pg_catalog.pg_statistic_ext_data', new Set(['stxdmcv', 'stxdexpr'])],
]);

/** How deep views over views are followed before giving up (and masking). */
const maxViewDepth = 16;

interface ViewLineage {
  readonly shape: Shape;
  readonly relations: readonly string[];
}

const emptySet: ClassSet = new Set();

/** One plan's (or one strict check's) classification questions; misses go to `missing`. */
export class Classifier {
  readonly classes: readonly MaskClass[];
  readonly facts: CatalogFacts;
  readonly #catalog: Catalog;
  readonly #missing: Missing;
  readonly #all: ClassSet;
  readonly #memo = new Map<string, ClassSet>();

  constructor(classes: readonly MaskClass[], catalog: Catalog, missing: Missing) {
    this.classes = classes;
    this.#catalog = catalog;
    this.#missing = missing;
    this.facts = catalog.facts(missing);
    this.#all = new Set(classes.map((c) => c.index));
  }

  get all(): ClassSet {
    return this.#all;
  }

  /** What lineage may ask, answered from the catalog (and recording misses). */
  get lineageCatalog(): LineageCatalog {
    return {
      columns: (relation) => {
        const info = this.facts.relationByName(relation);
        return info ? info.columns.map((c) => c.name) : undefined;
      },
      opaqueFunction: (fn) => this.facts.functionOpaque(fn) ?? false,
    };
  }

  /** A lineage column: its sources, and — when unknown — what the statement reads or everything. */
  ofCol(col: Col, relations: readonly string[], depth = 0): Set<number> {
    const out = new Set<number>();
    if (col.unknown === ANYTHING) return new Set(this.#all);
    for (const s of col.sources) addAll(out, this.ofSource(s, depth));
    if (col.unknown === READS) for (const r of relations) addAll(out, this.ofRelation(r, depth));
    return out;
  }

  /** `schema.table.column` or `schema.table.*`. */
  ofSource(source: string, depth = 0): ClassSet {
    const dot = source.lastIndexOf('.');
    if (dot <= 0) return this.#all;
    const rel = source.slice(0, dot);
    const column = source.slice(dot + 1);
    const info = this.facts.relationByName(rel);
    if (info === undefined) return emptySet; // fetched, then asked again
    if (info === null) return this.#all;
    return column === '*' ? this.ofRelationInfo(info, depth) : this.ofColumn(info, column, depth);
  }

  /** Every classification any column of the relation has (views: through their definition). */
  ofRelation(relation: string, depth = 0): ClassSet {
    const info = this.facts.relationByName(relation);
    if (info === undefined) return emptySet;
    if (info === null) return this.#all;
    return this.ofRelationInfo(info, depth);
  }

  ofRelationInfo(info: RelationInfo, depth = 0): ClassSet {
    const key = `${info.oid}\u0000*`;
    const hit = this.#memo.get(key);
    if (hit !== undefined) return hit;
    const out = new Set<number>();
    for (const c of info.columns) addAll(out, this.ofColumn(info, c.name, depth));
    this.#memo.set(key, out);
    return out;
  }

  ofColumn(info: RelationInfo, column: string, depth = 0): ClassSet {
    if (depth > maxViewDepth) return this.#all;
    const key = `${info.oid}\u0000${column}`;
    const hit = this.#memo.get(key);
    if (hit !== undefined) return hit;
    const out = new Set<number>();
    this.#memo.set(key, out); // a cycle (impossible in PostgreSQL, but cheap to guard) sees what is known so far
    const name = `${info.schema}.${info.name}.${column}`;
    for (const c of this.classes) if (c.match(name)) out.add(c.index);
    if (valueCopies.get(`${info.schema}.${info.name}`)?.has(column)) addAll(out, this.#all);
    for (const p of info.parents) {
      const parent = this.facts.relationByOid(p);
      if (parent && parent.columns.some((c) => c.name === column)) addAll(out, this.ofColumn(parent, column, depth + 1));
    }
    if (info.relkind === 'v' || info.relkind === 'm') {
      const idx = info.columns.findIndex((c) => c.name === column);
      const view = this.#view(info);
      if (idx >= 0) {
        const cols = view ? alignShape(view.shape, info.columns.length) : undefined;
        const col = cols?.[idx];
        if (col === undefined || view === null || view === undefined) addAll(out, this.#all);
        else addAll(out, this.ofCol(col, view.relations, depth + 1));
      }
    }
    return out;
  }

  /** The lineage of a view's definition, cached per catalog generation once it was computed without misses. */
  #view(info: RelationInfo): ViewLineage | null | undefined {
    const cached = this.#catalog.derived.get(info.oid) as ViewLineage | null | undefined;
    if (cached !== undefined) return cached;
    if (info.viewDef === undefined) return null;
    const stmts = parseStatements(info.viewDef);
    if (!Array.isArray(stmts) || stmts.length !== 1) {
      this.#catalog.derived.set(info.oid, null);
      return null;
    }
    const before = this.#missing.size;
    const r = lineageOfStatements(stmts, { searchPath: ['pg_catalog'], prepared: new Map() }, { catalog: this.lineageCatalog });
    const s = r.statements[0];
    const view: ViewLineage | null = s && s.kind === 'rows' ? { shape: s.shape, relations: s.relations } : null;
    if (this.#missing.size === before) this.#catalog.derived.set(info.oid, view);
    return view;
  }
}

function addAll(into: Set<number>, from: ClassSet): void {
  for (const x of from) into.add(x);
}
