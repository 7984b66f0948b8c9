// Reading values out of libpg-query's JSON parse tree: strings, String-node lists, constants, option flags.

type Obj = Record<string, unknown>;

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function stringNode(v: unknown): string | undefined {
  const s = (v as Obj | undefined)?.String as Obj | undefined;
  return s ? (str(s.sval) ?? '') : undefined;
}

export function listStrings(v: unknown): string[] | undefined {
  const list = (v as Obj | undefined)?.List as Obj | undefined;
  const items = list?.items;
  if (!Array.isArray(items)) {
    const single = stringNode(v);
    return single === undefined ? undefined : [single];
  }
  const out: string[] = [];
  for (const item of items) {
    const s = stringNode(item);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

/** The text of a constant argument: a string, or a number as written. */
export function constText(v: unknown): string | undefined {
  const c = (v as Obj | undefined)?.A_Const as Obj | undefined;
  if (c === undefined) return undefined;
  if (c.isnull === true) return undefined;
  const s = c.sval as Obj | undefined;
  if (s) return str(s.sval) ?? '';
  const i = c.ival as Obj | undefined;
  if (i) return String(typeof i.ival === 'number' ? i.ival : 0);
  const f = c.fval as Obj | undefined;
  if (f) return str(f.fval);
  return undefined;
}

/** A boolean constant as PostgreSQL's boolin reads it; undefined when not a constant. */
export function constBool(v: unknown): boolean | undefined {
  const c = (v as Obj | undefined)?.A_Const as Obj | undefined;
  if (c === undefined) return undefined;
  const b = c.boolval as Obj | undefined;
  if (b) return b.boolval === true;
  const text = constText(v);
  if (text === undefined) return undefined;
  return parseBool(text);
}

export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  if ('true'.startsWith(t) || 'yes'.startsWith(t) || t === 'on' || t === '1') return true;
  if ('false'.startsWith(t) || 'no'.startsWith(t) || t === 'off' || t === 'of' || t === '0') return false;
  return undefined;
}

/** EXPLAIN runs its statement when ANALYZE is on; an ANALYZE option whose value cannot be read counts as on. */
export function explainAnalyses(options: unknown): boolean {
  if (!Array.isArray(options)) return false;
  let analyse = false;
  for (const o of options) {
    const d = (o as Obj).DefElem as Obj | undefined;
    if (d?.defname !== 'analyze') continue;
    if (d.arg === undefined) {
      analyse = true;
      continue;
    }
    const arg = d.arg as Obj;
    const text = stringNode(arg) ?? (arg.Boolean ? String((arg.Boolean as Obj).boolval === true) : undefined);
    const intNode = arg.Integer as Obj | undefined;
    const value = text !== undefined ? parseBool(text) : intNode ? intNode.ival !== 0 && intNode.ival !== undefined : undefined;
    analyse = value ?? true;
  }
  return analyse;
}
