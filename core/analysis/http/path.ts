// HTTP request-target normalisation. Rules match paths as globs, so the path a rule sees must be the one path every
// upstream server would see. Where servers disagree on how to read a path, the request is refused rather than read
// one way and forwarded to a server that reads it another:
//  - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded (RFC 3986 §6.2.2.2), so `/%61dmin` is
//    `/admin`; every other escape is kept, with upper-case hex, so `%2f`/`%2F` compare equal;
//  - `%2F`, `%5C`, `%00` and other encoded controls are refused: some servers decode them into separators or
//    terminators before routing, others do not;
//  - dot segments (`.`, `..`, also when encoded) are refused rather than collapsed: a server that does not collapse
//    them (or a file server that resolves them itself) would see a different path than the one the rules matched;
//  - empty segments (`//`) are refused (some servers merge slashes, others do not); one trailing slash is kept;
//  - raw `\`, `;` (path parameters, which Java servers strip before routing), `#`, spaces, controls and non-ASCII
//    characters are refused.

export const MAX_TARGET_LENGTH = 8 * 1024;

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface SplitTarget {
  readonly path: string;
  /** The raw query after "?", without the "?"; '' when there is none. */
  readonly query: string;
}

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

function rawCharProblem(code: number): string | undefined {
  if (code <= 0x20 || code >= 0x7f) return 'control, space or non-ASCII character in URL';
  if (code === 0x5c) return 'backslash in path';
  if (code === 0x23) return 'fragment in request target';
  return undefined;
}

/** Splits `/path?query` and normalises the path; the query is kept as sent (after a character check). */
export function normaliseTarget(target: string): ParseResult<SplitTarget> {
  if (target.length > MAX_TARGET_LENGTH) return { ok: false, error: `request target longer than ${MAX_TARGET_LENGTH} bytes` };
  if (target.charCodeAt(0) !== 0x2f) return { ok: false, error: 'request target must start with "/"' };
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  for (let i = 0; i < query.length; i++) {
    const problem = rawCharProblem(query.charCodeAt(i));
    // A backslash in a query value is ordinary data; only the path's separators are at stake.
    if (problem !== undefined && query.charCodeAt(i) !== 0x5c) return { ok: false, error: `query: ${problem}` };
  }
  const path = normalisePath(rawPath);
  if (!path.ok) return path;
  return { ok: true, value: { path: path.value, query } };
}

export function normalisePath(rawPath: string): ParseResult<string> {
  let out = '';
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    const problem = rawCharProblem(code);
    if (problem !== undefined) return { ok: false, error: problem };
    if (code === 0x3b) return { ok: false, error: 'path parameter (";") in path: servers read it differently' };
    if (code !== 0x25) {
      out += rawPath[i];
      continue;
    }
    const hi = hexValue(rawPath.charCodeAt(i + 1));
    const lo = hexValue(rawPath.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return { ok: false, error: `invalid percent escape at offset ${i}` };
    const byte = hi * 16 + lo;
    i += 2;
    if (byte === 0x2f) return { ok: false, error: 'encoded slash (%2F) in path: servers read it differently' };
    if (byte === 0x5c) return { ok: false, error: 'encoded backslash (%5C) in path: servers read it differently' };
    if (byte < 0x20 || byte === 0x7f) return { ok: false, error: 'encoded control character in path' };
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
  }
  const segments = out.split('/');
  // segments[0] is the empty string before the leading "/"; the last may be empty (one trailing slash).
  for (let s = 1; s < segments.length; s++) {
    const segment = segments[s];
    if (segment === '.' || segment === '..') return { ok: false, error: `dot segment "${segment}" in path` };
    if (segment === '' && s < segments.length - 1) return { ok: false, error: 'empty path segment ("//")' };
  }
  return { ok: true, value: out };
}
