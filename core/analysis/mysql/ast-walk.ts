// Turns node-sql-parser's MySQL AST into parts. Statement nodes (select, insert, replace, update, delete, create,
// alter, load_data, call, set, use, lock) are read by their known shape; everything else is walked generically, so
// a function call or sub-query anywhere — in a shape this file does not know — is still found. A FROM item or
// statement this file cannot place is an error, never silently skipped.
import { fail } from './failure.ts';
import { isNode, type AstNode } from './parse.ts';
import { relationName, type StatementParts } from './statement-parts.ts';

/** A base table named in a FROM, UPDATE or DELETE list. */
interface TableRef {
  /** `db.table`; undefined when the name is a CTE of an enclosing WITH. */
  readonly relation: string | undefined;
  /** The name a column qualifier uses for it: the alias, else the table name. */
  readonly exposedName: string;
  /** Names that a qualifier can use: the alias or else the table name, and db.table. */
  readonly names: readonly string[];
}

const nestedStatementTypes: ReadonlySet<string> = new Set(['select', 'insert', 'replace', 'update', 'delete']);
/** Unquoted pseudo-functions the parser reports as calls: EXISTS (…), x = ANY (…). */
const notFunctions: ReadonlySet<string> = new Set(['exists', 'any', 'all', 'some']);

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Identifiers come either as strings or as `{type: 'backticks_quote_string' | 'default', value}`. */
function identifier(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isNode(value) && typeof value.value === 'string') return value.value;
  return undefined;
}

function isBinaryExpression(value: unknown): value is AstNode {
  return isNode(value) && value.type === 'binary_expr' && !isNode(value.ast);
}

function list(value: unknown): readonly unknown[] {
  if (value == null) return [];
  return Array.isArray(value) ? value : [value];
}

export class AstWalker {
  private readonly parts: StatementParts;
  private readonly database: string | undefined;
  private readonly maxDepth: number;
  /** CTE names in scope, innermost last. */
  private readonly cteScopes: Set<string>[] = [];
  /** Every CTE name seen (the parser's own table list reports them as tables). */
  readonly cteNames = new Set<string>();
  /** Statements (sub-queries, CTEs, derived tables) currently open. */
  private statementDepth = 0;

  constructor(parts: StatementParts, database: string | undefined, maxDepth: number) {
    this.parts = parts;
    this.database = database;
    this.maxDepth = maxDepth;
  }

  /** A top-level statement from the parser. */
  topLevel(node: AstNode): void {
    const type = str(node.type);
    switch (type) {
      case 'select':
      case 'insert':
      case 'replace':
      case 'update':
      case 'delete':
        this.statement(node, 0);
        // A statement that touches no relation (SELECT 1, SELECT now()) is one part without a relation.
        if (this.parts.drafts.length === 0) this.parts.add(type === 'replace' ? 'insert' : type);
        return;
      case 'create':
        this.create(node);
        return;
      case 'alter':
        this.alterTable(node);
        return;
      case 'load_data':
        this.loadData(node);
        return;
      case 'call':
        this.parts.add('call');
        this.expression(node.expr, 0);
        return;
      case 'set':
        // Variable names were checked on the tokens (see set-statement.ts); the values may call functions.
        this.parts.add('set');
        this.expression(node.expr, 0);
        return;
      default:
        fail(`unsupported statement type ${type ?? '(none)'}`);
    }
  }

  /** select / insert / replace / update / delete, at any nesting level. */
  private statement(node: AstNode, depth: number): void {
    if (++this.statementDepth > this.maxDepth) fail(`statements nested deeper than ${this.maxDepth}`);
    const pushed = this.enterWith(node.with, depth);
    switch (node.type) {
      case 'select':
        this.select(node, depth);
        break;
      case 'insert':
      case 'replace':
        this.insert(node, depth);
        break;
      case 'update':
        this.update(node, depth);
        break;
      case 'delete':
        this.delete(node, depth);
        break;
      default:
        fail(`unsupported nested statement type ${String(node.type)}`);
    }
    if (pushed) this.cteScopes.pop();
    this.statementDepth--;
  }

