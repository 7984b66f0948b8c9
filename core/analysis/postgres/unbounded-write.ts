// Is an UPDATE/DELETE bounded by its WHERE clause? The contract: unbounded when the WHERE is missing or references
// no column of the target (`WHERE true`, `WHERE 1 = 1`, `WHERE now() > '2000-01-01'`, `WHERE EXISTS (SELECT 1)`).
// `WHERE CURRENT OF c` touches one row: bounded.
//
// Without the catalog a column's table is not always known, so the scan only counts references that must be the
// target's; anything ambiguous counts as "not the target" (unbounded, the stricter answer):
// - `t.col` / `alias.col` / `schema.t.col` naming the target's visible name (its alias if it has one) counts.
// - An unqualified `col` counts only when the statement has no FROM (UPDATE) / USING (DELETE) items, because it
//   could otherwise be a column of those; a qualified `x.col` with another qualifier counts on the same condition
//   (it can then only be a composite column of the target).
// - Inside a sub-select, only qualified references to the target's visible name count, and not when that sub-select
//   has a FROM item of the same name (which shadows it); an unqualified column there belongs to the sub-select.
// The tree handed in has already been walked under the depth limit, so plain recursion is safe here.

type Obj = Record<string, unknown>;

export function boundsTarget(where: unknown, target: Obj, hasOtherFromItems: boolean): boolean {
  if (where === undefined || where === null) return false;
  if ((where as Obj).CurrentOfExpr !== undefined) return true;
  const alias = (target.alias as Obj | undefined)?.aliasname;
  const visible = typeof alias === 'string' ? alias : typeof target.relname === 'string' ? target.relname : '';
  const schema = typeof alias === 'string' ? undefined : (target.schemaname as string | undefined);
  return scan(where, { visible, schema, hasOtherFromItems }, false);
}

interface Target {
  readonly visible: string;
  readonly schema: string | undefined;
  readonly hasOtherFromItems: boolean;
}

function scan(v: unknown, t: Target, inSubselect: boolean): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (const item of v) if (scan(item, t, inSubselect)) return true;
    return false;
  }
  const o = v as Obj;
  for (const key in o) {
    const child = o[key];
    if (key === 'ColumnRef') {
      if (columnIsTargets(child as Obj, t, inSubselect)) return true;
      continue;
    }
    if (key === 'SelectStmt' || key === 'larg' || key === 'rarg') {
      const sel = child as Obj;
      if (fromItemNames(sel.fromClause).includes(t.visible)) continue; // shadowed inside this sub-select
      if (scan(sel, t, true)) return true;
      continue;
    }
    if (scan(child, t, inSubselect)) return true;
  }
  return false;
}

function columnIsTargets(ref: Obj, t: Target, inSubselect: boolean): boolean {
  const fields = Array.isArray(ref.fields) ? ref.fields : [];
  const names: string[] = [];
  for (const f of fields) {
    const s = (f as Obj).String as Obj | undefined;
    names.push(s && typeof s.sval === 'string' ? s.sval : '*');
  }
  if (names.length === 0) return false;
  if (names.length === 1) {
    // `WHERE t` (a whole-row reference) names the target itself; any other single name is a column.
    if (names[0] === t.visible) return true;
    return !inSubselect && !t.hasOtherFromItems;
  }
  const qualifier = names[names.length - 2];
  if (qualifier === t.visible) {
    if (names.length === 2) return true;
    const schema = names[names.length - 3];
    return t.schema === undefined || schema === t.schema;
  }
  return !inSubselect && !t.hasOtherFromItems;
}

/** The names FROM items of a sub-select make visible (aliases, or relation names without one). */
function fromItemNames(from: unknown): string[] {
  const out: string[] = [];
  const visit = (item: unknown): void => {
    if (item === null || typeof item !== 'object') return;
    const o = item as Obj;
    const rv = o.RangeVar as Obj | undefined;
    if (rv) {
      const alias = (rv.alias as Obj | undefined)?.aliasname;
      out.push(typeof alias === 'string' ? alias : String(rv.relname ?? ''));
      return;
    }
    const join = o.JoinExpr as Obj | undefined;
    if (join) {
      visit(join.larg);
      visit(join.rarg);
      const alias = (join.alias as Obj | undefined)?.aliasname;
      if (typeof alias === 'string') out.push(alias);
      return;
    }
    for (const key in o) {
      const body = o[key] as Obj | undefined;
      const alias = (body?.alias as Obj | undefined)?.aliasname;
      if (typeof alias === 'string') out.push(alias);
    }
  };
  if (Array.isArray(from)) for (const item of from) visit(item);
  return out;
}
