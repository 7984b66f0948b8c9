// Walks libpg-query parse trees and turns each top-level statement into parts (kind, relation) — see the design
// notes at the top of analyse.ts. The tree is plain JSON: a node is `{TypeName: {fields}}`; a few fields hold a node
// body without its wrapper (InsertStmt.relation is a bare RangeVar, SelectStmt.larg a bare SelectStmt). Every field
// not handled explicitly is walked generically, so a relation or call in a place this file does not know about still
// becomes a `select` part or a function — unknown shapes add parts, they never hide them.
import type { SqlFunctionRef, SqlPart } from '../command.ts';
import { makePart, PartList } from './part-list.ts';
import { runsDynamicSql } from './dynamic-sql-functions.ts';
import { NameResolver } from './name-resolver.ts';
import type { RelationLookup } from './name-resolver.ts';
import { parseSearchPathText } from './search-path.ts';
import { pathCandidates } from './session-tracker.ts';
import type { RoleValue, SearchPathValue, SessionTracker } from './session-tracker.ts';
import { fixedKinds, objectKind, relationObjectTypes, tableChildObjectTypes } from './statement-kinds.ts';
import { Unanalysable } from './unanalysable.ts';
import { constBool, constText, explainAnalyses, listStrings, str, stringNode } from './tree-values.ts';
import { boundsTarget } from './unbounded-write.ts';

type Obj = Record<string, unknown>;


/** CTE names visible at a point of the tree; `visible` grows while a non-recursive WITH list is walked. */
interface CteScope {
  readonly names: string[];
  visible: number;
  readonly parent: CteScope | undefined;
}

function cteVisible(scope: CteScope | undefined, name: string): boolean {
  for (let s = scope; s !== undefined; s = s.parent) {
    for (let i = 0; i < s.visible; i++) if (s.names[i] === name) return true;
  }
  return false;
}

/** What a top-level statement turned into. */
export interface StatementResult {
  readonly parts: PartList;
  readonly functions: SqlFunctionRef[];
  readonly dynamicSqlFunctions: SqlFunctionRef[];
}

const leafNodes: ReadonlySet<string> = new Set([
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'A_Const',
  'A_Star',
  'ColumnRef',
  'ParamRef',
  'SQLValueFunction',
  'SetToDefault',
  'RoleSpec',
  'TypeName',
]);

/** Names of the settings whose change would make the proxy's parser and the server read bytes differently. */
const forbiddenSettings: ReadonlySet<string> = new Set(['client_encoding', 'standard_conforming_strings']);

export class StatementWalker {
  private readonly session: SessionTracker;
  private readonly maxDepth: number;
  private readonly names: NameResolver;
  private depth = 0;

  // Per top-level statement.
  private functions: SqlFunctionRef[] = [];
  private dynamic: SqlFunctionRef[] = [];
  /** set_config calls take effect once their statement has run. */
  private pending: Array<() => void> = [];
  private statementIndex = 0;

  /** Set when a statement must be denied whatever the policy. */
  forbidden: string | undefined;

  constructor(
    session: SessionTracker,
    maxDepth: number,
    lookup: RelationLookup | undefined,
  ) {
    this.session = session;
    this.maxDepth = maxDepth;
    this.names = new NameResolver(session, lookup);
  }

  /** Analyses one top-level statement (the `stmt` of a RawStmt) and applies its effects to the session. */
  statement(stmt: unknown, index: number): StatementResult {
    this.functions = [];
    this.dynamic = [];
    if (this.pending.length > 0) this.pending = [];
    this.statementIndex = index;
    this.depth = 0;
    const parts = new PartList();
    const kind = this.unit(stmt, parts, undefined);
    // A statement always shows its own kind: `CALL p((SELECT x FROM t))` is (call) + (select, t), never just a read.
    if (!parts.kinds.includes(kind)) parts.add(kind);
    // set_config(…) takes effect once the statement has run: later statements see it.
    for (const apply of this.pending) apply();
    return { parts, functions: this.functions, dynamicSqlFunctions: this.dynamic };
  }