  /**
   * Walks the CTE bodies and brings their names into scope. A CTE sees the CTEs before it, and itself when the WITH
   * is RECURSIVE; anything else of the same name is a table (reported as one, the conservative reading).
   */
  private enterWith(withList: unknown, depth: number): boolean {
    const ctes = list(withList);
    if (ctes.length === 0) return false;
    const scope = new Set<string>();
    this.cteScopes.push(scope);
    const recursive = ctes.some((c) => isNode(c) && c.recursive === true);
    for (const cte of ctes) {
      if (!isNode(cte)) fail('unexpected WITH item');
      const name = identifier(isNode(cte.name) ? cte.name.value : cte.name);
      if (name === undefined) fail('WITH item without a name');
      this.cteNames.add(name);
      if (recursive) scope.add(name);
      const body = isNode(cte.stmt) && isNode(cte.stmt.ast) ? cte.stmt.ast : cte.stmt;
      if (!isNode(body)) fail(`WITH item ${name} without a query`);
      this.statement(body, depth + 1);
      scope.add(name);
    }
    return true;
  }

  private isCte(db: string | undefined, table: string): boolean {
    if (db !== undefined && db !== '') return false;
    for (const scope of this.cteScopes) if (scope.has(table)) return true;
    return false;
  }

  private tableRef(item: AstNode): TableRef {
    const table = str(item.table);
    if (table === undefined) fail('table reference without a name');
    const db = str(item.db) ?? undefined;
    const alias = identifier(item.as);
    const relation = this.isCte(db, table) ? undefined : relationName(db, table, this.database);
    // Once a table has an alias, qualifiers must use the alias (MySQL rejects the table name then).
    const exposedName = alias ?? table;
    return { relation, exposedName, names: relation === undefined ? [exposedName] : [exposedName, relation] };
  }

  /** Base tables of a FROM / UPDATE / DELETE list; sub-queries and ON conditions are walked on the way. */
  private fromItems(items: unknown, depth: number, out: TableRef[]): void {
    for (const item of list(items)) {
      if (!isNode(item)) fail('unexpected FROM item');
      if (item.type === 'dual') continue;
      if (typeof item.table === 'string') {
        out.push(this.tableRef(item));
      } else if (Array.isArray(item.expr)) {
        this.fromItems(item.expr, depth + 1, out); // parenthesised join: (t2 JOIN t3 ON …)
      } else if (isNode(item.expr) && isNode(item.expr.ast)) {
        this.statement(item.expr.ast, depth + 1); // derived table
      } else {
        fail('unsupported FROM item');
      }
      this.expression(item.on, depth + 1);
    }
  }

  private select(node: AstNode, depth: number): void {
    // A UNION chain is a linked list (_next); follow it iteratively.
    for (let current: AstNode | undefined = node; current !== undefined; ) {
      if (current !== node && isNode(current.with)) fail('WITH inside a set operation is not supported');
      const refs: TableRef[] = [];
      this.fromItems(current.from, depth, refs);
      for (const ref of refs) if (ref.relation !== undefined) this.parts.add('select', ref.relation);
      const into = current.into;
      if (isNode(into) && into.type === 'into') {
        const keyword = str(into.keyword)?.toLowerCase();
        if (keyword === 'outfile' || keyword === 'dumpfile') this.parts.add('copy_file');
        else if (keyword !== 'var') fail(`unsupported SELECT … INTO ${keyword ?? ''}`);
      }
      this.rest(current, depth, ['with', 'from', 'into', '_next']);
      const next: unknown = current._next;
      if (next !== undefined && next !== null && !isNode(next)) fail('unexpected set operation');
      current = next ?? undefined;
      if (current !== undefined && current.type !== 'select') fail('unsupported set operation member');
    }
  }

