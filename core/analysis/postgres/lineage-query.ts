// The lineage walk of one query: FROM clauses into scopes, target lists into output columns, expressions into the
// source columns they read. The libpg-query tree is plain JSON (`{TypeName: {fields}}`; `larg`/`rarg` hold bare
// SelectStmt bodies). Unknown expression nodes are walked generically — a value can only depend on the columns it
// references, so collecting every reference inside is sound — while unknown FROM items and statement shapes make
// the affected columns unknown rather than clean.
//
// Optionally the walk reports filter positions (WHERE, JOIN … ON/USING, GROUP BY, HAVING, ORDER BY, DISTINCT ON,
// window PARTITION/ORDER, aggregate FILTER, INTERSECT/EXCEPT, DML conditions) to a sink: that is how `strict`
// masking finds classified columns used to filter, in every nested query.
import type { SqlFunctionRef } from '../command.ts';
import { figureColname, resolveRangeVar, stringValue, type NameContext } from './lineage-names.ts';
import {
  Acc,
  alignShape,
  ANYTHING,
  colOf,
  exactCols,
  findCte,
  findEntry,
  KNOWN,
  Level,
  READS,
  resolveName,
  resolveQualified,
  ShapeBuilder,
  shapeUnion,
  starOf,
  unionCol,
  wholeRow,
  type Col,
  type CteScope,
  type RangeEntry,
  type Shape,
} from './lineage-scope.ts';

type Obj = Record<string, unknown>;

/** What lineage may ask of a catalog; without one, columns are unknown and every function is plain code. */
export interface LineageCatalog {
  /** The columns of relation `schema.name` in attnum order (no dropped ones); undefined when unknown. */
  columns?(relation: string): readonly string[] | undefined;
  /** true when a call may read data the statement does not name (user-defined code, not a built-in). */
  opaqueFunction?(fn: SqlFunctionRef): boolean;
}

/** Where a filter-position expression was found, and what it reads. */
export type FilterSink = (position: string, col: Col) => void;

/** Thrown when the tree is nested deeper than the walk allows. */
export class LineageTooDeep extends Error {}

/** Set-returning built-ins whose output is one column; the json(b)_each family has two (key, value). */
const singleColumnFunctions: ReadonlySet<string> = new Set([
  'generate_series', 'generate_subscripts', 'regexp_split_to_table', 'string_to_table', 'regexp_matches',
  'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text',
  'json_object_keys', 'jsonb_object_keys', 'jsonb_path_query', 'pg_listening_channels',
]);
const keyValueFunctions: ReadonlySet<string> = new Set(['json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text']);

export class QueryLineage {
  /** Every relation the walked statement reads or writes, as `schema.name`. */
  readonly relations = new Set<string>();
  private readonly names: NameContext;
  private readonly catalog: LineageCatalog | undefined;
  private readonly maxDepth: number;
  private readonly sink: FilterSink | undefined;
  private depth = 0;

  constructor(names: NameContext, catalog: LineageCatalog | undefined, maxDepth: number, sink?: FilterSink) {
    this.names = names;
    this.catalog = catalog;
    this.maxDepth = maxDepth;
    this.sink = sink;
  }

  // ---- queries -----------------------------------------------------------------------------------------------

  /** A wrapped query node (SelectStmt, or a DML statement with RETURNING) as a shape. */
  query(node: unknown, outer: Level | undefined, ctes: CteScope | undefined): Shape {
    const o = node as Obj | null | undefined;
    if (o === null || typeof o !== 'object') return unknownShape(READS);
    if (o.SelectStmt) return this.select(o.SelectStmt as Obj, outer, ctes);
    if (o.InsertStmt) return this.insert(o.InsertStmt as Obj, outer, ctes);
    if (o.UpdateStmt) return this.update(o.UpdateStmt as Obj, outer, ctes);
    if (o.DeleteStmt) return this.delete(o.DeleteStmt as Obj, outer, ctes);
    if (o.MergeStmt) return this.merge(o.MergeStmt as Obj, outer, ctes);
    return unknownShape(READS);
  }

  select(body: Obj, outer: Level | undefined, ctes: CteScope | undefined): Shape {
    this.enter();
    try {
      const scope = this.withClause(body.withClause, outer, ctes);
      const op = body.op;
      if (typeof op === 'string' && op !== 'SETOP_NONE') return this.setOp(body, op, outer, scope);
      if (Array.isArray(body.valuesLists)) return this.values(body.valuesLists, outer, scope);
      const level = new Level(outer, scope);
      for (const item of list(body.fromClause)) level.top.push(this.fromItem(item, level));
      const out = new ShapeBuilder();
      for (const t of list(body.targetList)) this.target((t as Obj).ResTarget as Obj | undefined, level, out);
      const shape = out.build();
      if (this.sink) this.selectFilters(body, level, shape);
      return shape;
    } finally {
      this.depth--;
    }
  }

