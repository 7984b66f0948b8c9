// PostgreSQL statement analysis with the real PostgreSQL parser (libpg-query, WASM).
//
// Design notes (the API contract's "Matching" and "SQL statement kinds" sections are the specification):
//
// Parts. Every top-level statement is walked once. A statement — and every statement nested in it (CTEs, sub-queries
// anywhere, INSERT … SELECT, rule actions, CREATE SCHEMA elements) — adds a part (its own kind, the relation it
// writes) and a `select` part for every relation it only reads. Parts are deduplicated per top-level statement by
// (kind, relation); a duplicated update/delete part is unbounded when any occurrence is.
// Relationless parts: a top-level statement always shows its own kind — when none of its parts has that kind, one
// without relation is added (`SELECT 1`, `BEGIN`; `CALL p((SELECT x FROM t))` is (call) + (select, t), never just a
// read; `WITH d AS (DELETE …) SELECT 1` is (delete, t) + (select)). A sub-query that reads no relation adds nothing,
// so `UPDATE t SET a = (SELECT 1)` is just (update, t) and a table-scoped allow rule still covers it. Statements
// embedded whole — EXPLAIN's, PREPARE's, DECLARE's and COPY's query — are units of their own: `PREPARE p AS SELECT 1`
// is (prepare) + (select), and `EXPLAIN SELECT 1` is (explain).
// Decisions where the contract is silent:
// - COPY (query) TO …: a copy part for each relation the query reads (one without relation if none), plus the query's
//   own parts — so copy rules with `tables` work for COPY (SELECT …) too.
// - EXPLAIN [ANALYZE] of a statement without relations: (explain) [+ its parts].
// - CREATE INDEX: (create_index, table) and, when named, (create_index, schema.index).
// - CREATE TRIGGER / POLICY / RULE and their DROP/ALTER carry the table they are on.
// - CREATE TABLE's parents (INHERITS, PARTITION OF), LIKE sources and REFERENCES targets are `select` parts.
// - GRANT/REVOKE on tables or sequences: one part per relation; any other grant (ALL TABLES IN SCHEMA, roles,
//   functions, schemas…) is one part without relation.
// - CREATE FUNCTION / PROCEDURE: (create_function | create_procedure) + (do): the body is opaque code that runs later,
//   so a policy that denies `do` denies creating it. DO is (do); its body is never analysed.
// - set_config(…) anywhere adds a `set` part (set_config('role', …) too: it is a function, not SET ROLE).
// - VACUUM ANALYZE is `vacuum`; ANALYZE alone is `analyze`. UNLISTEN is `listen`. SET CONSTRAINTS is `set`.
// - ALTER ROLE|DATABASE … SET and ALTER SYSTEM store settings for other sessions: no change of this session's state,
//   and not `forbidden` (the sidecar fixes client_encoding and standard_conforming_strings at startup).
// - Kinds outside the vocabulary (SECURITY LABEL, LOAD, REASSIGN OWNED, IMPORT FOREIGN SCHEMA) are `other`.
// - Empty text (`''`, `;`, only comments) has no statement: zero parts, statementCount 0 (PostgreSQL answers
//   EmptyQueryResponse and runs nothing).
//
// Functions. Every FuncCall anywhere in a top-level statement (target list, WHERE, DEFAULT, CHECK, index expressions,
// RETURNING, ON CONFLICT, VALUES, ORDER BY, window, FILTER, lateral, aggregate args, nested statements) is recorded
// once, and every part of that top-level statement carries the whole list (so a deny rule on a function matches
// whichever part it is checked against). Calls written with SQL syntax (EXTRACT, SUBSTRING, AT TIME ZONE) appear as
// the parser's pg_catalog functions. Operators and casts ('x'::regclass) are not calls. CALL p() records p.
// `EXECUTE p` carries the functions p was prepared with. Calls of functions that run SQL passed as text are also
// listed in dynamicSqlFunctions (see dynamic-sql-functions.ts).
//
// Names (name-resolver.ts). Relations are `schema.name`, case as the parser left it (unquoted folded, quoted kept).
// Schema-qualified names are taken as written (a three-part name drops the database). Unqualified names of existing
// relations resolve as PostgreSQL resolves them: a temporary relation created earlier in the command → pg_temp; then
// pg_catalog (unless the path names pg_catalog explicitly) from the static list in pg-catalog-relations.ts; then
// `state.lookupRelation(schemas, name)` when the caller has a catalog (schemas = the full search order, with the
// implicit pg_temp and pg_catalog in front and "$user" replaced by the current user — SET ROLE, else SET SESSION
// AUTHORIZATION, else state.user; the lookup should answer 'pg_temp' for the session's temporary schema); otherwise
// the first schema of the path that is not "$user" (offline there is no catalog to say a schema named after the
// user exists, so ["$user", "public"] resolves to public; "$user" is used only when nothing else is left). CREATE
// targets go to pg_temp when temporary, else to the first such schema. A CTE name shadows relations only within its
// WITH scope (a non-recursive CTE sees the CTEs before it), never a schema-qualified name and never a DML target.
// Where the analyser cannot settle a name, it yields every candidate and the stricter rule decides: a temporary
// relation from an earlier command may be gone (rollback, ON COMMIT DROP), so without a catalog a name it shadows
// is both pg_temp.x and the path's x; a set_config('search_path', 'literal', …) may not run (WHERE false, CASE, a
// DEFAULT or view that runs later), so later names in the command resolve under the old and the new path.
//
// Session state (session-tracker.ts). SET [LOCAL] search_path / ROLE / SESSION AUTHORIZATION, RESET, SET … TO
// DEFAULT, RESET ALL, DISCARD, BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE/ROLLBACK TO, PREPARE and DEALLOCATE are
// applied in statement order with PostgreSQL's transactional semantics. stateAfter is a PgTrackedState (PgSessionState
// plus the tracker's fields); pass it back unchanged as the next state. A set_config of search_path (literal or not)
// or of the role leaves the path (or "$user") unknown after the command: unqualified names of the next command are
// unanalysable until the caller re-reads the path (the sidecar does after any `set` part) or a SET makes it known.
// stateAfter assumes every statement succeeds: when the server answers a command with an error, the caller should
// treat the path as unknown (or re-read it) — a failed implicit transaction rolls back its SETs. Functions, triggers,
// DO and CALL can change the path behind the analyser's back; the caller re-reads it after `do`/`call` parts.