  private insert(node: AstNode, depth: number): void {
    const targets: TableRef[] = [];
    this.fromItems(node.table, depth, targets);
    const replace = node.type === 'replace';
    const onDuplicate = isNode(node.on_duplicate_update);
    for (const target of targets) {
      if (target.relation === undefined) fail(`cannot insert into CTE ${target.exposedName}`);
      this.parts.add('insert', target.relation);
      // REPLACE deletes the rows whose keys clash; ON DUPLICATE KEY UPDATE updates them — only those rows.
      if (replace) this.parts.add('delete', target.relation, false);
      if (onDuplicate) this.parts.add('update', target.relation, false);
    }
    const values = node.values;
    if (isNode(values) && nestedStatementTypes.has(String(values.type))) this.statement(values, depth + 1);
    else this.expression(values, depth + 1);
    this.rest(node, depth, ['table', 'values', 'with']);
  }

  private update(node: AstNode, depth: number): void {
    const refs: TableRef[] = [];
    this.fromItems(node.table, depth, refs);
    const bases = refs.filter((r) => r.relation !== undefined);
    const written = new Set<TableRef>();
    for (const item of list(node.set)) {
      if (!isNode(item)) fail('unexpected SET item');
      const qualifier = identifier(item.table);
      if (qualifier === undefined) {
        // An unqualified column of a multi-table UPDATE may belong to any of them: count them all as written.
        for (const r of bases) written.add(r);
      } else {
        const ref = refs.find((r) => r.names.includes(qualifier));
        if (ref === undefined) fail(`UPDATE sets a column of unknown table ${qualifier}`);
        if (ref.relation === undefined) fail(`UPDATE of CTE ${qualifier}`);
        written.add(ref);
      }
      this.expression(item.value, depth + 1);
    }
    if (written.size === 0) fail('UPDATE without a SET list');
    this.writeParts('update', refs, written, node.where, depth);
    this.rest(node, depth, ['table', 'set', 'with']);
  }

  private delete(node: AstNode, depth: number): void {
    const sources: TableRef[] = [];
    this.fromItems(node.from, depth, sources);
    const written = new Set<TableRef>();
    for (const target of list(node.table)) {
      if (!isNode(target)) fail('unexpected DELETE target');
      const name = str(target.table);
      if (name === undefined) fail('DELETE target without a name');
      const db = str(target.db);
      const qualified = db != null && db !== '' ? `${db}.${name}` : undefined;
      // Single-table DELETE FROM t [AS x]: the target is its one table. Multi-table: targets name a table or alias
      // of the FROM list (MySQL requires it).
      const single = target.addition === true && sources.length === 1 ? sources[0] : undefined;
      const ref = single ?? sources.find((r) => (qualified !== undefined ? r.relation === qualified : r.names.includes(name)));
      if (ref === undefined) fail(`DELETE target ${qualified ?? name} is not in the FROM list`);
      if (ref.relation === undefined) fail(`DELETE from CTE ${name}`);
      written.add(ref);
    }
    if (written.size === 0) fail('DELETE without a target');
    this.writeParts('delete', sources, written, node.where, depth);
    this.rest(node, depth, ['table', 'from', 'with']);
  }

  /** update/delete parts for the written tables, select parts for the tables only read. */
  private writeParts(kind: 'update' | 'delete', refs: readonly TableRef[], written: ReadonlySet<TableRef>, where: unknown, depth: number): void {
    const writtenRelations = new Set<string>();
    const single = refs.length === 1;
    for (const ref of written) {
      const relation = ref.relation as string;
      writtenRelations.add(relation);
      const bounded = where != null && referencesTable(where, ref.names, single, false, depth, this.maxDepth);
      this.parts.add(kind, relation, !bounded);
    }
    for (const ref of refs) {
      if (ref.relation !== undefined && !writtenRelations.has(ref.relation)) this.parts.add('select', ref.relation);
    }
  }