  private setOp(body: Obj, op: string, outer: Level | undefined, scope: CteScope | undefined): Shape {
    const left = this.select((body.larg as Obj | undefined) ?? {}, outer, scope);
    const right = this.select((body.rarg as Obj | undefined) ?? {}, outer, scope);
    const shape = mergeShapes(left, right);
    if (this.sink) {
      // INTERSECT and EXCEPT keep or drop rows by comparing them: every column filters.
      if (op !== 'SETOP_UNION') for (const c of [...left.head, ...right.head, ...restCols(left), ...restCols(right)]) this.sink(op === 'SETOP_INTERSECT' ? 'INTERSECT' : 'EXCEPT', c);
      const level = new Level(outer, scope);
      this.orderLike('ORDER BY', body.sortClause, level, shape);
      this.visitOnly(body.limitCount, level);
      this.visitOnly(body.limitOffset, level);
    }
    return shape;
  }

  private values(rows: unknown[], outer: Level | undefined, scope: CteScope | undefined): Shape {
    const level = new Level(outer, scope);
    const accs: Acc[] = [];
    for (const row of rows) {
      const items = list(((row as Obj).List as Obj | undefined)?.items);
      items.forEach((item, i) => {
        const acc = (accs[i] ??= new Acc());
        this.expr(item, level, acc);
      });
    }
    return { head: accs.map((a, i) => a.toCol(`column${i + 1}`)) };
  }

  private withClause(w: unknown, outer: Level | undefined, ctes: CteScope | undefined): CteScope | undefined {
    if (w === undefined || w === null) return ctes;
    const wc = w as Obj;
    const recursive = wc.recursive === true;
    const scope: CteScope = { defs: new Map(), parent: ctes };
    for (const item of list(wc.ctes)) {
      const cte = (item as Obj).CommonTableExpr as Obj | undefined;
      if (!cte) continue;
      const name = typeof cte.ctename === 'string' ? cte.ctename : '';
      const aliases = strings(cte.aliascolnames);
      const shape = recursive ? this.recursiveCte(name, cte, aliases, outer, scope) : this.query(cte.ctequery, outer, scope);
      scope.defs.set(name, withSearchAndCycle(renameShape(shape, aliases), cte));
    }
    return scope;
  }

  /**
   * WITH RECURSIVE: the recursive term reads the CTE itself. Start from the non-recursive term (or nothing) and
   * re-walk until the sources stop growing; they only ever grow, so this ends (bounded all the same).
   */
  private recursiveCte(name: string, cte: Obj, aliases: readonly string[], outer: Level | undefined, scope: CteScope): Shape {
    const q = cte.ctequery as Obj | undefined;
    const sel = q?.SelectStmt as Obj | undefined;
    let current: Shape;
    if (sel && sel.op === 'SETOP_UNION' && sel.larg) {
      scope.defs.set(name, 'pending');
      current = renameShape(this.select(sel.larg as Obj, outer, scope), aliases);
    } else {
      current = unknownShape(READS);
    }
    for (let i = 0; i < 16; i++) {
      scope.defs.set(name, current);
      const next = renameShape(mergeShapes(current, this.query(q, outer, scope)), aliases);
      if (sameSources(next, current)) return next;
      current = next;
    }
    return unknownShape(READS);
  }

  // ---- FROM --------------------------------------------------------------------------------------------------

  private fromItem(node: unknown, level: Level): RangeEntry {
    const o = node as Obj;
    for (const type in o) {
      const body = o[type] as Obj;
      switch (type) {
        case 'RangeVar':
          return this.rangeVar(body, level);
        case 'RangeSubselect': {
          const shape = this.query(body.subquery, body.lateral === true ? level : level.parent, level.ctes);
          return this.derived(level, aliasOf(body), shape);
        }
        case 'RangeFunction':
          return this.rangeFunction(body, level);
        case 'JoinExpr':
          return this.join(body, level);
        case 'RangeTableSample':
          return this.fromItem(body.relation, level);
        case 'RangeTableFunc': {
          const acc = new Acc();
          this.expr(body.docexpr, level, acc);
          this.expr(body.rowexpr, level, acc);
          const cols: Col[] = [];
          for (const c of list(body.columns)) {
            const col = (c as Obj).RangeTableFuncCol as Obj | undefined;
            const each = new Acc();
            each.addAcc(acc);
            this.expr(col?.colexpr, level, each);
            this.expr(col?.coldefexpr, level, each);
            cols.push(each.toCol(typeof col?.colname === 'string' ? col.colname : '?column?'));
          }
          return this.derived(level, aliasOf(body), { head: cols });
        }
        default: {
          // JSON_TABLE and anything newer: the columns come from what the item reads, in a shape not known here.
          const acc = new Acc();
          this.visitGeneric(body, level, acc);
          acc.mark(READS);
          return this.derived(level, aliasOf(body), unknownShape(KNOWN, acc.toCol('?column?')));
        }
      }
    }
    return this.derived(level, undefined, unknownShape(READS));
  }

