// Scopes for lineage: what a query's FROM clause makes visible (range entries, with their columns where known),
// how nested queries see outer ones, and how a column reference is resolved to the source columns it stands for.
//
// A source is `schema.table.column`, or `schema.table.*` for a whole-row reference (every column of the relation).
// Where the columns of a relation are unknown (no catalog), a reference is resolved by name alone; where a name
// could belong to several entries, every candidate is kept — lineage over-approximates, it never drops a source.

/** How much is unknown about a value: nothing, "anything this statement reads", or "anything at all". */
export const KNOWN = 0;
export const READS = 1;
export const ANYTHING = 2;
export type Unknown = typeof KNOWN | typeof READS | typeof ANYTHING;

/** One column of a query's output, or of a range entry. */
export interface Col {
  readonly name: string;
  readonly sources: ReadonlySet<string>;
  readonly unknown: Unknown;
  /** Set when the value is exactly one source column (a plain reference, no expression). */
  readonly direct?: string;
}

/** An accumulator of sources while an expression is walked. */
export class Acc {
  readonly sources = new Set<string>();
  unknown: Unknown = KNOWN;
  /** The one plain source column seen so far; null once anything else was added. */
  private direct: string | null | undefined;

  /** A source that is a plain column of a relation. */
  addDirect(s: string): void {
    this.direct = this.direct === undefined ? s : null;
    this.sources.add(s);
  }

  addSource(s: string): void {
    this.direct = null;
    this.sources.add(s);
  }

  mark(u: Unknown): void {
    if (u > this.unknown) this.unknown = u;
  }

  addCol(c: Col): void {
    this.direct = this.direct === undefined && c.direct !== undefined ? c.direct : null;
    for (const s of c.sources) this.sources.add(s);
    this.mark(c.unknown);
  }

  addAcc(a: Acc): void {
    this.direct = null;
    for (const s of a.sources) this.sources.add(s);
    this.mark(a.unknown);
  }

  /** The column; `plain`: the expression was a lone column reference, so it may be `direct`. */
  toCol(name: string, plain = false): Col {
    const d = this.direct;
    if (plain && typeof d === 'string' && this.unknown === KNOWN && this.sources.size === 1) {
      return { name, sources: this.sources, unknown: this.unknown, direct: d };
    }
    return { name, sources: this.sources, unknown: this.unknown };
  }
}

export function colOf(name: string, sources: Iterable<string>, unknown: Unknown, direct?: string): Col {
  const set = new Set(sources);
  return direct === undefined ? { name, sources: set, unknown } : { name, sources: set, unknown, direct };
}

/** The union of several columns under one name. */
export function unionCol(name: string, cols: Iterable<Col>): Col {
  const acc = new Acc();
  for (const c of cols) acc.addCol(c);
  return acc.toCol(name);
}

/**
 * A query's output shape: `head` columns, then — when the count is not known (a `*` over something whose columns
 * are unknown) — any number of columns each like `each`, then `tail`.
 */
export interface Shape {
  readonly head: readonly Col[];
  readonly rest?: { readonly each: Col; readonly tail: readonly Col[] };
}

export function exact(cols: readonly Col[]): Shape {
  return { head: cols };
}

/** The columns of a shape when their number is known. */
export function exactCols(s: Shape): readonly Col[] | undefined {
  return s.rest === undefined ? s.head : undefined;
}

/** Everything any column of the shape may come from. */
export function shapeUnion(s: Shape, name = '?column?'): Col {
  const all: Col[] = [...s.head];
  if (s.rest) all.push(s.rest.each, ...s.rest.tail);
  return unionCol(name, all);
}

/** The shape's columns for exactly `n` output columns, or undefined when it cannot have that many. */
export function alignShape(s: Shape, n: number): readonly Col[] | undefined {
  if (s.rest === undefined) return s.head.length === n ? s.head : undefined;
  const fixed = s.head.length + s.rest.tail.length;
  if (n < fixed) return undefined;
  const out: Col[] = [...s.head];
  for (let i = fixed; i < n; i++) out.push(s.rest.each);
  out.push(...s.rest.tail);
  return out;
}

/** Builds a shape from items that are columns or runs of an unknown number of columns. */
export class ShapeBuilder {
  private readonly head: Col[] = [];
  private run: Acc | undefined;
  private tail: Col[] = [];

