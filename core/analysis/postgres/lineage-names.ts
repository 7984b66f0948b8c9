// Names for lineage: which relation a name means (the analyser's own NameResolver, so lineage and policy agree on
// every name), and the name PostgreSQL gives an output column (FigureColname in parse_target.c), which an outer
// query uses to refer to a sub-select's or CTE's column.
import { NameResolver, type RelationLookup } from './name-resolver.ts';
import type { SessionTracker } from './session-tracker.ts';
import { Unanalysable } from './unanalysable.ts';

type Obj = Record<string, unknown>;

/** How names resolve at one point of a command: the tracked session settings and an optional catalog lookup. */
export interface NameContext {
  readonly tracker: SessionTracker;
  readonly resolver: NameResolver;
}

export function nameContext(tracker: SessionTracker, lookup: RelationLookup | undefined): NameContext {
  return { tracker, resolver: new NameResolver(tracker, lookup) };
}

/**
 * The relations a RangeVar may name, as `schema.name` — normally one, several when the session state leaves a
 * choice (a temporary relation that may be gone). undefined: the name cannot be resolved (unknown search_path).
 */
export function resolveRangeVar(rv: Obj, ctx: NameContext): string[] | undefined {
  try {
    return ctx.resolver.relations(rv);
  } catch (err) {
    if (err instanceof Unanalysable) return undefined;
    throw err;
  }
}

/** The output column name PostgreSQL picks for an expression without an alias (FigureColnameInternal). */
export function figureColname(node: unknown): string {
  return figure(node)?.[0] ?? '?column?';
}

/** [name, strength]: a cast keeps its argument's name only when that name is strong (2), as parse_target.c does. */
function figure(node: unknown): [string, number] | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  for (const type in node as Obj) {
    const body = (node as Obj)[type] as Obj;
    switch (type) {
      case 'ColumnRef': {
        const fields = Array.isArray(body.fields) ? body.fields : [];
        for (let i = fields.length - 1; i >= 0; i--) {
          const s = stringValue(fields[i]);
          if (s !== undefined) return [s, 2];
        }
        return undefined;
      }
      case 'A_Indirection': {
        const ind = Array.isArray(body.indirection) ? body.indirection : [];
        for (let i = ind.length - 1; i >= 0; i--) {
          const s = stringValue(ind[i]);
          if (s !== undefined) return [s, 2];
        }
        return figure(body.arg);
      }
      case 'FuncCall': {
        const names = Array.isArray(body.funcname) ? body.funcname : [];
        const s = stringValue(names[names.length - 1]);
        return s === undefined ? undefined : [s, 2];
      }
      case 'A_Expr':
        return body.kind === 'AEXPR_NULLIF' ? ['nullif', 2] : undefined;
      case 'TypeCast': {
        const inner = figure(body.arg);
        if (inner !== undefined && inner[1] > 1) return inner;
        const names = ((body.typeName as Obj | undefined)?.names ?? []) as unknown[];
        const last = stringValue(names[names.length - 1]);
        return last === undefined ? inner : [last, 1];
      }
      case 'CollateClause':
        return figure(body.arg);
      case 'SubLink':
        switch (body.subLinkType) {
          case 'EXISTS_SUBLINK':
            return ['exists', 2];
          case 'ARRAY_SUBLINK':
            return ['array', 2];
          case 'EXPR_SUBLINK': {
            const sel = (body.subselect as Obj | undefined)?.SelectStmt as Obj | undefined;
            const first = (Array.isArray(sel?.targetList) ? sel.targetList[0] : undefined) as Obj | undefined;
            const rt = first?.ResTarget as Obj | undefined;
            if (typeof rt?.name === 'string') return [rt.name, 2];
            const inner = figure(rt?.val);
            return inner === undefined ? undefined : [inner[0], 2];
          }
          default:
            return undefined;
        }
      case 'CaseExpr':
        return ['case', 1];
      case 'SQLValueFunction': {
        const n = sqlValueFunctionNames[String(body.op)];
        return n === undefined ? undefined : [n, 2];
      }
      case 'MinMaxExpr':
        return [body.op === 'IS_GREATEST' ? 'greatest' : 'least', 2];
      case 'XmlExpr': {
        const n = xmlExprNames[String(body.op)];
        return n === undefined ? undefined : [n, 2];
      }
      default: {
        const n = fixedNames[type];
        return n === undefined ? undefined : [n, 2];
      }
    }
  }
  return undefined;
}

export function stringValue(v: unknown): string | undefined {
  const s = (v as Obj | null | undefined)?.String as Obj | undefined;
  return s ? (typeof s.sval === 'string' ? s.sval : '') : undefined;
}

const fixedNames: Readonly<Record<string, string>> = {
  GroupingFunc: 'grouping',
  MergeSupportFunc: 'merge_action',
  A_ArrayExpr: 'array',
  RowExpr: 'row',
  CoalesceExpr: 'coalesce',
  XmlSerialize: 'xmlserialize',
  JsonObjectConstructor: 'json_object',
  JsonArrayConstructor: 'json_array',
  JsonArrayQueryConstructor: 'json_array',
  JsonObjectAgg: 'json_objectagg',
  JsonArrayAgg: 'json_arrayagg',
  JsonParseExpr: 'json',
  JsonScalarExpr: 'json_scalar',
  JsonSerializeExpr: 'json_serialize',
};

const sqlValueFunctionNames: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

const xmlExprNames: Readonly<Record<string, string>> = {
  IS_XMLCONCAT: 'xmlconcat',
  IS_XMLELEMENT: 'xmlelement',
  IS_XMLFOREST: 'xmlforest',
  IS_XMLPARSE: 'xmlparse',
  IS_XMLPI: 'xmlpi',
  IS_XMLROOT: 'xmlroot',
  IS_XMLSERIALIZE: 'xmlserialize',
};