  private rangeVar(rv: Obj, level: Level): RangeEntry {
    const relname = typeof rv.relname === 'string' ? rv.relname : '';
    const alias = aliasOf(rv);
    if (rv.schemaname === undefined) {
      const cte = findCte(level.ctes, relname);
      if (cte !== undefined) {
        const shape = cte === 'pending' ? unknownShape(READS) : cte;
        return this.derived(level, { name: alias?.name ?? relname, cols: alias?.cols ?? [] }, shape);
      }
    }
    const rels = resolveRangeVar(rv, this.names);
    if (rels === undefined) {
      // The name cannot be resolved (unknown search_path): it may be any relation.
      return this.derived(level, { name: alias?.name ?? relname, cols: alias?.cols ?? [] }, unknownShape(ANYTHING));
    }
    for (const r of rels) this.relations.add(r);
    const aliasCols = alias?.cols ?? [];
    const catalogCols = rels.length === 1 ? this.catalog?.columns?.(rels[0] as string) : undefined;
    const rel = rels[0] as string;
    const columns = catalogCols?.map((c, i) => colOf(aliasCols[i] ?? c, [`${rel}.${c}`], KNOWN, `${rel}.${c}`));
    const entry: RangeEntry = {
      refname: alias?.name ?? relname,
      ...(alias === undefined ? { schema: rel.slice(0, rel.length - relname.length - 1) } : {}),
      relations: rels,
      ...(aliasCols.length > 0 ? { aliasCols } : {}),
      columns,
    };
    level.named.push(entry);
    return entry;
  }

  private derived(level: Level, alias: { name: string; cols: readonly string[] } | undefined, shape: Shape): RangeEntry {
    const renamed = renameShape(shape, alias?.cols ?? []);
    const cols = exactCols(renamed);
    const entry: RangeEntry = cols !== undefined
      ? { refname: alias?.name, columns: cols }
      : { refname: alias?.name, columns: undefined, fallback: shapeUnion(renamed) };
    level.named.push(entry);
    return entry;
  }

  private rangeFunction(body: Obj, level: Level): RangeEntry {
    const acc = new Acc();
    let count: number | undefined = 0;
    let singleName: string | undefined;
    const defNames: string[] = [];
    for (const f of list(body.functions)) {
      const items = list(((f as Obj).List as Obj | undefined)?.items);
      const call = items[0] as Obj | undefined;
      const coldefs = list(items[1] === undefined ? undefined : ((items[1] as Obj).List as Obj | undefined)?.items ?? items[1]);
      // Functions in FROM see the items to their left (implicitly LATERAL).
      this.expr(call, level, acc);
      const fc = call?.FuncCall as Obj | undefined;
      const fname = fc ? stringValue(list(fc.funcname)[list(fc.funcname).length - 1]) : undefined;
      if (coldefs.length > 0) {
        for (const d of coldefs) defNames.push(String(((d as Obj).ColumnDef as Obj | undefined)?.colname ?? '?column?'));
        if (count !== undefined) count += coldefs.length;
      } else if (fname !== undefined && keyValueFunctions.has(fname)) {
        defNames.push('key', 'value');
        if (count !== undefined) count += 2;
      } else if (fname !== undefined && singleColumnFunctions.has(fname)) {
        defNames.push(fname);
        singleName ??= fname;
        if (count !== undefined) count += 1;
      } else {
        count = undefined;
      }
    }
    const topColdefs = list(body.coldeflist);
    if (topColdefs.length > 0) {
      count = topColdefs.length;
      defNames.length = 0;
      for (const d of topColdefs) defNames.push(String(((d as Obj).ColumnDef as Obj | undefined)?.colname ?? '?column?'));
    }
    const alias = aliasOf(body);
    if (count !== undefined && body.ordinality === true) {
      count++;
      defNames.push('ordinality');
    }
    if (count === undefined) return this.derived(level, alias, unknownShape(KNOWN, acc.toCol('?column?')));
    // A single scalar function column takes the alias as its name (`generate_series(1,3) AS g` → column g).
    if (alias !== undefined && defNames.length === 1 && singleName !== undefined && topColdefs.length === 0) defNames[0] = alias.name;
    const cols = defNames.map((n) => acc.toCol(n));
    return this.derived(level, alias, { head: cols });
  }

