// Column lineage of PostgreSQL statements: for every top-level statement that returns rows, which source columns
// (`schema.table.column`, or `schema.table.*` for a whole row) each output column is computed from. Masking uses it
// for output columns that RowDescription cannot name (expressions carry table OID 0) and for COPY, which has no
// RowDescription at all.
//
// Pure and synchronous: the SQL text, the session state the analyser tracks (search_path, temporary relations —
// names resolve as analyse.ts resolves them, and SET search_path inside the text applies to later statements), the
// session's SQL-level prepared statements and cursors (EXECUTE and FETCH return the rows of a query written
// earlier), and optionally a catalog that knows relations' columns (for `*`) and which functions are user code.
//
// Never "clean" by guess: a column whose lineage cannot be determined is `unknown` — READS (it may come from any
// column the statement reads) or ANYTHING (user-defined code, an unknown cursor: it may come from anywhere). Where
// the number of output columns is unknown (`*` over a relation whose columns are not known), the shape says so and
// the caller aligns it with the real column count.
import { parseSync } from 'libpg-query';
import type { PgTrackedState } from './session-tracker.ts';
import { pathCandidates, SessionTracker } from './session-tracker.ts';
import { StatementWalker } from './statement-walker.ts';
import { Unanalysable } from './unanalysable.ts';
import { nameContext, resolveRangeVar, stringValue, type NameContext } from './lineage-names.ts';
import { LineageTooDeep, QueryLineage, unknownShape, type FilterSink, type LineageCatalog } from './lineage-query.ts';
import { ANYTHING, colOf, KNOWN, type Col, type Shape } from './lineage-scope.ts';
import { parserReady } from './parser.ts';
import { defaultPgLimits } from './types.ts';

export { ANYTHING, KNOWN, READS, alignShape, shapeUnion } from './lineage-scope.ts';
export type { Col, Shape, Unknown } from './lineage-scope.ts';
export type { LineageCatalog, FilterSink } from './lineage-query.ts';

type Obj = Record<string, unknown>;

/** A query kept by the session: PREPARE's statement, or DECLARE's cursor with the state it was declared in. */
export interface StoredQuery {
  readonly query: unknown;
  readonly state: PgTrackedState;
}

/** What lineage remembers across the commands of one session. Immutable: a command returns a new one. */
export interface LineageSession {
  readonly prepared: ReadonlyMap<string, StoredQuery>;
  readonly cursors: ReadonlyMap<string, StoredQuery>;
}

export const emptyLineageSession: LineageSession = { prepared: new Map(), cursors: new Map() };

/** Beyond this many prepared statements or cursors the oldest are forgotten (their results become unknown). */
const maxStored = 256;

export interface CopyInfo {
  /** `schema.name` for COPY table TO; undefined for COPY (query) TO. */
  readonly relation?: string;
  /** The COPY options by lower-case name: a string value, or true for a bare option. */
  readonly options: ReadonlyMap<string, string | boolean>;
}

export interface StatementLineage {
  /** rows: returns a result set; copy: COPY … TO STDOUT; none: returns no rows. */
  readonly kind: 'rows' | 'copy' | 'none';
  readonly shape: Shape;
  /** Every relation the statement reads or writes (views included), as `schema.name`. */
  readonly relations: readonly string[];
  /** INSERT/UPDATE/DELETE/MERGE … RETURNING: a RowDescription origin names the target, not where a value came from. */
  readonly dml: boolean;
  /** The result depends on the session's prepared statements or cursors, not only on the text. */
  readonly usesSession: boolean;
  readonly copy?: CopyInfo;
  /** Why lineage could not be determined (the shape is then unknown). */
  readonly error?: string;
}

export interface LineageResult {
  readonly statements: readonly StatementLineage[];
  /** The session's prepared statements and cursors after the command. */
  readonly session: LineageSession;
  readonly error?: string;
}

export interface LineageOptions {
  readonly catalog?: LineageCatalog;
  readonly session?: LineageSession;
  readonly maxDepth?: number;
  /** Receives every filter-position expression (WHERE, JOIN … ON, ORDER BY, …) of every statement and sub-query. */
  readonly filters?: (statement: number, position: string, col: Col) => void;
}