// Fail closed. Text over limits.maxBytes → error without parsing; a parse tree nested deeper than limits.maxDepth →
// error (the walker counts node depth; the parser itself reports "memory exhausted" or overflows the WASM stack on
// extreme nesting, which is caught too); parse errors carry the parser's message and position; an EXECUTE of an
// unknown prepared statement, an unresolvable unqualified name and an unknown search_path are errors. Statements that
// change client_encoding or standard_conforming_strings (SET, RESET, SET NAMES, set_config, or set_config with a
// computed setting name) are `forbidden`. An unknown statement type is `other` and is still walked for relations and
// functions.
import { parseSync } from 'libpg-query';
import type { SqlPart } from '../command.ts';
import { SessionTracker } from './session-tracker.ts';
import type { PgTrackedState } from './session-tracker.ts';
import { parserReady } from './parser.ts';
import { makePart } from './part-list.ts';
import { StatementWalker } from './statement-walker.ts';
import { Unanalysable } from './unanalysable.ts';
import { changesStoredQueries } from './lineage.ts';
import { defaultPgLimits } from './types.ts';
import type { PgAnalysis, PgAnalysisLimits, PgSessionState } from './types.ts';

export type { PgTrackedState } from './session-tracker.ts';
export { initPostgresParser } from './parser.ts';

interface RawStmt {
  stmt?: unknown;
}

/**
 * Splits a PostgreSQL command into parts and returns the session state after it. Synchronous; throws only when the
 * parser was not initialised (initPostgresParser).
 */
export function analysePostgres(sql: string, state: PgSessionState, limits: PgAnalysisLimits = defaultPgLimits): PgAnalysis {
  if (!parserReady()) throw new Error('PostgreSQL parser not initialised: await initPostgresParser() first');
  // UTF-8 length without encoding: a string can be at most 3 bytes per UTF-16 unit, so most texts skip the count.
  if (sql.length * 3 > limits.maxBytes && Buffer.byteLength(sql, 'utf8') > limits.maxBytes) {
    return failed(state, `the statement is larger than the limit of ${limits.maxBytes} bytes`);
  }

  let stmts: RawStmt[];
  try {
    stmts = sql.length === 0 ? [] : ((parseSync(sql) as { stmts?: RawStmt[] }).stmts ?? []);
  } catch (err) {
    return failed(state, parseErrorMessage(err, limits));
  }

  const tracked = state as PgTrackedState;
  const session = new SessionTracker(tracked);
  const walker = new StatementWalker(session, limits.maxDepth, state.lookupRelation);
  const parts: SqlPart[] = [];
  try {
    for (let i = 0; i < stmts.length; i++) {
      const r = walker.statement(stmts[i]?.stmt, i);
      const p = r.parts;
      for (let j = 0; j < p.size; j++) {
        parts.push(
          makePart(p.kinds[j] as string, p.relations[j], p.unbounded[j] === true, r.functions, r.dynamicSqlFunctions, i),
        );
      }
    }
  } catch (err) {
    if (err instanceof Unanalysable) return failed(state, err.message, stmts.length);
    if (err instanceof RangeError) return failed(state, 'the statement is nested too deeply to analyse', stmts.length);
    // A tree shape the walker did not expect must deny the command, never crash the proxy.
    return failed(state, `the statement cannot be analysed: ${err instanceof Error ? err.message : String(err)}`, stmts.length);
  }

  const stateAfter = session.finish();
  const stored = stmts.some((s) => changesStoredQueries(s.stmt));
  const result: PgAnalysis = stored ? { parts, statementCount: stmts.length, stateAfter, storedQueries: true } : { parts, statementCount: stmts.length, stateAfter };
  return walker.forbidden === undefined ? result : { ...result, forbidden: walker.forbidden };
}

function failed(state: PgSessionState, error: string, statementCount = 0): PgAnalysis {
  return { parts: [], error, statementCount, stateAfter: state };
}

function parseErrorMessage(err: unknown, limits: PgAnalysisLimits): string {
  if (err instanceof RangeError) return `the statement is nested deeper than the limit of ${limits.maxDepth}`;
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('memory exhausted')) {
    return `the statement is nested deeper than the limit of ${limits.maxDepth} (parser: ${message})`;
  }
  const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
  const position = details?.cursorPosition;
  const text = message.startsWith('syntax error') ? message : `syntax error: ${message}`;
  return typeof position === 'number' ? `${text} (at character ${position + 1})` : text;
}