  private create(node: AstNode): void {
    const keyword = str(node.keyword)?.toLowerCase();
    switch (keyword) {
      case 'table': {
        const targets: TableRef[] = [];
        this.fromItems(node.table, 0, targets);
        for (const t of targets) {
          if (t.relation === undefined) fail('CREATE TABLE named like a CTE');
          this.parts.add('create_table', t.relation);
        }
        if (isNode(node.like)) {
          // CREATE TABLE … LIKE copies the definition of another table: report it as read.
          const sources: TableRef[] = [];
          this.fromItems(node.like.table, 0, sources);
          for (const s of sources) if (s.relation !== undefined) this.parts.add('select', s.relation);
        }
        if (isNode(node.query_expr)) this.statement(node.query_expr, 1);
        this.rest(node, 0, ['table', 'like', 'query_expr']);
        return;
      }
      case 'view': {
        const view = node.view;
        if (!isNode(view)) fail('CREATE VIEW without a name');
        const name = str(view.view);
        if (name === undefined) fail('CREATE VIEW without a name');
        this.parts.add('create_view', relationName(str(view.db), name, this.database));
        // The view's query is reported as read now: a view is a way to read its tables later under another name.
        if (!isNode(node.select)) fail('CREATE VIEW without a query');
        this.statement(node.select, 1);
        this.rest(node, 0, ['view', 'select', 'with']);
        return;
      }
      case 'index': {
        const table = node.table;
        if (!isNode(table)) fail('CREATE INDEX without a table');
        const refs: TableRef[] = [];
        this.fromItems([table], 0, refs);
        for (const r of refs) if (r.relation !== undefined) this.parts.add('create_index', r.relation);
        for (const column of list(node.index_columns)) {
          // `name(10)` is a column prefix length, which the parser reads as a call; `((expr))` is a real expression.
          if (isNode(column) && column.type === 'function' && column.parentheses !== true) continue;
          this.expression(column, 1);
        }
        this.rest(node, 0, ['table', 'index_columns']);
        return;
      }
      default:
        fail(`unsupported CREATE ${keyword ?? ''}`);
    }
  }

  private alterTable(node: AstNode): void {
    const refs: TableRef[] = [];
    this.fromItems(node.table, 0, refs);
    for (const r of refs) {
      if (r.relation === undefined) fail('ALTER TABLE of a CTE name');
      this.parts.add('alter_table', r.relation);
    }
    for (const action of list(node.expr)) {
      if (isNode(action) && str(action.action) === 'rename' && str(action.resource) === 'table') {
        const target = str(action.table);
        if (target === undefined) fail('ALTER TABLE … RENAME without a name');
        this.parts.add('alter_table', relationName(undefined, target, this.database));
      }
    }
    this.rest(node, 0, ['table']);
  }

  private loadData(node: AstNode): void {
    const refs: TableRef[] = [];
    this.fromItems([node.table], 0, refs);
    for (const r of refs) {
      if (r.relation === undefined) fail('LOAD DATA into a CTE name');
      this.parts.add('copy_file', r.relation);
    }
    this.rest(node, 0, ['table']);
  }

  /** Walks every property of a statement node not handled by its reader. */
  private rest(node: AstNode, depth: number, handled: readonly string[]): void {
    for (const key in node) {
      if (handled.includes(key)) continue;
      this.expression(node[key], depth + 1);
    }
  }