  /** Walks a wrapped statement node into `parts`; returns the kind its relationless part would have. */
  private unit(stmt: unknown, parts: PartList, scope: CteScope | undefined): string {
    if (stmt === null || typeof stmt !== 'object') throw new Unanalysable('empty statement node');
    for (const type in stmt as Obj) {
      return this.node(type, (stmt as Obj)[type], parts, scope);
    }
    throw new Unanalysable('empty statement node');
  }

  /** A statement embedded in another (EXPLAIN, PREPARE, COPY, DECLARE): its own parts, never empty. */
  private embedded(stmt: unknown, scope: CteScope | undefined): PartList {
    const inner = new PartList();
    const kind = this.unit(stmt, inner, scope);
    if (!inner.kinds.includes(kind)) inner.add(kind);
    return inner;
  }

  // ---- generic traversal -------------------------------------------------------------------------------------

  private value(v: unknown, parts: PartList, scope: CteScope | undefined): void {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const item of v) this.value(item, parts, scope);
      return;
    }
    const o = v as Obj;
    if (typeof o.relname === 'string') {
      this.readRangeVar(o, parts, scope); // a bare RangeVar in a field this walker does not special-case
      return;
    }
    for (const key in o) this.field(key, o[key], parts, scope);
  }

  private field(key: string, v: unknown, parts: PartList, scope: CteScope | undefined): void {
    const c = key.charCodeAt(0);
    if (c >= 65 && c <= 90) {
      this.node(key, v, parts, scope);
      return;
    }
    switch (key) {
      case 'larg':
      case 'rarg':
        if (v !== undefined) this.node('SelectStmt', v, parts, scope);
        return;
      case 'funccall':
        if (v !== undefined) this.node('FuncCall', v, parts, scope);
        return;
      case 'withClause':
        // Only reached under a node this walker does not scope itself: walk the CTE bodies, and treat references to
        // the CTE names as relations (more parts, never fewer).
        this.value((v as Obj | undefined)?.ctes, parts, scope);
        return;
      default:
        this.value(v, parts, scope);
    }
  }

  private fieldsExcept(body: Obj, parts: PartList, scope: CteScope | undefined, skipA: string, skipB = '', skipC = ''): void {
    for (const key in body) {
      if (key === skipA || key === skipB || key === skipC) continue;
      this.field(key, body[key], parts, scope);
    }
  }

  /** Dispatch on a node type. Returns the statement kind for statement nodes (ignored for expressions). */
  private node(type: string, raw: unknown, parts: PartList, scope: CteScope | undefined): string {
    if (leafNodes.has(type)) return 'other';
    if (raw === null || typeof raw !== 'object') return 'other';
    const body = raw as Obj;
    if (++this.depth > this.maxDepth) {
      throw new Unanalysable(`the statement is nested deeper than the limit of ${this.maxDepth}`);
    }
    try {
      return this.dispatch(type, body, parts, scope);
    } finally {
      this.depth--;
    }
  }

  private dispatch(type: string, body: Obj, parts: PartList, scope: CteScope | undefined): string {
    switch (type) {
      case 'RangeVar':
        this.readRangeVar(body, parts, scope);
        return 'select';
      case 'FuncCall':
        this.funcCall(body, parts, scope);
        return 'select';
      case 'SelectStmt':
        return this.select(body, parts, scope);
      case 'InsertStmt':
        return this.insert(body, parts, scope);
      case 'UpdateStmt':
        return this.updateOrDelete('update', body, parts, scope);
      case 'DeleteStmt':
        return this.updateOrDelete('delete', body, parts, scope);
      case 'MergeStmt':
        return this.merge(body, parts, scope);
      case 'LockingClause':
        return 'select'; // FOR UPDATE OF <from-item names>: names, not relations
      case 'ExplainStmt':
        return this.explain(body, parts, scope);
      case 'CopyStmt':
        return this.copy(body, parts, scope);
      case 'PrepareStmt':
        return this.prepare(body, parts, scope);
      case 'ExecuteStmt':
        return this.execute(body, parts, scope);
      case 'DeallocateStmt':
        this.session.deallocate(body.isall === true ? undefined : str(body.name));
        return 'deallocate';
      case 'DeclareCursorStmt': {
        // DECLARE has the parts of its query (the contract has no `declare` kind).
        const inner = this.embedded(body.query, scope);
        parts.addAll(inner);
        return inner.kinds[0] ?? 'select';
      }
      case 'VariableSetStmt':
        return this.variableSet(body, parts);
      case 'TransactionStmt':
        this.session.transaction(str(body.kind) ?? '', str(body.savepoint_name), body.chain === true);
        return 'transaction';
      case 'DiscardStmt':
        if (body.target === 'DISCARD_ALL') {
          this.session.discardAll();
          this.session.deallocate(undefined);
          this.session.discardTemp();
        } else if (body.target === 'DISCARD_TEMP') {
          this.session.discardTemp();
        }
        return 'discard';
      case 'DoStmt':
        return 'do'; // the body is opaque: the policy decides on `do` itself
      case 'CallStmt':
        this.fieldsExcept(body, parts, scope, '');
        return 'call';
      case 'CreateFunctionStmt':
        // The body (PL/pgSQL text, or a BEGIN ATOMIC block that only runs later) is opaque. Creating code that runs
        // later is also a `do`, so a policy that denies `do` denies it.
        parts.add('do');
        return body.is_procedure === true ? 'create_procedure' : 'create_function';
      case 'AlterFunctionStmt':
        return objectKind('alter', body.objtype);
      case 'CreateStmt':
        return this.createTable('create_table', body, parts, scope);
      case 'CreateForeignTableStmt':
        return this.createTable('create_foreign_table', (body.base as Obj | undefined) ?? {}, parts, scope);
      case 'CreateTableAsStmt':
        return this.createTableAs(body, parts, scope);
      case 'ViewStmt': {
        const view = body.view as Obj | undefined;
        if (view) for (const r of this.names.createdRelations(view, true)) parts.add('create_view', r);
        this.fieldsExcept(body, parts, scope, 'view');
        return 'create_view';
      }
      case 'CreateSeqStmt':
        this.addCreated('create_sequence', body.sequence, true, parts);
        this.fieldsExcept(body, parts, scope, 'sequence');
        return 'create_sequence';
      case 'AlterSeqStmt':
        return this.onRelation('alter_sequence', body, 'sequence', parts, scope);
      case 'IndexStmt':
        return this.createIndex(body, parts, scope);
      case 'AlterTableStmt':
        return this.onRelation(objectKind('alter', body.objtype), body, 'relation', parts, scope);
      case 'RenameStmt':
        return this.rename(body, parts, scope);
      case 'AlterObjectSchemaStmt':
      case 'AlterOwnerStmt':
      case 'AlterObjectDependsStmt':
        return this.alterObject(objectKind('alter', body.objectType), body, parts, scope);
      case 'DropStmt':
        return this.drop(body, parts);
      case 'TruncateStmt':
        return this.relationsList('truncate', body.relations, parts);
      case 'LockStmt':
        return this.relationsList('lock', body.relations, parts);
      case 'VacuumStmt':
        return this.vacuum(body, parts, scope);
      case 'ClusterStmt':
        return this.onRelation('cluster', body, 'relation', parts, scope);
      case 'ReindexStmt':
        return this.onRelation('reindex', body, 'relation', parts, scope);
      case 'RefreshMatViewStmt':
        return this.onRelation('refresh_materialized_view', body, 'relation', parts, scope);
      case 'CreateTrigStmt':
        return this.onRelation('create_trigger', body, 'relation', parts, scope);
      case 'CreatePolicyStmt':
        return this.onRelation('create_policy', body, 'table', parts, scope);
      case 'AlterPolicyStmt':
        return this.onRelation('alter_policy', body, 'table', parts, scope);
      case 'RuleStmt':
        // The rule's actions are statements; their parts count (a rule is how a table gets rewritten).
        return this.onRelation('create_rule', body, 'relation', parts, scope);
      case 'GrantStmt':
        return this.grant(body, parts);
      case 'GrantRoleStmt':
        return body.is_grant === true ? 'grant' : 'revoke';
      case 'AlterDefaultPrivilegesStmt':
        return 'alter_default_privileges';
      // Settings stored for later sessions or the server: not a change of this session's search_path.
      case 'AlterSystemStmt':
        return 'alter_system';
      case 'AlterRoleSetStmt':
        return 'alter_role';
      case 'AlterDatabaseSetStmt':
        return 'alter_database';
      case 'CreateSchemaStmt':
        return this.createSchema(body, parts, scope);
      case 'CommentStmt':
        return this.comment(body, parts);
      case 'CompositeTypeStmt':
        // CREATE TYPE t AS (…): `typevar` names the type being created, not a relation read.
        this.fieldsExcept(body, parts, scope, 'typevar');
        return 'create_type';
      case 'DefineStmt':
        this.fieldsExcept(body, parts, scope, 'defnames', 'definition');
        return objectKind('create', body.kind);
      default: {
        const fixed = fixedKinds[type];
        if (fixed !== undefined) {
          this.value(body, parts, scope);
          return fixed;
        }
        if (type.endsWith('Stmt')) {
          this.value(body, parts, scope);
          return 'other';
        }
        // An expression node: walk its children.
        for (const key in body) this.field(key, body[key], parts, scope);
        return 'select';
      }
    }
  }

  // ---- queries and DML ---------------------------------------------------------------------------------------

  private withScope(withClause: unknown, parts: PartList, scope: CteScope | undefined): CteScope | undefined {
    if (withClause === undefined || withClause === null) return scope;
    const w = withClause as Obj;
    const ctes = Array.isArray(w.ctes) ? w.ctes : [];
    const names: string[] = [];
    for (const c of ctes) names.push(str((c as Obj).CommonTableExpr && ((c as Obj).CommonTableExpr as Obj).ctename) ?? '');
    const recursive = w.recursive === true;
    const inner: CteScope = { names, visible: recursive ? names.length : 0, parent: scope };
    for (let i = 0; i < ctes.length; i++) {
      const cte = (ctes[i] as Obj).CommonTableExpr as Obj | undefined;
      if (!recursive) inner.visible = i; // a CTE sees the ones before it, not itself
      if (cte) this.value(cte.ctequery, parts, inner);
    }
    inner.visible = names.length;
    return inner;
  }

  private select(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const inner = this.withScope(body.withClause, parts, scope);
    const into = body.intoClause as Obj | undefined;
    if (into) this.createdFromInto('create_table', into, parts);
    this.fieldsExcept(body, parts, inner, 'withClause', 'intoClause');
    return 'select';
  }

  private insert(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const inner = this.withScope(body.withClause, parts, scope);
    const rel = body.relation as Obj | undefined;
    this.targetParts('insert', rel, parts, false);
    const conflict = body.onConflictClause as Obj | undefined;
    // DO UPDATE touches only the conflicting row: an update part, never unbounded.
    if (conflict?.action === 'ONCONFLICT_UPDATE') this.targetParts('update', rel, parts, false);
    this.fieldsExcept(body, parts, inner, 'withClause', 'relation');
    return 'insert';
  }

  private updateOrDelete(kind: 'update' | 'delete', body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const inner = this.withScope(body.withClause, parts, scope);
    const rel = body.relation as Obj | undefined;
    // Walk first: the walk enforces the depth limit, so the WHERE scan below runs on a tree of bounded depth.
    this.fieldsExcept(body, parts, inner, 'withClause', 'relation');
    const others = kind === 'update' ? body.fromClause : body.usingClause;
    const bounded = boundsTarget(body.whereClause, rel ?? {}, Array.isArray(others) && others.length > 0);
    this.targetParts(kind, rel, parts, !bounded);
    return kind;
  }

  private merge(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const inner = this.withScope(body.withClause, parts, scope);
    this.targetParts('merge', body.relation as Obj | undefined, parts, false);
    this.fieldsExcept(body, parts, inner, 'withClause', 'relation');
    return 'merge';
  }

  private funcCall(body: Obj, parts: PartList, scope: CteScope | undefined): void {
    const names = body.funcname;
    if (Array.isArray(names) && names.length > 0) {
      const name = stringNode(names[names.length - 1]) ?? '';
      const schema = names.length > 1 ? stringNode(names[names.length - 2]) : undefined;
      this.addFunction(schema, name);
      if (name === 'set_config' && (schema === undefined || schema === 'pg_catalog')) this.setConfig(body, parts);
    }
    this.fieldsExcept(body, parts, scope, 'funcname');
  }

  private addFunction(schema: string | undefined, name: string): void {
    for (const f of this.functions) if (f.name === name && f.schema === schema) return;
    const ref: SqlFunctionRef = schema === undefined ? { name } : { schema, name };
    this.functions.push(ref);
    if (runsDynamicSql(ref)) this.dynamic.push(ref);
  }

  // ---- EXPLAIN, COPY, PREPARE, EXECUTE -----------------------------------------------------------------------

  private explain(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const inner = this.embedded(body.query, scope);
    const rels = inner.relationList();
    if (rels.length === 0) parts.add('explain');
    for (const r of rels) parts.add('explain', r);
    if (explainAnalyses(body.options)) parts.addAll(inner);
    return 'explain';
  }

  private copy(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const kind =
      body.is_program === true
        ? 'copy_program'
        : typeof body.filename === 'string'
          ? 'copy_file'
          : body.is_from === true
            ? 'copy_from'
            : 'copy_to';
    const rel = body.relation as Obj | undefined;
    if (rel) this.addRelationParts(kind, rel, parts);
    if (body.query !== undefined) {
      // COPY (query) TO: a copy part for each relation the query reads, plus the query's own parts.
      const inner = this.embedded(body.query, scope);
      const rels = inner.relationList();
      if (rels.length === 0) parts.add(kind);
      for (const r of rels) parts.add(kind, r);
      parts.addAll(inner);
    }
    if (!rel && body.query === undefined) parts.add(kind);
    this.fieldsExcept(body, parts, scope, 'relation', 'query', 'options');
    return kind;
  }

  private prepare(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const fnBefore = this.functions.length;
    const inner = this.embedded(body.query, scope);
    parts.add('prepare');
    parts.addAll(inner);
    const name = str(body.name) ?? '';
    const functions = this.functions.slice(fnBefore);
    const dynamic = functions.filter(runsDynamicSql);
    const stored: SqlPart[] = [];
    for (let i = 0; i < inner.size; i++) {
      stored.push(
        makePart(inner.kinds[i] as string, inner.relations[i], inner.unbounded[i] === true, functions, dynamic, this.statementIndex),
      );
    }
    this.session.prepare(name, stored);
    return 'prepare';
  }

  private execute(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const name = str(body.name) ?? '';
    const stored = this.session.prepared(name);
    if (stored === undefined) throw new Unanalysable(`EXECUTE of unknown prepared statement "${name}"`);
    parts.add('execute');
    for (const p of stored) {
      parts.add(p.kind, p.relation, p.unboundedWrite);
      for (const f of p.functions) this.addFunction(f.schema, f.name);
    }
    this.value(body.params, parts, scope);
    return 'execute';
  }

  // ---- settings ----------------------------------------------------------------------------------------------

  private variableSet(body: Obj, parts: PartList): string {
    const kind = str(body.kind);
    if (kind === 'VAR_RESET_ALL') {
      this.session.resetAll();
      return 'set_role';
    }
    const name = (str(body.name) ?? '').toLowerCase(); // GUC names compare case-insensitively
    if (forbiddenSettings.has(name)) {
      this.forbidden ??= `changing ${name} is not allowed: the proxy and the server must read statements the same way`;
    }
    if (name === 'search_path') this.setSearchPath(kind, body);
    else if (name === 'role' || name === 'session_authorization') this.setRole(name, kind, body);
    this.value(body.args, parts, undefined);
    return name === 'role' || name === 'session_authorization' ? 'set_role' : 'set';
  }

  private setSearchPath(kind: string | undefined, body: Obj): void {
    const local = body.is_local === true;
    if (kind === 'VAR_SET_DEFAULT' || kind === 'VAR_RESET') {
      this.session.resetSearchPath(local);
      return;
    }
    if (kind === 'VAR_SET_CURRENT') return;
    if (kind !== 'VAR_SET_VALUE') {
      this.session.setPath({ unknown: 'search_path was set in a form the analyser does not know' }, local);
      return;
    }
    // Each argument is one schema name as written: PostgreSQL quotes it back (GUC_LIST_QUOTE), so 'a, b' is a
    // single schema called "a, b", and unquoted identifiers arrive already folded.
    const schemas: string[] = [];
    const args = Array.isArray(body.args) ? body.args : [];
    for (const a of args) {
      const v = constText(a);
      if (v === undefined) {
        this.session.setPath({ unknown: 'search_path was set to a value the analyser cannot read' }, local);
        return;
      }
      schemas.push(v);
    }
    this.session.setPath(schemas, local);
  }

  /** SET [LOCAL] ROLE / SESSION AUTHORIZATION: they change what "$user" in the search_path means. */
  private setRole(name: 'role' | 'session_authorization', kind: string | undefined, body: Obj): void {
    const local = body.is_local === true;
    const setting = name === 'role' ? 'role' : 'auth';
    if (kind === 'VAR_RESET' || kind === 'VAR_SET_DEFAULT') {
      this.session.set(setting, null, local);
      return;
    }
    const args = Array.isArray(body.args) ? body.args : [];
    const value = args.length === 1 ? constText(args[0]) : undefined;
    this.session.set(setting, roleValue(value), local);
    if (setting === 'auth') this.session.set('role', null, local); // a new session user starts without SET ROLE
  }

  /** set_config(name, value, is_local): a `set` part; a search_path change applies after the statement. */
  private setConfig(body: Obj, parts: PartList): void {
    parts.add('set');
    const args = Array.isArray(body.args) ? body.args : [];
    const setting = constText(args[0]);
    const session = this.session;
    if (setting === undefined) {
      this.forbidden ??= 'set_config with a computed setting name could change client_encoding or standard_conforming_strings';
      const unknown = { unknown: 'set_config with a computed setting name' };
      this.pending.push(() => {
        session.setPath(unknown, false);
        session.set('role', unknown, false);
      });
      return;
    }
    const name = setting.toLowerCase();
    if (forbiddenSettings.has(name)) {
      this.forbidden ??= `changing ${name} is not allowed: the proxy and the server must read statements the same way`;
    }
    const value = constText(args[1]);
    const local = constBool(args[2]);
    if (name === 'search_path') {
      // Even a literal call may not run (WHERE false, CASE, a view or DEFAULT that runs later): later names resolve
      // under the old and the new path alike.
      const schemas = value === undefined ? undefined : parseSearchPathText(value);
      this.pending.push(() => {
        const before = pathCandidates(session.path);
        const after: SearchPathValue =
          schemas === undefined || local === undefined || typeof before === 'string'
            ? { unknown: 'search_path was set by set_config to a value the analyser cannot read' }
            : { either: [...before, schemas] };
        session.setPath(after, local ?? false);
      });
    } else if (name === 'role' || name === 'session_authorization') {
      // The call may not run: "$user" is then either user; without a way to say both, it is unknown.
      const role = { unknown: 'the role was changed by set_config' };
      this.pending.push(() => session.set(name === 'role' ? 'role' : 'auth', role, local ?? false));
    }
  }

  // ---- DDL ---------------------------------------------------------------------------------------------------

  private createTable(kind: string, body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const rel = body.relation as Obj | undefined;
    // ON COMMIT DROP tables vanish at commit: never remembered as temporary relations.
    this.addCreated(kind, rel, body.oncommit !== 'ONCOMMIT_DROP', parts);
    // Parents (INHERITS, PARTITION OF), LIKE sources and REFERENCES targets become `select` parts.
    this.fieldsExcept(body, parts, scope, 'relation');
    return kind;
  }

  private createTableAs(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const kind = body.objtype === 'OBJECT_MATVIEW' ? 'create_materialized_view' : 'create_table';
    const into = body.into as Obj | undefined;
    if (into) this.createdFromInto(kind, into, parts);
    this.fieldsExcept(body, parts, scope, 'into');
    return kind;
  }

  private createdFromInto(kind: string, into: Obj, parts: PartList): void {
    this.addCreated(kind, into.rel, into.onCommit !== 'ONCOMMIT_DROP', parts);
  }

  private addCreated(kind: string, rv: unknown, rememberTemp: boolean, parts: PartList): void {
    if (rv === undefined || rv === null || typeof rv !== 'object') {
      parts.add(kind);
      return;
    }
    for (const r of this.names.createdRelations(rv as Obj, rememberTemp)) parts.add(kind, r);
  }

  private createIndex(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    // Two parts: the table the index is built on and, when named, the index itself (same schema as the table).
    const rel = body.relation as Obj | undefined;
    const idx = str(body.idxname);
    for (const table of rel ? this.names.relations(rel) : []) {
      parts.add('create_index', table);
      if (idx !== undefined) parts.add('create_index', `${schemaOf(table)}.${idx}`);
    }
    this.fieldsExcept(body, parts, scope, 'relation');
    return 'create_index';
  }

  private onRelation(kind: string, body: Obj, field: string, parts: PartList, scope: CteScope | undefined): string {
    const rel = body[field] as Obj | undefined;
    if (rel) this.addRelationParts(kind, rel, parts);
    this.fieldsExcept(body, parts, scope, field);
    return kind;
  }

  private rename(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const renameType = str(body.renameType);
    // Renaming a column or constraint alters its table (relationType); a trigger, policy or rule alters itself.
    const objType =
      renameType === 'OBJECT_COLUMN' || renameType === 'OBJECT_TABCONSTRAINT' || renameType === 'OBJECT_ATTRIBUTE'
        ? body.relationType
        : renameType;
    return this.alterObject(objectKind('alter', objType), body, parts, scope);
  }

  private alterObject(kind: string, body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const rel = body.relation as Obj | undefined;
    if (rel) this.addRelationParts(kind, rel, parts);
    else if (tableChildObjectTypes.has(str(body.objectType) ?? '')) {
      // ALTER … ON tbl DEPENDS ON EXTENSION: the object is [table…, name].
      const names = listStrings(body.object);
      if (names && names.length > 1) for (const r of this.names.namedRelations(names.slice(0, -1))) parts.add(kind, r);
    }
    this.fieldsExcept(body, parts, scope, 'relation', 'object');
    return kind;
  }

  private drop(body: Obj, parts: PartList): string {
    const removeType = str(body.removeType) ?? '';
    const kind = objectKind('drop', removeType);
    const objects = Array.isArray(body.objects) ? body.objects : [];
    const isRelation = relationObjectTypes.has(removeType);
    const isChild = tableChildObjectTypes.has(removeType);
    for (const o of objects) {
      const names = listStrings(o);
      if (names === undefined || names.length === 0 || !(isRelation || isChild)) continue;
      const relNames = isChild ? names.slice(0, -1) : names;
      if (relNames.length === 0) continue;
      const rels = this.names.namedRelations(relNames);
      for (const r of rels) parts.add(kind, r);
      // Only a drop that certainly hits the temporary relation forgets it.
      const only = rels.length === 1 ? rels[0] : undefined;
      if (isRelation && only !== undefined && only.startsWith('pg_temp.')) this.session.droppedTempRelation(only.slice(8));
    }
    return kind;
  }

  /** COMMENT ON a relation, or on a column / trigger / policy / rule of one, carries that relation. */
  private comment(body: Obj, parts: PartList): string {
    const objType = str(body.objtype) ?? '';
    const names = listStrings(body.object);
    if (names !== undefined && names.length > 0) {
      let rels: string[] = [];
      if (relationObjectTypes.has(objType)) rels = this.names.namedRelations(names);
      else if ((objType === 'OBJECT_COLUMN' || tableChildObjectTypes.has(objType)) && names.length > 1) {
        rels = this.names.namedRelations(names.slice(0, -1));
      }
      for (const r of rels) parts.add('comment', r);
    }
    return 'comment';
  }

  private relationsList(kind: string, list: unknown, parts: PartList): string {
    if (Array.isArray(list)) {
      for (const item of list) {
        const rv = (item as Obj).RangeVar as Obj | undefined;
        if (rv) this.addRelationParts(kind, rv, parts);
      }
    }
    return kind;
  }

  private vacuum(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const kind = body.is_vacuumcmd === true ? 'vacuum' : 'analyze';
    const rels = Array.isArray(body.rels) ? body.rels : [];
    for (const r of rels) {
      const vr = (r as Obj).VacuumRelation as Obj | undefined;
      const rv = vr?.relation as Obj | undefined;
      if (rv) this.addRelationParts(kind, rv, parts);
    }
    void scope;
    return kind;
  }

  private grant(body: Obj, parts: PartList): string {
    const kind = body.is_grant === true ? 'grant' : 'revoke';
    // GRANT … ON TABLE/SEQUENCE names relations; ON ALL TABLES IN SCHEMA and other objects have none.
    if (body.targtype === 'ACL_TARGET_OBJECT' && (body.objtype === 'OBJECT_TABLE' || body.objtype === 'OBJECT_SEQUENCE')) {
      this.relationsList(kind, body.objects, parts);
    }
    return kind;
  }

  private createSchema(body: Obj, parts: PartList, scope: CteScope | undefined): string {
    const role = body.authrole as Obj | undefined;
    const name = str(body.schemaname) ?? str(role?.rolename);
    parts.add('create_schema');
    const elements = body.schemaElts;
    if (Array.isArray(elements) && elements.length > 0) {
      // PostgreSQL runs the elements with the new schema in front of the search_path.
      const saved = this.names.schemaOverride;
      this.names.schemaOverride = name;
      try {
        for (const e of elements) this.unit(e, parts, scope);
      } finally {
        this.names.schemaOverride = saved;
      }
    }
    return 'create_schema';
  }

  // ---- relation names ----------------------------------------------------------------------------------------

  private readRangeVar(rv: Obj, parts: PartList, scope: CteScope | undefined): void {
    const relname = str(rv.relname) ?? '';
    if (rv.schemaname === undefined && cteVisible(scope, relname)) return; // a CTE, not a relation
    this.addRelationParts('select', rv, parts);
  }

  private addRelationParts(kind: string, rv: Obj, parts: PartList, unbounded = false): void {
    for (const r of this.names.relations(rv)) parts.add(kind, r, unbounded);
  }

  /** The relation a DML statement writes (never a CTE, even when a CTE of that name is visible). */
  private targetParts(kind: string, rv: Obj | undefined, parts: PartList, unbounded: boolean): void {
    if (rv === undefined) parts.add(kind, undefined, unbounded);
    else this.addRelationParts(kind, rv, parts, unbounded);
  }

}

function schemaOf(qualified: string): string {
  const dot = qualified.indexOf('.');
  return dot < 0 ? '' : qualified.slice(0, dot);
}

/** The value of SET ROLE / set_config('role', …): 'none' means no role; a value that cannot be read is unknown. */
function roleValue(text: string | undefined): RoleValue {
  if (text === undefined) return { unknown: 'the role was set to a value the analyser cannot read' };
  return text === 'none' ? null : text;
}