  private join(body: Obj, level: Level): RangeEntry {
    const namedBefore = level.named.length;
    const left = this.fromItem(body.larg, level);
    const right = this.fromItem(body.rarg, level);
    let using = strings(body.usingClause);
    const natural = body.isNatural === true;
    if (natural && left.columns && right.columns) {
      const rightNames = new Set(right.columns.map((c) => c.name));
      using = left.columns.map((c) => c.name).filter((n) => rightNames.has(n));
    }
    const merged = using.length > 0 || natural;
    let columns: Col[] | undefined;
    let mergedCols: Col[] = [];
    if (left.columns && right.columns) {
      const usingSet = new Set(using);
      mergedCols = using.map((n) => unionCol(n, [...left.columns!.filter((c) => c.name === n), ...right.columns!.filter((c) => c.name === n)]));
      columns = [
        ...mergedCols,
        ...left.columns.filter((c) => !usingSet.has(c.name)),
        ...right.columns.filter((c) => !usingSet.has(c.name)),
      ];
    } else if (using.length > 0) {
      mergedCols = using.map((n) => {
        const acc = new Acc();
        resolveInEntries([left, right], n, acc);
        return acc.toCol(n);
      });
    }
    if (this.sink) {
      for (const n of using) {
        const acc = new Acc();
        resolveInEntries([left, right], n, acc);
        this.sink('JOIN … USING', acc.toCol(n));
      }
      if (body.quals !== undefined) this.filterExpr('JOIN … ON', body.quals, joinScope(level, left, right));
    }
    const alias = aliasOf(body);
    if (alias !== undefined) {
      // The alias hides the names inside the join.
      level.named.length = namedBefore;
      if (columns !== undefined) columns = renameShape({ head: columns }, alias.cols).head as Col[];
    }
    const entry: RangeEntry = columns !== undefined
      ? { refname: alias?.name, columns, children: [left, right] }
      : merged
        ? { refname: alias?.name, columns: undefined, children: [left, right], fallback: wholeJoin(left, right) }
        : { refname: alias?.name, columns: undefined, children: [left, right] };
    if (alias !== undefined) level.named.push(entry);
    const usingAlias = body.join_using_alias as Obj | undefined;
    if (usingAlias && typeof usingAlias.aliasname === 'string') level.named.push({ refname: usingAlias.aliasname, columns: mergedCols });
    return entry;
  }

  // ---- target lists ------------------------------------------------------------------------------------------

  private target(rt: Obj | undefined, level: Level, out: ShapeBuilder): void {
    if (rt === undefined) return;
    const val = rt.val as Obj | undefined;
    const ref = val?.ColumnRef as Obj | undefined;
    if (ref) {
      const fields = list(ref.fields);
      const last = fields[fields.length - 1] as Obj | undefined;
      if (last?.A_Star !== undefined) {
        const qualifier = strings(fields.slice(0, -1));
        if (qualifier.length === 0) {
          for (const e of level.top) starOf(e, out);
          return;
        }
        const e = findEntry(level, qualifier);
        if (e) starOf(e, out);
        else out.unknownRun(colOf('?column?', [], READS));
        return;
      }
    }
    const ind = val?.A_Indirection as Obj | undefined;
    if (ind) {
      const indirection = list(ind.indirection);
      if ((indirection[indirection.length - 1] as Obj | undefined)?.A_Star !== undefined) {
        // (x).*: the columns of a composite value; known only when x is a whole-row reference to an entry.
        const argRef = (ind.arg as Obj | undefined)?.ColumnRef as Obj | undefined;
        const names = argRef ? strings(list(argRef.fields)) : [];
        const e = indirection.length === 1 && names.length === 1 ? findEntry(level, names) : undefined;
        if (e !== undefined && !hasColumnNamed(level, names[0] as string)) {
          starOf(e, out);
          return;
        }
        const acc = new Acc();
        this.expr(ind.arg, level, acc);
        out.unknownRun(acc.toCol('?column?'));
        return;
      }
    }
    const acc = new Acc();
    this.expr(val, level, acc);
    const name = typeof rt.name === 'string' ? rt.name : figureColname(val);
    out.col(acc.toCol(name, ref !== undefined));
  }

  // ---- expressions -------------------------------------------------------------------------------------------