  /** Any value of the AST: records function calls and analyses nested statements wherever they are. */
  private expression(value: unknown, depth: number): void {
    if (value === null || typeof value !== 'object') return;
    if (depth > this.maxDepth * 8) fail('expression nested too deeply');
    if (Array.isArray(value)) {
      for (const v of value) this.expression(v, depth + 1);
      return;
    }
    const node = value as AstNode;
    if (isNode(node.ast)) {
      this.statement(node.ast, depth + 1); // sub-query wrapper {tableList, columnList, ast}
      return;
    }
    const type = str(node.type);
    if (type !== undefined && nestedStatementTypes.has(type) && ('from' in node || 'table' in node || 'columns' in node)) {
      this.statement(node, depth + 1);
      return;
    }
    if (type === 'binary_expr') {
      // Operator chains (a OR b OR c …) nest one level per operator: walk them with a stack, not by recursion.
      const pending: AstNode[] = [node];
      for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
        for (const key in current) {
          const child = current[key];
          if (isBinaryExpression(child)) pending.push(child);
          else this.expression(child, depth + 1);
        }
      }
      return;
    }
    if (type === 'function') this.functionCall(node);
    else if (type === 'aggr_func') {
      const name = str(node.name);
      if (name === undefined) fail('aggregate without a name');
      this.parts.addFunction(undefined, name);
    }
    for (const key in node) {
      if (key === 'name' && (type === 'function' || type === 'aggr_func')) continue;
      this.expression(node[key], depth + 1);
    }
  }

  private functionCall(node: AstNode): void {
    const name = node.name;
    if (typeof name === 'string') {
      this.parts.addFunction(undefined, name);
      return;
    }
    if (!isNode(name)) fail('function call without a name');
    const pieces = list(name.name);
    const last = pieces[pieces.length - 1];
    const fn = isNode(last) ? str(last.value) : undefined;
    if (fn === undefined) fail('function call without a name');
    let schema = isNode(name.schema) ? str(name.schema.value) : undefined;
    if (pieces.length === 2 && schema === undefined) schema = identifier(pieces[0]);
    else if (pieces.length > 2 || (pieces.length === 2 && schema !== undefined)) fail('function name with too many parts');
    const quoted = isNode(last) && last.type === 'backticks_quote_string';
    if (schema === undefined && !quoted && notFunctions.has(fn.toLowerCase())) return;
    this.parts.addFunction(schema, fn);
  }
}

/**
 * Whether a WHERE clause references a column of the written table (so the write is bounded). Qualified columns count
 * when the qualifier is one of `names`; unqualified ones only at the statement's own level and only when it has a
 * single table. In sub-queries, only qualified references count, unless the sub-query reuses the name.
 */
function referencesTable(value: unknown, names: readonly string[], single: boolean, nested: boolean, depth: number, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > maxDepth * 8) fail('expression nested too deeply');
  if (Array.isArray(value)) {
    for (const v of value) if (referencesTable(v, names, single, nested, depth + 1, maxDepth)) return true;
    return false;
  }
  const node = value as AstNode;
  const inner = isNode(node.ast) ? node.ast : nestedStatementTypes.has(String(node.type)) ? node : undefined;
  if (inner !== undefined) {
    const shadowed = namesDefinedBy(inner);
    const visible = names.filter((n) => !shadowed.has(n));
    if (visible.length === 0) return false;
    for (const key in inner) if (referencesTable(inner[key], visible, single, true, depth + 1, maxDepth)) return true;
    return false;
  }
  if (node.type === 'binary_expr') {
    // Operator chains: a stack instead of recursion (see AstWalker.expression).
    const pending: AstNode[] = [node];
    for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
      for (const key in current) {
        const child = current[key];
        if (isBinaryExpression(child)) pending.push(child);
        else if (referencesTable(child, names, single, nested, depth + 1, maxDepth)) return true;
      }
    }
    return false;
  }
  if (node.type === 'column_ref') {
    const qualifier = identifier(node.table);
    if (qualifier === undefined) return single && !nested;
    const db = str(node.db);
    return names.includes(db != null && db !== '' ? `${db}.${qualifier}` : qualifier);
  }
  for (const key in node) if (referencesTable(node[key], names, single, nested, depth + 1, maxDepth)) return true;
  return false;
}

/** Table names and aliases a sub-query's own FROM list defines (they shadow outer names inside it). */
function namesDefinedBy(statement: AstNode): Set<string> {
  const out = new Set<string>();
  for (const item of list(statement.from)) {
    if (!isNode(item)) continue;
    const alias = identifier(item.as);
    if (alias !== undefined) out.add(alias);
    const table = str(item.table);
    if (table !== undefined) out.add(table);
  }
  return out;
}
