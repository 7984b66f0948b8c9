// "Is the stored object what we rendered?" The API server defaults fields we may not have set and canonicalises
// quantities ("1024Mi" → "1Gi"), so a deep equality would call every injected pod forged. This comparison accepts
// exactly that: fields we left out only when they hold the API server's default, quantities by value.

/** Fields the API server defaults in the objects the injector renders, with their default values. */
const SERVER_DEFAULTS: Readonly<Record<string, unknown>> = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
  scheme: 'HTTP',
  protocol: 'TCP',
  apiVersion: 'v1',
  defaultMode: 0o644,
};

const QUANTITY = /^([+-]?[0-9]*\.?[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|(n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;
const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity as a number, or undefined when the text is not one. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * BINARY[m[2]]!;
  if (m[3]) return base * DECIMAL[m[3]]!;
  if (m[4]) return base * 10 ** Number(m[4]);
  return base;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * True when `actual` equals `expected` up to server defaulting: every field of `expected` is in `actual` with an
 * equal value; a field only `actual` has must carry its server default; quantity strings compare by value.
 */
export function equalAfterDefaulting(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => equalAfterDefaulting(e, actual[i]));
  }
  if (isObj(expected)) {
    if (!isObj(actual)) return false;
    for (const [k, v] of Object.entries(expected)) {
      if (v === undefined) continue;
      if (!equalAfterDefaulting(v, actual[k])) return false;
    }
    for (const [k, v] of Object.entries(actual)) {
      if (expected[k] !== undefined || v === undefined) continue;
      if (!(k in SERVER_DEFAULTS) || SERVER_DEFAULTS[k] !== v) return false;
    }
    return true;
  }
  if (expected === actual) return true;
  if (typeof expected === 'string' && typeof actual === 'string') {
    const a = parseQuantity(expected);
    const b = parseQuantity(actual);
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
  }
  return false;
}