  /** Adds to `acc` everything the (wrapped) expression `node` reads. */
  expr(node: unknown, level: Level | undefined, acc: Acc): void {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) this.expr(n, level, acc);
      return;
    }
    const o = node as Obj;
    for (const type in o) this.exprNode(type, o[type], level, acc);
  }

  private exprNode(type: string, raw: unknown, level: Level | undefined, acc: Acc): void {
    if (raw === null || typeof raw !== 'object') return;
    const body = raw as Obj;
    switch (type) {
      case 'A_Const':
      case 'ParamRef':
      case 'String':
      case 'Integer':
      case 'Float':
      case 'Boolean':
      case 'BitString':
      case 'TypeName':
      case 'SQLValueFunction':
      case 'SetToDefault':
      case 'A_Star':
        return;
      case 'ColumnRef':
        this.columnRef(body, level, acc);
        return;
      case 'SubLink': {
        this.expr(body.testexpr, level, acc);
        acc.addCol(shapeUnion(this.query(body.subselect, level, level?.ctes)));
        return;
      }
      case 'FuncCall':
        this.funcCall(body, level, acc);
        return;
      case 'SelectStmt':
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        acc.addCol(shapeUnion(this.query({ [type]: body }, level, level?.ctes)));
        return;
      default:
        this.enter();
        try {
          this.visitGeneric(body, level, acc);
        } finally {
          this.depth--;
        }
    }
  }

  /** Every child of an unknown node: wrapped nodes dispatched, arrays and bare bodies walked. */
  private visitGeneric(body: Obj, level: Level | undefined, acc: Acc): void {
    for (const key in body) {
      const v = body[key];
      if (v === null || typeof v !== 'object') continue;
      const c = key.charCodeAt(0);
      if (c >= 65 && c <= 90) this.exprNode(key, v, level, acc);
      else if (Array.isArray(v)) this.expr(v, level, acc);
      else this.visitGeneric(v as Obj, level, acc);
    }
  }

  private columnRef(body: Obj, level: Level | undefined, acc: Acc): void {
    const fields = list(body.fields);
    const last = fields[fields.length - 1] as Obj | undefined;
    const names = strings(fields);
    if (last?.A_Star !== undefined) {
      // t.* inside an expression (row_to_json(t.*), count(t.*)): the whole row of t.
      const qualifier = names;
      if (qualifier.length === 0) {
        if (level) for (const e of level.top) wholeRow(e, acc);
        return;
      }
      const e = findEntry(level, qualifier);
      if (e) wholeRow(e, acc);
      else acc.mark(READS);
      return;
    }
    if (names.length === 0) {
      acc.mark(READS);
      return;
    }
    const ok = names.length === 1
      ? resolveName(level, names[0] as string, acc)
      : resolveQualified(level, names.slice(0, -1), names[names.length - 1] as string, acc);
    if (!ok) acc.mark(READS);
  }

  private funcCall(body: Obj, level: Level | undefined, acc: Acc): void {
    this.enter();
    try {
      this.funcCallBody(body, level, acc);
    } finally {
      this.depth--;
    }
  }

  private funcCallBody(body: Obj, level: Level | undefined, acc: Acc): void {
    const names = list(body.funcname);
    const name = stringValue(names[names.length - 1]) ?? '';
    const schema = names.length > 1 ? stringValue(names[names.length - 2]) : undefined;
    const ref: SqlFunctionRef = schema === undefined ? { name } : { schema, name };
    if (this.catalog?.opaqueFunction?.(ref) === true) acc.mark(ANYTHING);
    this.expr(body.args, level, acc);
    for (const s of list(body.agg_order)) this.expr(((s as Obj).SortBy as Obj | undefined)?.node, level, acc);
    if (body.agg_filter !== undefined) {
      this.expr(body.agg_filter, level, acc);
      if (this.sink) this.filterExpr('aggregate FILTER', body.agg_filter, level);
    }
    const over = body.over as Obj | undefined;
    if (over) {
      this.expr(over.partitionClause, level, acc);
      for (const s of list(over.orderClause)) this.expr(((s as Obj).SortBy as Obj | undefined)?.node, level, acc);
      if (this.sink) this.windowFilters(over, level);
    }
  }

  // ---- DML with RETURNING ------------------------------------------------------------------------------------

  private targetRelation(rv: Obj | undefined, level: Level, assigned?: RangeEntry['assigned']): RangeEntry | undefined {
    if (rv === undefined) return undefined;
    const rels = resolveRangeVar(rv, this.names);
    const relname = typeof rv.relname === 'string' ? rv.relname : '';
    const alias = aliasOf(rv);
    if (rels === undefined) {
      const e: RangeEntry = { refname: alias?.name ?? relname, columns: undefined, fallback: colOf('?column?', [], ANYTHING) };
      level.named.push(e);
      level.top.push(e);
      return e;
    }
    for (const r of rels) this.relations.add(r);
    const rel = rels[0] as string;
    const catalogCols = rels.length === 1 ? this.catalog?.columns?.(rel) : undefined;
    const columns = catalogCols?.map((c) => {
      const extra = assigned?.byName.get(c) ?? assigned?.all;
      return extra ? unionCol(c, [colOf(c, [`${rel}.${c}`], KNOWN), extra]) : colOf(c, [`${rel}.${c}`], KNOWN, `${rel}.${c}`);
    });
    const e: RangeEntry = {
      refname: alias?.name ?? relname,
      ...(alias === undefined ? { schema: rel.slice(0, rel.length - relname.length - 1) } : {}),
      relations: rels,
      columns,
      ...(assigned ? { assigned } : {}),
    };
    level.named.push(e);
    level.top.push(e);
    return e;
  }

  private returning(body: Obj, level: Level): Shape {
    const rc = body.returningClause as Obj | undefined;
    const items = rc ? list(rc.exprs) : list(body.returningList);
    const out = new ShapeBuilder();
    for (const t of items) this.target((t as Obj).ResTarget as Obj | undefined, level, out);
    return out.build();
  }

  private insert(body: Obj, outer: Level | undefined, ctes: CteScope | undefined): Shape {
    this.enter();
    try {
      const scope = this.withClause(body.withClause, outer, ctes);
      const rv = body.relation as Obj | undefined;
      const source = body.selectStmt === undefined ? { head: [] } : this.query(body.selectStmt, outer, scope);
      const rels = rv ? resolveRangeVar(rv, this.names) : undefined;
      const targetCols = strings(list(body.cols).map((c) => ({ String: { sval: ((c as Obj).ResTarget as Obj | undefined)?.name } })));
      const names = targetCols.length > 0 ? targetCols : rels?.length === 1 ? (this.catalog?.columns?.(rels[0] as string) ?? []) : [];
      const byName = new Map<string, Col>();
      const aligned = names.length > 0 ? alignShape(source, names.length) : undefined;
      let all: Col | undefined;
      if (aligned) names.forEach((n, i) => byName.set(n, aligned[i] as Col));
      else all = shapeUnion(source);
      const conflict = body.onConflictClause as Obj | undefined;
      if (conflict) {
        // ON CONFLICT DO UPDATE SET may store the proposed values (`excluded.*`) or anything the SET reads.
        const level = new Level(outer, scope);
        this.targetRelation(rv, level);
        const excluded: RangeEntry = aligned
          ? { refname: 'excluded', columns: names.map((n, i) => ({ ...(aligned[i] as Col), name: n })) }
          : { refname: 'excluded', columns: undefined, fallback: all ?? shapeUnion(source) };
        level.named.push(excluded);
        this.assignments(conflict.targetList, level, byName);
        if (this.sink) {
          this.filterExpr('ON CONFLICT … WHERE', conflict.whereClause, level);
          this.filterExpr('ON CONFLICT … WHERE', ((conflict.infer as Obj | undefined)?.whereClause), level);
        }
      }
      const level = new Level(outer, scope);
      this.targetRelation(rv, level, { byName, all });
      return this.returning(body, level);
    } finally {
      this.depth--;
    }
  }

  private update(body: Obj, outer: Level | undefined, ctes: CteScope | undefined): Shape {
    this.enter();
    try {
      const scope = this.withClause(body.withClause, outer, ctes);
      const rv = body.relation as Obj | undefined;
      const before = new Level(outer, scope);
      this.targetRelation(rv, before);
      const from: RangeEntry[] = [];
      for (const item of list(body.fromClause)) {
        const e = this.fromItem(item, before);
        before.top.push(e);
        from.push(e);
      }
      const byName = new Map<string, Col>();
      this.assignments(body.targetList, before, byName);
      if (this.sink) this.filterExpr('WHERE', body.whereClause, before);
      const after = new Level(outer, scope);
      this.targetRelation(rv, after, { byName, all: undefined });
      for (const e of from) {
        after.top.push(e);
        after.named.push(...before.named.filter((n) => n === e || isInside(e, n)));
      }
      return this.returning(body, after);
    } finally {
      this.depth--;
    }
  }

  private delete(body: Obj, outer: Level | undefined, ctes: CteScope | undefined): Shape {
    this.enter();
    try {
      const scope = this.withClause(body.withClause, outer, ctes);
      const level = new Level(outer, scope);
      this.targetRelation(body.relation as Obj | undefined, level);
      for (const item of list(body.usingClause)) level.top.push(this.fromItem(item, level));
      if (this.sink) this.filterExpr('WHERE', body.whereClause, level);
      return this.returning(body, level);
    } finally {
      this.depth--;
    }
  }

  private merge(body: Obj, outer: Level | undefined, ctes: CteScope | undefined): Shape {
    this.enter();
    try {
      const scope = this.withClause(body.withClause, outer, ctes);
      const rv = body.relation as Obj | undefined;
      const level = new Level(outer, scope);
      this.targetRelation(rv, level);
      const source = this.fromItem(body.sourceRelation, level);
      level.top.push(source);
      if (this.sink) this.filterExpr('MERGE … ON', body.joinCondition, level);
      // Any action may store any value it computes: every target column may take all of them.
      const allAcc = new Acc();
      for (const w of list(body.mergeWhenClauses)) {
        const clause = (w as Obj).MergeWhenClause as Obj | undefined;
        if (!clause) continue;
        if (this.sink) this.filterExpr('MERGE … WHEN', clause.condition, level);
        for (const t of list(clause.targetList)) this.expr(((t as Obj).ResTarget as Obj | undefined)?.val, level, allAcc);
        this.expr(clause.values, level, allAcc);
      }
      const after = new Level(outer, scope);
      this.targetRelation(rv, after, { byName: new Map(), all: allAcc.toCol('?column?') });
      after.top.push(source);
      after.named.push(source);
      return this.returning(body, after);
    } finally {
      this.depth--;
    }
  }

  private assignments(targetList: unknown, level: Level, byName: Map<string, Col>): void {
    for (const t of list(targetList)) {
      const rt = (t as Obj).ResTarget as Obj | undefined;
      if (!rt || typeof rt.name !== 'string') continue;
      const acc = new Acc();
      const val = rt.val as Obj | undefined;
      const multi = val?.MultiAssignRef as Obj | undefined;
      this.expr(multi ? multi.source : val, level, acc);
      // SET a[1] = x or SET a.f = x keeps the rest of the old value.
      if (list(rt.indirection).length > 0) resolveName(level, rt.name, acc);
      const prev = byName.get(rt.name);
      byName.set(rt.name, prev ? unionCol(rt.name, [prev, acc.toCol(rt.name)]) : acc.toCol(rt.name));
    }
  }

  // ---- filter positions (strict) -----------------------------------------------------------------------------

  private filterExpr(position: string, node: unknown, level: Level | undefined): void {
    if (node === undefined || node === null || !this.sink) return;
    const acc = new Acc();
    this.expr(node, level, acc);
    this.sink(position, acc.toCol(position));
  }

  /** Walks an expression only for the queries nested in it (their filters count). */
  private visitOnly(node: unknown, level: Level | undefined): void {
    if (node === undefined || node === null) return;
    this.expr(node, level, new Acc());
  }

  private selectFilters(body: Obj, level: Level, shape: Shape): void {
    this.filterExpr('WHERE', body.whereClause, level);
    this.orderLike('GROUP BY', body.groupClause, level, shape);
    this.filterExpr('HAVING', body.havingClause, level);
    this.orderLike('ORDER BY', body.sortClause, level, shape);
    const distinct = list(body.distinctClause).filter((d) => d !== null && typeof d === 'object' && Object.keys(d as Obj).length > 0);
    if (distinct.length > 0) this.orderLike('DISTINCT ON', distinct, level, shape);
    for (const w of list(body.windowClause)) {
      const def = (w as Obj).WindowDef as Obj | undefined;
      if (def) this.windowFilters(def, level);
    }
    this.visitOnly(body.limitCount, level);
    this.visitOnly(body.limitOffset, level);
  }

  private windowFilters(def: Obj, level: Level | undefined): void {
    for (const p of list(def.partitionClause)) this.filterExpr('window PARTITION BY', p, level);
    for (const s of list(def.orderClause)) this.filterExpr('window ORDER BY', ((s as Obj).SortBy as Obj | undefined)?.node, level);
  }

  /** ORDER BY / GROUP BY / DISTINCT ON items: an output column by position or name, or an expression. */
  private orderLike(position: string, items: unknown, level: Level, shape: Shape): void {
    for (const item of list(items)) {
      const node = ((item as Obj).SortBy as Obj | undefined)?.node ?? item;
      const acc = new Acc();
      const n = node as Obj;
      const k = constInt(n);
      if (k !== undefined) {
        const col = shape.head[k - 1] ?? shapeUnion(shape);
        acc.addCol(col);
      } else {
        const ref = n.ColumnRef as Obj | undefined;
        const names = ref ? strings(list(ref.fields)) : [];
        let output = false;
        if (ref && names.length === 1) {
          for (const c of [...shape.head, ...restCols(shape)]) {
            if (c.name === names[0]) {
              acc.addCol(c);
              output = true;
            }
          }
        }
        if (output) {
          // An output column's name; an input column of that name may be meant instead (GROUP BY prefers it).
          const input = new Acc();
          if (resolveName(level, names[0] as string, input)) acc.addAcc(input);
        } else {
          // GROUPING SETS / ROLLUP / CUBE hold expressions too.
          this.expr(n.GroupingSet ? (n.GroupingSet as Obj).content : node, level, acc);
        }
      }
      this.sink?.(position, acc.toCol(position));
    }
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) throw new LineageTooDeep(`the statement is nested deeper than ${this.maxDepth}`);
  }
}