  col(c: Col): void {
    if (this.run === undefined) this.head.push(c);
    else this.tail.push(c);
  }

  cols(cs: readonly Col[]): void {
    for (const c of cs) this.col(c);
  }

  /** An unknown number of columns, each like `each`. Columns between two runs merge into the run. */
  unknownRun(each: Col): void {
    if (this.run === undefined) this.run = new Acc();
    for (const t of this.tail) this.run.addCol(t);
    this.tail = [];
    this.run.addCol(each);
  }

  shape(shape: Shape): void {
    this.cols(shape.head);
    if (shape.rest) {
      this.unknownRun(shape.rest.each);
      this.cols(shape.rest.tail);
    }
  }

  build(): Shape {
    if (this.run === undefined) return { head: this.head };
    return { head: this.head, rest: { each: this.run.toCol('?column?'), tail: this.tail } };
  }
}

// ---- range entries and levels ---------------------------------------------------------------------------------

/** Something in a FROM clause: a relation, a derived table (sub-select, CTE, function, VALUES) or a join. */
export interface RangeEntry {
  /** The name a qualified reference uses (alias or relation name); undefined when the entry cannot be named. */
  readonly refname: string | undefined;
  /** For an unaliased relation: its schema, so `schema.table.column` references match. */
  readonly schema?: string;
  /** Relation entries: the candidate relations (`schema.name`), usually one. */
  readonly relations?: readonly string[];
  /** Alias column names given to a relation whose columns are otherwise unknown. */
  readonly aliasCols?: readonly string[];
  /** Known columns, in order (relations with catalog columns, derived tables of known shape, joins). */
  readonly columns: readonly Col[] | undefined;
  /** Derived entries of unknown shape: what any of their columns may come from. */
  readonly fallback?: Col;
  /** Joins: the entries joined (for lookups when the join's own columns are unknown). */
  readonly children?: readonly RangeEntry[];
  /** DML targets: values a column may take besides its stored value (INSERT values, UPDATE SET, …). */
  readonly assigned?: { readonly byName: ReadonlyMap<string, Col>; readonly all: Col | undefined };
}

/** CTE names visible at a point, with their output shapes. */
export interface CteScope {
  readonly defs: Map<string, Shape | 'pending'>;
  readonly parent: CteScope | undefined;
}