/** The top-level statement nodes of a SQL text (RawStmt.stmt), or the parser's error. */
export function parseStatements(sql: string): unknown[] | { error: string } {
  if (!parserReady()) throw new Error('PostgreSQL parser not initialised: await initPostgresParser() first');
  try {
    const parsed = sql.length === 0 ? { stmts: [] } : (parseSync(sql) as { stmts?: Array<{ stmt?: unknown }> });
    return (parsed.stmts ?? []).map((s) => s.stmt);
  } catch (err) {
    return { error: `cannot parse: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function lineage(sql: string, state: PgTrackedState, options: LineageOptions = {}): LineageResult {
  const stmts = parseStatements(sql);
  if (!Array.isArray(stmts)) return { statements: [], session: options.session ?? emptyLineageSession, error: stmts.error };
  return lineageOfStatements(stmts, state, options);
}

/** Lineage of already parsed statements (see parseStatements), in order, tracking the session state between them. */
export function lineageOfStatements(stmts: readonly unknown[], state: PgTrackedState, options: LineageOptions = {}): LineageResult {
  const maxDepth = options.maxDepth ?? defaultPgLimits.maxDepth;
  const tracker = new SessionTracker(state);
  const walker = new StatementWalker(tracker, maxDepth, state.lookupRelation);
  const names = nameContext(tracker, state.lookupRelation);
  let session = options.session ?? emptyLineageSession;
  let broken: string | undefined;
  const out: StatementLineage[] = [];
  for (let i = 0; i < stmts.length; i++) {
    const stmt = stmts[i];
    if (broken !== undefined) {
      out.push(unknownStatement(broken));
      continue;
    }
    const filters = options.filters;
    const sink: FilterSink | undefined = filters ? (position, col) => filters(i, position, col) : undefined;
    out.push(statementLineage(stmt, names, options.catalog, session, maxDepth, sink));
    session = applySession(stmt, session, tracker, state);
    try {
      walker.statement(stmt, i); // SET search_path, temporary relations, transactions: as the analyser tracks them
    } catch (err) {
      if (!(err instanceof Unanalysable) && !(err instanceof RangeError)) throw err;
      broken = `the session state after statement ${i + 1} is unknown: ${(err as Error).message}`;
    }
  }
  return { statements: out, session };
}

/** The lineage of one statement node; never throws for trees the parser produced. */
export function statementLineage(
  stmt: unknown,
  names: NameContext,
  catalog: LineageCatalog | undefined,
  session: LineageSession,
  maxDepth: number,
  sink?: FilterSink,
): StatementLineage {
  const q = new QueryLineage(names, catalog, maxDepth, sink);
  try {
    return dispatch(stmt, q, names, catalog, session, maxDepth, sink);
  } catch (err) {
    if (err instanceof LineageTooDeep || err instanceof RangeError) return unknownStatement(err.message, [...q.relations]);
    throw err;
  }
}

function dispatch(
  stmt: unknown,
  q: QueryLineage,
  names: NameContext,
  catalog: LineageCatalog | undefined,
  session: LineageSession,
  maxDepth: number,
  sink: FilterSink | undefined,
): StatementLineage {
  const o = (stmt ?? {}) as Obj;
  for (const type in o) {
    const body = (o[type] ?? {}) as Obj;
    switch (type) {
      case 'SelectStmt': {
        const shape = q.select(body, undefined, undefined);
        return body.intoClause ? result('none', unknownShape(ANYTHING), q, false) : result('rows', shape, q, false);
      }
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt': {
        const shape = q.query(o, undefined, undefined);
        const returning = body.returningClause ?? body.returningList;
        const has = Array.isArray(returning) ? returning.length > 0 : returning !== undefined && returning !== null;
        return has ? result('rows', shape, q, true) : result('none', unknownShape(ANYTHING), q, true);
      }
      case 'ExplainStmt':
        // The plan is text about the query, not its data (EXPLAIN ANALYZE runs it but returns only the plan).
        if (sink) q.query(body.query, undefined, undefined);
        return result('rows', { head: [colOf('QUERY PLAN', [], KNOWN)] }, q, false);
      case 'VariableShowStmt': {
        const name = typeof body.name === 'string' ? body.name : '';
        const head = name === 'all'
          ? [colOf('name', [], KNOWN), colOf('setting', [], KNOWN), colOf('description', [], KNOWN)]
          : [colOf(name, [], KNOWN)];
        return result('rows', { head }, q, false);
      }
      case 'ExecuteStmt': {
        const stored = session.prepared.get(typeof body.name === 'string' ? body.name : '');
        if (stored === undefined) return { ...unknownStatement('EXECUTE of a statement prepared in an earlier command this session did not record'), usesSession: true };
        // PostgreSQL re-analyses a prepared statement when the search_path changed: names resolve as of now.
        const inner = statementLineage(stored.query, names, catalog, session, maxDepth, sink);
        return { ...inner, usesSession: true };
      }
      case 'FetchStmt': {
        if (body.ismove === true) return result('none', unknownShape(ANYTHING), q, false);
        const stored = session.cursors.get(typeof body.portalname === 'string' ? body.portalname : '');
        if (stored === undefined) return { ...unknownStatement('FETCH from a cursor this session did not record'), usesSession: true };
        // A cursor's query was planned when it was declared: names resolve as they did then.
        const declared = storedNames(stored);
        const inner = statementLineage(stored.query, declared, catalog, session, maxDepth, sink);
        return { ...inner, usesSession: true };
      }
      case 'CallStmt':
        // OUT parameters of a procedure: whatever its code computed.
        return { ...unknownStatement('CALL returns what the procedure computes'), kind: 'rows' };
      case 'CopyStmt':
        return copy(body, q, names, catalog);
      case 'DeclareCursorStmt':
      case 'PrepareStmt':
      case 'CreateTableAsStmt':
      case 'ViewStmt':
        if (sink) q.query(body.query, undefined, undefined);
        return result('none', unknownShape(ANYTHING), q, false);
      default:
        // Statements that embed queries elsewhere (CREATE RULE actions, CREATE SCHEMA elements, …): for filters.
        if (sink) visitNestedQueries(body, q, 0);
        return result('none', unknownShape(ANYTHING), q, false);
    }
  }
  return unknownStatement('empty statement');
}

const queryNodes: ReadonlySet<string> = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

function visitNestedQueries(body: unknown, q: QueryLineage, depth: number): void {
  if (body === null || typeof body !== 'object' || depth > 1000) return;
  if (Array.isArray(body)) {
    for (const item of body) visitNestedQueries(item, q, depth + 1);
    return;
  }
  for (const key in body as Obj) {
    const v = (body as Obj)[key];
    if (queryNodes.has(key)) q.query({ [key]: v }, undefined, undefined);
    else visitNestedQueries(v, q, depth + 1);
  }
}

function result(kind: StatementLineage['kind'], shape: Shape, q: QueryLineage, dml: boolean): StatementLineage {
  return { kind, shape, relations: [...q.relations], dml, usesSession: false };
}

function unknownStatement(error: string, relations: readonly string[] = []): StatementLineage {
  return { kind: 'rows', shape: unknownShape(ANYTHING), relations, dml: false, usesSession: false, error };
}

function copy(body: Obj, q: QueryLineage, names: NameContext, catalog: LineageCatalog | undefined): StatementLineage {
  const toClient = body.is_from !== true && body.is_program !== true && typeof body.filename !== 'string';
  const options = new Map<string, string | boolean>();
  for (const item of Array.isArray(body.options) ? body.options : []) {
    const d = (item as Obj).DefElem as Obj | undefined;
    if (!d || typeof d.defname !== 'string') continue;
    options.set(d.defname.toLowerCase(), defValue(d.arg));
  }
  if (body.query !== undefined) {
    const shape = q.query(body.query, undefined, undefined);
    return { ...result(toClient ? 'copy' : 'none', shape, q, false), copy: { options } };
  }
  const rv = body.relation as Obj | undefined;
  const rels = rv ? resolveRangeVar(rv, names) : undefined;
  if (rels === undefined || rels.length !== 1) {
    for (const r of rels ?? []) q.relations.add(r);
    return { ...unknownStatement('COPY of a relation that cannot be named', rels ?? []), kind: toClient ? 'copy' : 'none', copy: { options } };
  }
  const rel = rels[0] as string;
  q.relations.add(rel);
  const attlist: string[] = [];
  for (const a of Array.isArray(body.attlist) ? body.attlist : []) {
    const s = stringValue(a);
    if (s !== undefined) attlist.push(s);
  }
  // The columns come from the catalog (attnum order, no dropped ones) unless listed; without a catalog their
  // number is unknown.
  const columns = attlist.length > 0 ? attlist : catalog?.columns?.(rel);
  const shape: Shape = columns
    ? { head: columns.map((c) => colOf(c, [`${rel}.${c}`], KNOWN, `${rel}.${c}`)) }
    : { head: [], rest: { each: colOf('?column?', [`${rel}.*`], KNOWN), tail: [] } };
  return { ...result(toClient ? 'copy' : 'none', shape, q, false), copy: { relation: rel, options } };
}

function defValue(arg: unknown): string | boolean {
  const a = arg as Obj | undefined;
  if (a === undefined) return true;
  const s = stringValue(a);
  if (s !== undefined) return s;
  const b = a.Boolean as Obj | undefined;
  if (b) return b.boolval === true;
  const i = a.Integer as Obj | undefined;
  if (i) return String(typeof i.ival === 'number' ? i.ival : 0);
  const f = a.Float as Obj | undefined;
  if (f && typeof f.fval === 'string') return f.fval;
  return true; // a list (FORCE_QUOTE (a, b)) or `*`
}

/** Names as they resolved when a stored query was declared. */
function storedNames(stored: StoredQuery): NameContext {
  return nameContext(new SessionTracker(stored.state), stored.state.lookupRelation);
}

/** The top-level statements applySession acts on. */
const storedQueryStatements = new Set(['PrepareStmt', 'DeallocateStmt', 'DeclareCursorStmt', 'ClosePortalStmt', 'DiscardStmt']);

/** Whether a top-level statement (a RawStmt's `stmt`) changes the session's prepared statements or cursors. */
export function changesStoredQueries(stmt: unknown): boolean {
  const type = stmt === null || typeof stmt !== 'object' ? undefined : Object.keys(stmt)[0];
  return type !== undefined && storedQueryStatements.has(type);
}

/** What a statement does to the session's prepared statements and cursors. */
function applySession(stmt: unknown, session: LineageSession, tracker: SessionTracker, state: PgTrackedState): LineageSession {
  const o = (stmt ?? {}) as Obj;
  const type = Object.keys(o)[0];
  const body = (type === undefined ? {} : o[type]) as Obj;
  switch (type) {
    case 'PrepareStmt':
      return { ...session, prepared: store(session.prepared, String(body.name ?? ''), { query: body.query, state: snapshot(tracker, state) }) };
    case 'DeallocateStmt':
      if (body.isall === true) return { ...session, prepared: new Map() };
      return { ...session, prepared: without(session.prepared, String(body.name ?? '')) };
    case 'DeclareCursorStmt':
      return { ...session, cursors: store(session.cursors, String(body.portalname ?? ''), { query: body.query, state: snapshot(tracker, state) }) };
    case 'ClosePortalStmt':
      if (typeof body.portalname !== 'string') return { ...session, cursors: new Map() };
      return { ...session, cursors: without(session.cursors, body.portalname) };
    case 'DiscardStmt':
      return body.target === 'DISCARD_ALL' ? emptyLineageSession : session;
    default:
      return session;
  }
}

function store(map: ReadonlyMap<string, StoredQuery>, name: string, q: StoredQuery): ReadonlyMap<string, StoredQuery> {
  const next = new Map(map);
  next.delete(name);
  next.set(name, q);
  while (next.size > maxStored) next.delete(next.keys().next().value as string);
  return next;
}

function without(map: ReadonlyMap<string, StoredQuery>, name: string): ReadonlyMap<string, StoredQuery> {
  if (!map.has(name)) return map;
  const next = new Map(map);
  next.delete(name);
  return next;
}

/** The name-resolution state at this point of the command, for a query resolved later (a cursor). */
function snapshot(tracker: SessionTracker, state: PgTrackedState): PgTrackedState {
  const candidates = pathCandidates(tracker.path);
  const single = typeof candidates !== 'string' && candidates.length === 1 ? candidates[0] : undefined;
  const temp = new Set([...(state.tempRelations ?? []), ...tracker.createdTemp]);
  const user = tracker.effectiveUser();
  const out: PgTrackedState = {
    searchPath: single ?? state.searchPath,
    prepared: new Map(),
    ...(temp.size > 0 ? { tempRelations: temp } : {}),
    ...(typeof user === 'string' ? { user } : {}),
    ...(state.lookupRelation === undefined ? {} : { lookupRelation: state.lookupRelation }),
  };
  // Several candidate paths (a set_config that may not have run) cannot be stored: names then stay unresolved.
  return single !== undefined ? out : { ...out, searchPathUnknown: typeof candidates === 'string' ? candidates : 'the search_path is one of several' };
}