// ---- helpers ------------------------------------------------------------------------------------------------------

export function unknownShape(unknown: typeof KNOWN | typeof READS | typeof ANYTHING, each?: Col): Shape {
  const col = each ?? colOf('?column?', [], unknown);
  return { head: [], rest: { each: unknown > col.unknown ? { ...col, unknown } : col, tail: [] } };
}

function restCols(s: Shape): Col[] {
  return s.rest ? [s.rest.each, ...s.rest.tail] : [];
}

/** Set operations: column i of the result comes from column i of every branch. */
function mergeShapes(a: Shape, b: Shape): Shape {
  const ac = exactCols(a);
  const bc = exactCols(b);
  if (ac && bc && ac.length === bc.length) return { head: ac.map((c, i) => unionCol(c.name, [c, bc[i] as Col])) };
  if (ac) {
    const bAligned = alignShape(b, ac.length);
    if (bAligned) return { head: ac.map((c, i) => unionCol(c.name, [c, bAligned[i] as Col])) };
  }
  if (bc) {
    const aAligned = alignShape(a, bc.length);
    if (aAligned) return { head: aAligned.map((c, i) => unionCol(c.name, [c, bc[i] as Col])) };
  }
  const all = unionCol('?column?', [shapeUnion(a), shapeUnion(b)]);
  return { head: [], rest: { each: all, tail: [] } };
}

