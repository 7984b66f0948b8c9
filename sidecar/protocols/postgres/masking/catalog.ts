// Catalog facts masking needs, read once and cached: relations by OID (RowDescription names columns by table OID
// and attribute number) and by name (lineage names relations), with their columns, inheritance parents and — for
// views and materialized views — their definition; which function names have user-defined code; the category of
// types that are not built in. Reads are synchronous and answer "not known yet" (undefined) for what is missing;
// the caller collects what was missing and fetches it all in one round trip (one simple Query holding a statement
// per kind of fact), then asks again. `invalidate()` (after DDL) forgets everything.
import type { SqlFunctionRef } from '../../../../core/analysis/command.ts';
import { CatalogClient, sqlLiteral, type CatalogQueries, type Connect, type ResultRows } from './catalog-client.ts';

export interface ColumnInfo {
  readonly attnum: number;
  readonly name: string;
  readonly typeOid: number;
}

export interface RelationInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** pg_class.relkind: r table, p partitioned, v view, m materialized view, f foreign table, S sequence. */
  readonly relkind: string;
  /** attnum order, without dropped columns. */
  readonly columns: readonly ColumnInfo[];
  /** Inheritance / partition parents (OIDs). */
  readonly parents: readonly number[];
  /** pg_get_viewdef for v and m, printed with only pg_catalog searched (so every other name is qualified). */
  readonly viewDef?: string;
}

/** What a plan found missing; fetched together. */
export class Missing {
  readonly oids = new Set<number>();
  readonly names = new Set<string>();
  readonly functions = new Set<string>();
  readonly types = new Set<number>();

  get size(): number {
    return this.oids.size + this.names.size + this.functions.size + this.types.size;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  describe(): string {
    return [...this.oids].map((o) => `oid ${o}`).concat([...this.names], [...this.functions].map((f) => `${f}()`), [...this.types].map((t) => `type ${t}`)).join(', ');
  }
}

/** Synchronous reads that record what they could not answer. null: known not to exist. */
export interface CatalogFacts {
  relationByOid(oid: number): RelationInfo | null | undefined;
  relationByName(relation: string): RelationInfo | null | undefined;
  /** true: a function of this name has user-defined code (outside pg_catalog and information_schema). */
  functionOpaque(fn: SqlFunctionRef): boolean | undefined;
  /** pg_type.typcategory of a type that is not built in. */
  typeCategory(oid: number): string | null | undefined;
}

const relkinds = "('r','p','v','m','f','S')";
/**
 * Schemas whose functions ship with PostgreSQL and read nothing but their arguments and the catalog (the
 * information_schema views call their own SQL helpers): not user code.
 */
const builtinSchemas: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema']);
/** Cached facts beyond this are dropped (and read again when needed). */
const maxCachedFacts = 200_000;
/** Relations not worth loading up front: TOAST tables and other sessions' temporary schemas. */
const systemNoise = "n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

export class Catalog {
  readonly #client: CatalogQueries;
  #byOid = new Map<number, RelationInfo | null>();
  #byName = new Map<string, RelationInfo | null>();
  #functions = new Map<string, boolean>();
  #types = new Map<number, string | null>();
  #fetching: Promise<unknown> = Promise.resolve();
  /** Bumped by invalidate(): answers to queries sent before it are dropped. */
  #generation = 0;
  /** Computed per generation by callers (view lineage), keyed by OID. */
  readonly derived = new Map<number, unknown>();

