// A second cache key for statements that differ only in their constants: the real parser's normalisation
// (pg_query_normalize: the statement parsed by PostgreSQL's own grammar, every constant its tree finds replaced by
// $n). Cheaper than a full parse into a JS tree, and never a home-made lexer that could read bytes differently from
// the server. Which analyses may be shared under it is the caller's call (see reusableUnderNormalisation).
import { normalizeSync } from 'libpg-query';
import { parserReady } from './parser.ts';
import type { PgAnalysis, PgSessionState } from './types.ts';

/** The normalised text, or undefined when the parser refuses it (the full analysis then reports why). */
export function normalizePostgres(sql: string): string | undefined {
  // Without a digit, a quote or a dollar sign there is no constant to replace (true/false/NULL aside): the exact text
  // is then the only useful key, and the normalisation would be a wasted parse.
  if (!parserReady() || !/[0-9'$]/.test(sql)) return undefined;
  try {
    return normalizeSync(sql);
  } catch {
    return undefined;
  }
}

/** Kinds whose parts never depend on a constant's value (relations, functions and WHERE shape are not constants). */
const literalFreeKinds: ReadonlySet<string> = new Set(['select', 'insert', 'update', 'delete', 'merge']);

/**
 * Whether an analysis may be reused for every statement with the same normalised text: nothing in it may depend on
 * a constant. So: no error or forbidden verdict, no change to the session state (SET values, set_config arguments
 * are constants), only plain DML/query parts, and no function that runs SQL passed as text.
 */
export function reusableUnderNormalisation(a: PgAnalysis, state: PgSessionState): boolean {
  if (a.error !== undefined || a.forbidden !== undefined || a.stateAfter !== state || a.parts.length === 0) return false;
  for (const p of a.parts) {
    if (!literalFreeKinds.has(p.kind) || p.dynamicSqlFunctions.length > 0) return false;
  }
  return true;
}