function sameSources(a: Shape, b: Shape): boolean {
  const ac = [...a.head, ...restCols(a)];
  const bc = [...b.head, ...restCols(b)];
  if (ac.length !== bc.length || (a.rest === undefined) !== (b.rest === undefined)) return false;
  for (let i = 0; i < ac.length; i++) {
    const x = ac[i] as Col;
    const y = bc[i] as Col;
    if (x.unknown !== y.unknown || x.sources.size !== y.sources.size) return false;
    for (const s of x.sources) if (!y.sources.has(s)) return false;
  }
  return true;
}

/**
 * SEARCH … SET col and CYCLE … SET mark USING path add columns to a recursive CTE: the sequence and path columns
 * hold the values of the listed columns; the mark is a flag.
 */
function withSearchAndCycle(shape: Shape, cte: Obj): Shape {
  const search = cte.search_clause as Obj | undefined;
  const cycle = cte.cycle_clause as Obj | undefined;
  if (!search && !cycle) return shape;
  const cols = exactCols(shape);
  const of = (names: readonly string[], name: string): Col => {
    if (cols === undefined) return { ...shapeUnion(shape, name), name };
    return unionCol(name, cols.filter((c) => names.includes(c.name)));
  };
  const extra: Col[] = [];
  if (search && typeof search.search_seq_column === 'string') extra.push(of(strings(search.search_col_list), search.search_seq_column));
  if (cycle) {
    if (typeof cycle.cycle_mark_column === 'string') extra.push(colOf(cycle.cycle_mark_column, [], KNOWN));
    if (typeof cycle.cycle_path_column === 'string') extra.push(of(strings(cycle.cycle_col_list), cycle.cycle_path_column));
  }
  const b = new ShapeBuilder();
  b.shape(shape);
  b.cols(extra);
  return b.build();
}

