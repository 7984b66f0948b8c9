// Test support: a fake catalog server that answers the catalog's queries from fixture data (so the fetch path and
// its SQL are exercised too), counts round trips, and can be made to fail.
import type { CatalogQueries, ResultRows } from './catalog-client.ts';

export interface FakeRelation {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly relkind?: string;
  /** [name, type OID]; attnums are 1, 2, … unless `attnums` says otherwise (dropped columns leave gaps). */
  readonly columns: ReadonlyArray<readonly [string, number]>;
  readonly attnums?: readonly number[];
  readonly parents?: readonly number[];
  readonly viewDef?: string;
}

export interface FakeCatalogData {
  readonly relations: readonly FakeRelation[];
  /** Function names that exist outside pg_catalog. */
  readonly userFunctions?: readonly string[];
  /** Type OID → typcategory. */
  readonly types?: Readonly<Record<number, string>>;
}

export class FakeCatalogServer implements CatalogQueries {
  readonly data: FakeCatalogData;
  /** Every query text received. */
  readonly queries: string[] = [];
  /** When set, queries reject with this error. */
  failWith: Error | undefined;
  closed = false;

  constructor(data: FakeCatalogData) {
    this.data = data;
  }

  query(sql: string): Promise<ResultRows[]> {
    this.queries.push(sql);
    if (this.failWith) return Promise.reject(this.failWith);
    const out: ResultRows[] = [];
    for (const stmt of sql.split(';\n')) out.push(this.#answer(stmt));
    return Promise.resolve(out);
  }

  close(): void {
    this.closed = true;
  }

  #answer(stmt: string): ResultRows {
    if (stmt.includes('FROM pg_catalog.pg_proc')) {
      const names = literals(/proname IN \(([^)]*)\)/.exec(stmt)?.[1] ?? '');
      return names.filter((n) => this.data.userFunctions?.includes(n)).map((n) => [n]);
    }
    if (stmt.includes('FROM pg_catalog.pg_type')) {
      const oids = numbers(/t\.oid IN \(([^)]*)\)/.exec(stmt)?.[1] ?? '');
      return oids.filter((o) => this.data.types?.[o] !== undefined).map((o) => [String(o), this.data.types![o]!]);
    }
    const rels = this.data.relations.filter((r) => this.#matches(stmt, r));
    if (stmt.startsWith('SELECT a.attrelid')) {
      const rows: ResultRows = [];
      for (const r of rels) {
        r.columns.forEach(([name, type], i) => rows.push([String(r.oid), String(r.attnums?.[i] ?? i + 1), name, String(type)]));
      }
      return rows;
    }
    return rels.map((r) => [
      String(r.oid),
      r.schema,
      r.name,
      r.relkind ?? 'r',
      r.viewDef ?? null,
      r.parents && r.parents.length > 0 ? r.parents.join(',') : null,
    ]);
  }

  #matches(stmt: string, r: FakeRelation): boolean {
    if (stmt.includes("NOT LIKE 'pg\\_toast%'")) return true; // loadAll
    const oids = numbers(/c\.oid IN \(([^)]*)\)/.exec(stmt)?.[1] ?? '');
    if (oids.includes(r.oid)) return true;
    const pairs = /\(n\.nspname, c\.relname\) IN \((.*)\)\)/.exec(stmt)?.[1];
    if (pairs === undefined) return false;
    const lits = literals(pairs);
    for (let i = 0; i + 1 < lits.length; i += 2) if (lits[i] === r.schema && lits[i + 1] === r.name) return true;
    return false;
  }
}

function numbers(s: string): number[] {
  return s.split(',').map((x) => Number(x.trim())).filter((n) => Number.isInteger(n));
}

function literals(s: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push((m[1] ?? '').replaceAll("''", "'"));
  return out;
}