  constructor(source: Connect | CatalogQueries) {
    this.#client = typeof source === 'function' ? new CatalogClient(source) : source;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Facts that record misses into `missing`. */
  facts(missing: Missing): CatalogFacts {
    return {
      relationByOid: (oid) => {
        const r = this.#byOid.get(oid);
        if (r === undefined) missing.oids.add(oid);
        return r;
      },
      relationByName: (relation) => {
        if (relation.startsWith('pg_temp.')) return null; // the agent's own temporary objects: not visible here
        const r = this.#byName.get(relation);
        if (r === undefined) missing.names.add(relation);
        return r;
      },
      functionOpaque: (fn) => {
        if (fn.schema !== undefined) return !builtinSchemas.has(fn.schema);
        const r = this.#functions.get(fn.name);
        if (r === undefined) missing.functions.add(fn.name);
        return r;
      },
      typeCategory: (oid) => {
        const r = this.#types.get(oid);
        if (r === undefined) missing.types.add(oid);
        return r;
      },
    };
  }

  /**
   * Fetches everything in `missing` that is still unknown, in one round trip. Fetches run one after another, and
   * each looks at the cache when its turn comes: concurrent plans missing the same facts ask for them once.
   */
  fetch(missing: Missing): Promise<void> {
    const run = this.#fetching.then(() => this.#fetchNow(missing));
    this.#fetching = run.catch(() => undefined);
    return run;
  }

  async #fetchNow(missing: Missing): Promise<void> {
    const generation = this.#generation;
    const oids = [...missing.oids].filter((o) => !this.#byOid.has(o) && Number.isInteger(o) && o > 0 && o <= 0xffffffff);
    const names = [...missing.names].filter((n) => !this.#byName.has(n)).map(splitRelation).filter((n) => n !== undefined);
    const functions = [...missing.functions].filter((f) => !this.#functions.has(f));
    const types = [...missing.types].filter((t) => !this.#types.has(t) && Number.isInteger(t) && t > 0 && t <= 0xffffffff);
    const conds: string[] = [];
    if (oids.length > 0) conds.push(`c.oid IN (${oids.join(',')})`);
    if (names.length > 0) conds.push(`(n.nspname, c.relname) IN (${names.map(([s, r]) => `(${sqlLiteral(s)}, ${sqlLiteral(r)})`).join(',')})`);
    const statements: string[] = [];
    if (conds.length > 0) statements.push(...relationQueries(conds.join(' OR ')));
    if (functions.length > 0) {
      statements.push(
        'SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p ' +
          `WHERE p.proname IN (${functions.map(sqlLiteral).join(',')}) ` +
          "AND p.pronamespace NOT IN ('pg_catalog'::pg_catalog.regnamespace, 'information_schema'::pg_catalog.regnamespace)",
      );
    }
    if (types.length > 0) statements.push(`SELECT t.oid, t.typcategory FROM pg_catalog.pg_type t WHERE t.oid IN (${types.join(',')})`);
    if (statements.length === 0) return;
    const sets = await this.#client.query(statements.join(';\n'));
    if (generation !== this.#generation) return; // invalidated meanwhile: the caller asks again and refetches
    // Bounded memory: names that do not exist are cached too, and an agent can make up any number of them.
    if (this.#byName.size + this.#byOid.size + this.#functions.size + this.#types.size > maxCachedFacts) this.#clear();
    let k = 0;
    if (conds.length > 0) {
      const found = this.#storeRelations(sets[k] ?? [], sets[k + 1] ?? []);
      k += 2;
      for (const o of oids) if (!found.oids.has(o)) this.#byOid.set(o, null);
      for (const [s, r] of names) if (!found.names.has(`${s}.${r}`)) this.#byName.set(`${s}.${r}`, null);
    }
    if (functions.length > 0) {
      const opaque = new Set((sets[k++] ?? []).map((row) => row[0] ?? ''));
      for (const f of functions) this.#functions.set(f, opaque.has(f));
    }
    if (types.length > 0) {
      const seen = new Set<number>();
      for (const row of sets[k++] ?? []) {
        const oid = Number(row[0]);
        seen.add(oid);
        this.#types.set(oid, row[1] ?? null);
      }
      for (const t of types) if (!seen.has(t)) this.#types.set(t, null);
    }
  }

  /** Loads every relation of the database up front (strict masking decides synchronously and wants them at hand). */
  async loadAll(): Promise<void> {
    const generation = this.#generation;
    const sets = await this.#client.query(relationQueries(systemNoise).join(';\n'));
    if (generation !== this.#generation) return;
    this.#storeRelations(sets[0] ?? [], sets[1] ?? []);
  }

  invalidate(): void {
    this.#generation++;
    this.#clear();
  }

  #clear(): void {
    this.#byOid = new Map();
    this.#byName = new Map();
    this.#functions = new Map();
    this.#types = new Map();
    this.derived.clear();
  }

  close(): void {
    this.#client.close();
  }

  #storeRelations(rels: ResultRows, cols: ResultRows): { oids: Set<number>; names: Set<string> } {
    const columns = new Map<number, ColumnInfo[]>();
    for (const row of cols) {
      const rel = Number(row[0]);
      let list = columns.get(rel);
      if (list === undefined) columns.set(rel, (list = []));
      list.push({ attnum: Number(row[1]), name: row[2] ?? '', typeOid: Number(row[3]) });
    }
    const oids = new Set<number>();
    const names = new Set<string>();
    for (const row of rels) {
      const oid = Number(row[0]);
      const info: RelationInfo = {
        oid,
        schema: row[1] ?? '',
        name: row[2] ?? '',
        relkind: row[3] ?? '',
        columns: columns.get(oid) ?? [],
        parents: (row[5] ?? '').split(',').filter((p) => p !== '').map(Number),
        ...(row[4] !== null && row[4] !== undefined ? { viewDef: row[4] } : {}),
      };
      const key = `${info.schema}.${info.name}`;
      this.#byOid.set(oid, info);
      this.#byName.set(key, info);
      oids.add(oid);
      names.add(key);
    }
    return { oids, names };
  }
}

/** The relations matching `cond` (over pg_class c / pg_namespace n) and their columns, as two statements. */
function relationQueries(cond: string): string[] {
  return [
    'SELECT c.oid, n.nspname, c.relname, c.relkind, ' +
      "CASE WHEN c.relkind IN ('v','m') THEN pg_catalog.pg_get_viewdef(c.oid) END, " +
      "(SELECT pg_catalog.string_agg(i.inhparent::pg_catalog.text, ',') FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) " +
      'FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      `WHERE c.relkind IN ${relkinds} AND (${cond})`,
    'SELECT a.attrelid, a.attnum, a.attname, a.atttypid FROM pg_catalog.pg_attribute a ' +
      'JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      `WHERE c.relkind IN ${relkinds} AND (${cond}) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum`,
  ];
}

/** `schema.name` → [schema, name]; the schema is what comes before the first dot (as lineage builds it). */
export function splitRelation(relation: string): [string, string] | undefined {
  const dot = relation.indexOf('.');
  if (dot <= 0 || dot === relation.length - 1) return undefined;
  return [relation.slice(0, dot), relation.slice(dot + 1)];
}