function renameShape(s: Shape, names: readonly string[]): Shape {
  if (names.length === 0) return s;
  const head = s.head.map((c, i) => (names[i] !== undefined ? { ...c, name: names[i] as string } : c));
  return s.rest ? { head, rest: s.rest } : { head };
}

function aliasOf(body: Obj): { name: string; cols: readonly string[] } | undefined {
  const a = body.alias as Obj | undefined;
  if (!a || typeof a.aliasname !== 'string') return undefined;
  return { name: a.aliasname, cols: strings(a.colnames) };
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strings(v: unknown): string[] {
  const out: string[] = [];
  for (const item of list(v)) {
    const s = stringValue(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

function constInt(n: Obj): number | undefined {
  const c = n.A_Const as Obj | undefined;
  const i = c?.ival as Obj | undefined;
  if (!c || !i) return undefined;
  return typeof i.ival === 'number' ? i.ival : 0;
}

function resolveInEntries(entries: readonly RangeEntry[], name: string, acc: Acc): void {
  const l = new Level(undefined, undefined);
  l.top.push(...entries);
  if (!resolveName(l, name, acc)) acc.mark(READS);
}

function joinScope(level: Level, left: RangeEntry, right: RangeEntry): Level {
  // ON sees the joined items and (for correlated sub-queries) the outer levels; the named entries of the level are
  // those inside the join plus any to the left, which ON may not name but which never hide anything.
  const l = new Level(level.parent, level.ctes);
  l.top.push(left, right);
  l.named.push(...level.named);
  return l;
}

function wholeJoin(left: RangeEntry, right: RangeEntry): Col {
  const acc = new Acc();
  wholeRow(left, acc);
  wholeRow(right, acc);
  return acc.toCol('?column?');
}

function isInside(outer: RangeEntry, e: RangeEntry): boolean {
  for (const c of outer.children ?? []) if (c === e || isInside(c, e)) return true;
  return false;
}

function hasColumnNamed(level: Level, name: string): boolean {
  for (const e of level.top) if (e.columns?.some((c) => c.name === name)) return true;
  return false;
}
