// SQL rule matching: statements against the part's kind, tables against its relation, functions against the
// functions its statement calls, unboundedWrite against update/delete parts. Every set field must match (AND).
import type { SqlFunctionRef, SqlPart } from '../../analysis/command.ts';
import { compileAny, isWildcardOnly, type StringMatcher } from '../glob.ts';
import type { SqlMatch } from '../bundle.ts';

export type SqlPartMatcher = (part: SqlPart) => boolean;

/**
 * Fold a SQL name pattern as PostgreSQL folds identifiers: unquoted segments to lower case, "quoted" ones kept.
 * `Public.Orders` → `public.orders`; `"Orders"` → `Orders`; a glob's `*` survives either way.
 */
export function foldSqlPattern(pattern: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '"') {
      if (quoted && pattern[i + 1] === '"') {
        out += '"';
        i++;
      } else quoted = !quoted;
      continue;
    }
    out += quoted ? c : c.toLowerCase();
  }
  return out;
}

/** Dotted patterns match `schema.name`; patterns without a dot match the unqualified name. */
export function compileFunctionMatcher(patterns: readonly string[]): (f: SqlFunctionRef) => boolean {
  const folded = patterns.map(foldSqlPattern);
  const dotted = compileAnyOrNever(folded.filter((p) => p.includes('.')));
  const bare = compileAnyOrNever(folded.filter((p) => !p.includes('.')));
  // An unqualified call resolves through pg_catalog first (built-in functions live there).
  return (f) => bare(f.name) || dotted(`${f.schema ?? 'pg_catalog'}.${f.name}`);
}

/** Names a function by a pattern that is not just `*` — the contract's "a rule allows that function by name". */
export function namesFunctionExplicitly(patterns: readonly string[], f: SqlFunctionRef): boolean {
  return compileFunctionMatcher(patterns.filter((p) => !isWildcardOnly(p.split('.').pop() ?? p)))(f);
}

function compileAnyOrNever(patterns: readonly string[]): StringMatcher {
  return patterns.length === 0 ? () => false : compileAny(patterns);
}

export function compileSqlMatcher(m: SqlMatch): SqlPartMatcher {
  const tests: SqlPartMatcher[] = [];
  if (m.statements) {
    const kinds = compileAny(m.statements.map((s) => s.toLowerCase()));
    tests.push((p) => kinds(p.kind));
  }
  if (m.tables) {
    const tables = compileAny(m.tables.map(foldSqlPattern));
    tests.push((p) => p.relation !== undefined && tables(p.relation));
  }
  if (m.functions) {
    const fn = compileFunctionMatcher(m.functions);
    tests.push((p) => p.functions.some(fn) || p.dynamicSqlFunctions.some(fn));
  }
  if (m.unboundedWrite === true) tests.push((p) => p.unboundedWrite);
  return (p) => {
    for (const t of tests) if (!t(p)) return false;
    return true;
  };
}