export function findCte(scope: CteScope | undefined, name: string): Shape | 'pending' | undefined {
  for (let s = scope; s !== undefined; s = s.parent) {
    const d = s.defs.get(name);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** One query level: its FROM entries; outer levels are visible to correlated references. */
export class Level {
  /** Top-level FROM items, in order (what `*` expands). */
  readonly top: RangeEntry[] = [];
  /** Entries a qualifier can name (leaves and aliased joins, not what an aliased join hides). */
  readonly named: RangeEntry[] = [];
  readonly parent: Level | undefined;
  readonly ctes: CteScope | undefined;

  constructor(parent: Level | undefined, ctes: CteScope | undefined) {
    this.parent = parent;
    this.ctes = ctes;
  }
}

function relationSources(e: RangeEntry, column: string, acc: Acc): void {
  const rels = e.relations ?? [];
  for (const r of rels) {
    if (rels.length === 1 && column !== '*') acc.addDirect(`${r}.${column}`);
    else acc.addSource(`${r}.${column}`);
  }
  const extra = e.assigned?.byName.get(column) ?? e.assigned?.all;
  if (extra) acc.addCol(extra);
}

/** System columns every table has; no user column can take these names. Row metadata, not data. */
const systemColumns: ReadonlySet<string> = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid']);

/** Adds what column `name` of entry `e` may come from; returns whether the entry certainly has it. */
function columnOf(e: RangeEntry, name: string, acc: Acc): 'found' | 'maybe' | 'no' {
  if (e.relations !== undefined && systemColumns.has(name)) return 'found';
  if (e.columns !== undefined) {
    let found = false;
    for (const c of e.columns) {
      if (c.name === name) {
        acc.addCol(c);
        found = true;
      }
    }
    return found ? 'found' : 'no';
  }
  if (e.relations !== undefined) {
    const renamed = e.aliasCols?.indexOf(name) ?? -1;
    if (renamed >= 0) {
      // The n-th column under a new name: which column that is needs the catalog, so the whole row counts.
      relationSources(e, '*', acc);
      return 'found';
    }
    relationSources(e, name, acc);
    return 'maybe';
  }
  if (e.children !== undefined) {
    let result: 'found' | 'maybe' | 'no' = 'no';
    for (const child of e.children) {
      const r = columnOf(child, name, acc);
      if (r === 'found') result = 'found';
      else if (r === 'maybe' && result === 'no') result = 'maybe';
    }
    return result;
  }
  if (e.fallback !== undefined) {
    acc.addCol(e.fallback);
    return 'maybe';
  }
  return 'no';
}

/** Every column of an entry: a whole-row reference (`c`, `c.*` inside an expression, `row_to_json(c)`). */
export function wholeRow(e: RangeEntry, acc: Acc): void {
  if (e.columns !== undefined) {
    for (const c of e.columns) acc.addCol(c);
    return;
  }
  if (e.relations !== undefined) {
    relationSources(e, '*', acc);
    if (e.assigned) {
      for (const c of e.assigned.byName.values()) acc.addCol(c);
      if (e.assigned.all) acc.addCol(e.assigned.all);
    }
    return;
  }
  if (e.children !== undefined) {
    for (const child of e.children) wholeRow(child, acc);
    return;
  }
  if (e.fallback !== undefined) acc.addCol(e.fallback);
  else acc.mark(READS);
}

/** The columns `e.*` expands to, as a shape (unknown count when the entry's columns are unknown). */
export function starOf(e: RangeEntry, out: ShapeBuilder): void {
  if (e.columns !== undefined) {
    out.cols(e.columns);
    return;
  }
  if (e.children !== undefined) {
    for (const child of e.children) starOf(child, out);
    return;
  }
  const acc = new Acc();
  wholeRow(e, acc);
  out.unknownRun(acc.toCol('?column?'));
}

function matchesQualifier(e: RangeEntry, qualifier: readonly string[]): boolean {
  if (e.refname === undefined) return false;
  const name = qualifier[qualifier.length - 1];
  if (e.refname !== name) return false;
  if (qualifier.length === 1) return true;
  // schema.table (or db.schema.table): only an unaliased relation carries its schema.
  return e.schema !== undefined && e.schema === qualifier[qualifier.length - 2];
}

/** The entry a qualifier (`t`, `s.t`, `db.s.t`) names, innermost level first. */
export function findEntry(level: Level | undefined, qualifier: readonly string[]): RangeEntry | undefined {
  for (let l = level; l !== undefined; l = l.parent) {
    for (const e of l.named) if (matchesQualifier(e, qualifier)) return e;
  }
  return undefined;
}

/**
 * An unqualified column name. PostgreSQL takes the innermost level that has the column; where entries of unknown
 * columns may have it, the search goes on outward and keeps every candidate. A name no entry has may be a
 * whole-row reference to an entry of that name. Returns false when nothing could be found.
 */
export function resolveName(level: Level | undefined, name: string, acc: Acc): boolean {
  let any = false;
  for (let l = level; l !== undefined; l = l.parent) {
    let found = false;
    for (const e of l.top) {
      const r = columnOf(e, name, acc);
      if (r === 'found') found = true;
      if (r !== 'no') any = true;
    }
    if (found) return true;
  }
  // A bare name without a column of that name: a whole-row reference (`SELECT c FROM customers c`).
  const e = findEntry(level, [name]);
  if (e !== undefined) {
    wholeRow(e, acc);
    return true;
  }
  return any;
}

/** `qualifier.column`: the entry's column; without such an entry, `qualifier` is a composite column. */
export function resolveQualified(level: Level | undefined, qualifier: readonly string[], column: string, acc: Acc): boolean {
  const e = findEntry(level, qualifier);
  if (e !== undefined) {
    if (columnOf(e, column, acc) === 'no') wholeRow(e, acc); // the name should exist: keep every column
    return true;
  }
  // (x).field written as x.field: a field of a composite column.
  if (qualifier.length === 1) return resolveName(level, qualifier[0] as string, acc);
  // s.t.field / t.col.field
  return resolveQualified(level, qualifier.slice(0, -1), qualifier[qualifier.length - 1] as string, acc);
}
