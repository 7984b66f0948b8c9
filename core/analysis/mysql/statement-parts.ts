// Collects the parts of one top-level statement: (kind, relation) pairs and the functions the statement calls.
import type { SqlFunctionRef, SqlPart } from '../command.ts';
import { fail } from './failure.ts';

export interface DraftPart {
  readonly kind: string;
  readonly relation: string | undefined;
  unboundedWrite: boolean;
}

const noFunctions: readonly SqlFunctionRef[] = Object.freeze([]);

export class StatementParts {
  readonly drafts: DraftPart[] = [];
  readonly functions: SqlFunctionRef[] = [];

  /** Adds (kind, relation) once; a repeated update/delete of a relation is unbounded if any occurrence is. */
  add(kind: string, relation?: string, unboundedWrite = false): void {
    for (const d of this.drafts) {
      if (d.kind === kind && d.relation === relation) {
        d.unboundedWrite ||= unboundedWrite;
        return;
      }
    }
    this.drafts.push({ kind, relation, unboundedWrite });
  }

  /** MySQL function names are case-insensitive: folded to lower case. Database names are kept as written. */
  addFunction(schema: string | undefined, name: string): void {
    const folded = name.toLowerCase();
    for (const f of this.functions) if (f.name === folded && f.schema === schema) return;
    this.functions.push(schema === undefined ? { name: folded } : { schema, name: folded });
  }

  merge(other: StatementParts): void {
    for (const d of other.drafts) this.add(d.kind, d.relation, d.unboundedWrite);
    for (const f of other.functions) this.addFunction(f.schema, f.name);
  }

  /** Distinct relations of the parts, in order. */
  relations(): string[] {
    const out: string[] = [];
    for (const d of this.drafts) if (d.relation !== undefined && !out.includes(d.relation)) out.push(d.relation);
    return out;
  }

  /** Every part of a statement carries every function the statement calls (nested queries included). */
  toParts(statement: number): SqlPart[] {
    const functions = this.functions.length === 0 ? noFunctions : Object.freeze(this.functions.slice());
    return this.drafts.map((d) => {
      const part: SqlPart = {
        protocol: 'sql',
        kind: d.kind,
        functions,
        unboundedWrite: d.unboundedWrite,
        dynamicSqlFunctions: noFunctions, // MySQL has no function that runs SQL passed as text
        statement,
      };
      return d.relation === undefined ? part : { ...part, relation: d.relation };
    });
  }
}

/**
 * `db.table` as MySQL resolves it: qualified names as written, unqualified ones in the default database. Names keep
 * their case, as a Linux server with lower_case_table_names=0 (the default) compares them.
 */
export function relationName(db: string | null | undefined, table: string, defaultDatabase: string | undefined): string {
  const schema = db != null && db !== '' ? db : defaultDatabase;
  if (schema === undefined) fail(`no database selected for table ${table}`);
  return `${schema}.${table}`;
}
