// `jsonBody` condition strings (`{"$.amount": [">1000"]}`):
//   >N  >=N  <N  <=N   numeric comparison; the value must be a JSON number or a string holding a plain decimal
//                      number (servers often coerce "5000" to 5000, so a string must not dodge a deny rule)
//   anything else      a glob (`*` = any run of characters) against a string value, or against the JSON text of a
//                      number, boolean or null (so "true", "42", "null" match those values)
// An array value matches when any element matches (a wildcard path yields an array of the values it selected);
// objects and absent values never match. Matching is case-sensitive.
import { compileGlob } from '../../policy/glob.ts';

const COMPARISON = /^(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

interface Comparison {
  readonly op: '>' | '>=' | '<' | '<=';
  readonly bound: number;
}

const comparisons = new Map<string, Comparison | null>();

function comparisonOf(condition: string): Comparison | null {
  let c = comparisons.get(condition);
  if (c === undefined) {
    const m = COMPARISON.exec(condition);
    c = m ? { op: m[1] as Comparison['op'], bound: Number(m[2]) } : null;
    if (comparisons.size < 10_000) comparisons.set(condition, c);
  }
  return c;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  return undefined;
}

function compare(n: number, c: Comparison): boolean {
  switch (c.op) {
    case '>':
      return n > c.bound;
    case '>=':
      return n >= c.bound;
    case '<':
      return n < c.bound;
    case '<=':
      return n <= c.bound;
  }
}

/** Whether a value selected by a JSONPath satisfies one condition string. */
export function matchJsonCondition(value: unknown, condition: string): boolean {
  if (Array.isArray(value)) {
    for (const v of value) if (matchJsonCondition(v, condition)) return true;
    return false;
  }
  const comparison = comparisonOf(condition);
  if (comparison !== null) {
    const n = asNumber(value);
    // Overflowing numbers (1e400) become ±Infinity, which still compare the way a server reading them as floats does.
    return n !== undefined && compare(n, comparison);
  }
  if (typeof value === 'string') return compileGlob(condition)(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return compileGlob(condition)(String(value));
  }
  return false;
}
