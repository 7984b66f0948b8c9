// The per-result-set decision: which output columns are masked, with which strategy and how (by type). Computed
// once per RowDescription (or COPY), synchronously from cached catalog facts; what the catalog has not told yet is
// recorded as missing, and the caller fetches it and plans again.
//
// Per column: a table OID names the column directly (views are followed to their base columns); for DML …
// RETURNING the OID names the target, so the value's lineage counts too. Without an OID (an expression), lineage
// (aligned to the fields) names the sources. Unknown lineage is masked whole when the statement reads a relation
// that has — or, for views, may have — classified columns (and always when it may read anything at all), with
// the strictest strategy involved.
import { alignShape, ANYTHING, READS, type Col, type StatementLineage } from '../../../../core/analysis/postgres/lineage.ts';
import type { MaskingStrategy } from '../../../../core/masking/strategies.ts';
import type { FieldDescription } from '../codec/index.ts';
import { cellAction, FIRST_NORMAL_OID, type CellAction } from './cell-mask.ts';
import { strategyOf, type Classifier } from './classify.ts';

export interface FieldPlan {
  /** The column's position in the row. */
  readonly index: number;
  readonly action: CellAction;
  readonly strategy: MaskingStrategy;
  /** The classifications involved (for records and tests). */
  readonly classes: readonly string[];
}

const unknownReads: Col = { name: '?column?', sources: new Set(), unknown: READS };
const unknownAnything: Col = { name: '?column?', sources: new Set(), unknown: ANYTHING };

/** The lineage columns for `n` output columns; a column that cannot be aligned is unknown. */
export function alignedColumns(stmt: StatementLineage | undefined, n: number, kind: StatementLineage['kind']): readonly Col[] {
  const cols = stmt && stmt.kind === kind && stmt.error === undefined ? alignShape(stmt.shape, n) : undefined;
  if (cols !== undefined) return cols;
  // Cannot say which column is which: every column is unknown — from anything when the statement itself is.
  const anything = stmt === undefined || stmt.kind !== kind || mayReadAnything(stmt);
  return new Array<Col>(n).fill(anything ? unknownAnything : unknownReads);
}

function mayReadAnything(stmt: StatementLineage): boolean {
  if (stmt.shape.rest?.each.unknown === ANYTHING) return true;
  return stmt.shape.head.some((c) => c.unknown === ANYTHING) || (stmt.shape.rest?.tail.some((c) => c.unknown === ANYTHING) ?? false);
}

/** Relations the statement reads, by lineage and by the analyser's parts. */
export function readRelations(stmt: StatementLineage | undefined, extra: readonly string[]): string[] {
  const out = new Set(stmt?.relations ?? []);
  for (const r of extra) out.add(r);
  return [...out];
}

/** The masked fields of a result set (others are left to the detectors). */
export function planFields(
  fields: readonly FieldDescription[],
  stmt: StatementLineage | undefined,
  extraRelations: readonly string[],
  classifier: Classifier,
): FieldPlan[] {
  const relations = readRelations(stmt, extraRelations);
  const cols = alignedColumns(stmt, fields.length, 'rows');
  const out: FieldPlan[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as FieldDescription;
    const set = new Set<number>();
    if (f.tableOid !== 0) {
      const info = classifier.facts.relationByOid(f.tableOid);
      if (info === undefined) continue; // missing: fetched, then planned again
      if (info === null) addAll(set, classifier.all);
      else if (f.columnAttr < 0) {
        // A system column (ctid, xmin, tableoid…): row metadata, not data.
      } else {
        const column = info.columns.find((c) => c.attnum === f.columnAttr);
        addAll(set, column ? classifier.ofColumn(info, column.name) : classifier.all);
      }
      // RETURNING: the OID names the target column, the value may come from anywhere the statement read.
      if (stmt?.dml) addAll(set, classifier.ofCol(cols[i] as Col, relations));
    } else {
      addAll(set, classifier.ofCol(cols[i] as Col, relations));
    }
    if (set.size === 0) continue;
    const category = f.format === 0 && f.typeOid >= FIRST_NORMAL_OID ? classifier.facts.typeCategory(f.typeOid) : undefined;
    const action = cellAction(f.typeOid, f.format, category);
    if (action === undefined) continue; // the type's category is missing
    out.push(plan(i, action, set, classifier));
  }
  return out;
}

/**
 * The masked columns of COPY … TO output (`count` columns). Types come from the catalog where a column is a plain
 * column of a relation; any other masked column is written as NULL.
 */
export function planCopyColumns(count: number, stmt: StatementLineage | undefined, extraRelations: readonly string[], classifier: Classifier): FieldPlan[] {
  const relations = readRelations(stmt, extraRelations);
  const cols = alignedColumns(stmt, count, 'copy');
  const out: FieldPlan[] = [];
  for (let i = 0; i < count; i++) {
    const col = cols[i] as Col;
    const set = classifier.ofCol(col, relations);
    if (set.size === 0) continue;
    let action: CellAction | undefined = 'null';
    if (col.direct !== undefined) {
      const dot = col.direct.lastIndexOf('.');
      const info = classifier.facts.relationByName(col.direct.slice(0, dot));
      const column = info ? info.columns.find((c) => c.name === col.direct!.slice(dot + 1)) : undefined;
      if (info === undefined) continue;
      if (column !== undefined) {
        const category = column.typeOid >= FIRST_NORMAL_OID ? classifier.facts.typeCategory(column.typeOid) : undefined;
        action = cellAction(column.typeOid, 0, category);
        if (action === undefined) continue;
      }
    }
    out.push(plan(i, action, set, classifier));
  }
  return out;
}

function plan(index: number, action: CellAction, set: ReadonlySet<number>, classifier: Classifier): FieldPlan {
  const strategy = strategyOf(classifier.classes, set) ?? 'null';
  const classes = [...set].map((k) => classifier.classes[k]?.name ?? '?');
  return { index, action, strategy, classes };
}

function addAll(into: Set<number>, from: ReadonlySet<number>): void {
  for (const x of from) into.add(x);
}
