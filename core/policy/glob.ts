// Globs of the API contract: `*` matches any run of characters (including none); everything else is literal.
// Compiled once per pattern at bundle compile time, so matching on the hot path is a precomputed test.

export type StringMatcher = (value: string) => boolean;

const cache = new Map<string, StringMatcher>();

export function compileGlob(pattern: string): StringMatcher {
  let m = cache.get(pattern);
  if (m === undefined) {
    m = build(pattern);
    if (cache.size < 10_000) cache.set(pattern, m);
  }
  return m;
}

function build(pattern: string): StringMatcher {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (v) => v === pattern;
  const pieces = pattern.split('*');
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);
  const minLength = first.length + last.length + middle.reduce((n, p) => n + p.length, 0);
  // Greedy left-to-right search is exact for `*`-only globs: each middle piece is taken at its earliest position.
  return (v) => {
    if (v.length < minLength || !v.startsWith(first) || !v.endsWith(last)) return false;
    let at = first.length;
    const end = v.length - last.length;
    for (const piece of middle) {
      const i = v.indexOf(piece, at);
      if (i < 0 || i + piece.length > end) return false;
      at = i + piece.length;
    }
    return true;
  };
}

/** Any of several globs; an empty list never matches. */
export function compileAny(patterns: readonly string[]): StringMatcher {
  const ms = patterns.map(compileGlob);
  if (ms.length === 1) return ms[0]!;
  return (v) => {
    for (const m of ms) if (m(v)) return true;
    return false;
  };
}

export function isWildcardOnly(pattern: string): boolean {
  return pattern.length > 0 && [...pattern].every((c) => c === '*');
}
