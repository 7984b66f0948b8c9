// Splits an HTTP request target ("/path?query") the way the API server sees it: Go's net/url decodes the path once
// (so "%2F" becomes a real "/" before the API server splits it into segments) and parses the query into repeated
// values. Anything Go would reject, or that could be read two ways, is rejected here instead of guessed.

/** Request targets longer than this are refused (the API server's own limits are larger; agents never need more). */
export const MAX_TARGET_LENGTH = 8 * 1024;

export interface RequestTarget {
  /** The decoded path, exactly as Go's `req.URL.Path` holds it. */
  readonly path: string;
  /** Decoded path segments; a single trailing slash is dropped as the API server's splitPath drops it. */
  readonly segments: readonly string[];
  /** Decoded query parameters in order of appearance: name → every value. */
  readonly query: ReadonlyMap<string, readonly string[]>;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** True for the characters no URL should carry raw: controls, space, DEL and anything outside ASCII. */
function isForbiddenRaw(code: number): boolean {
  return code <= 0x20 || code >= 0x7f;
}

/**
 * Percent-decodes one component as Go's url.unescape does (`plusIsSpace` for query components), then insists the
 * bytes are UTF-8 without control characters: a NUL or a line break inside a name is an attack, not a name.
 */
export function percentDecode(raw: string, plusIsSpace: boolean): ParseResult<string> {
  if (raw.indexOf('%') < 0 && !(plusIsSpace && raw.indexOf('+') >= 0)) {
    return { ok: true, value: raw };
  }
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return { ok: false, error: `invalid percent escape at offset ${i}` };
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else if (code === 0x2b /* + */ && plusIsSpace) {
      bytes[n++] = 0x20;
    } else {
      // Callers have already refused non-ASCII raw characters, so one char is one byte.
      bytes[n++] = code;
    }
  }
  let decoded: string;
  try {
    decoded = utf8.decode(bytes.subarray(0, n));
  } catch {
    return { ok: false, error: 'percent escapes do not decode to UTF-8' };
  }
  for (let i = 0; i < decoded.length; i++) {
    const code = decoded.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return { ok: false, error: 'control character in URL' };
  }
  return { ok: true, value: decoded };
}

function parseQuery(raw: string): ParseResult<Map<string, string[]>> {
  const query = new Map<string, string[]>();
  if (raw === '') return { ok: true, value: query };
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    // Go refuses semicolons as separators since 1.17 and silently drops such pairs; a dropped pair is a pair the
    // API server and this analyser might read differently, so refuse the whole request.
    if (pair.indexOf(';') >= 0) return { ok: false, error: 'semicolon in query string' };
    const eq = pair.indexOf('=');
    const key = percentDecode(eq < 0 ? pair : pair.slice(0, eq), true);
    if (!key.ok) return { ok: false, error: `query: ${key.error}` };
    const value = percentDecode(eq < 0 ? '' : pair.slice(eq + 1), true);
    if (!value.ok) return { ok: false, error: `query: ${value.error}` };
    const values = query.get(key.value);
    if (values) values.push(value.value);
    else query.set(key.value, [value.value]);
  }
  return { ok: true, value: query };
}

/** Parses an origin-form request target. Dot segments, empty segments and undecodable escapes are errors. */
export function parseRequestTarget(target: string): ParseResult<RequestTarget> {
  if (target.length > MAX_TARGET_LENGTH) {
    return { ok: false, error: `request target longer than ${MAX_TARGET_LENGTH} bytes` };
  }
  if (target.charCodeAt(0) !== 0x2f /* / */) return { ok: false, error: 'request target must start with "/"' };
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (isForbiddenRaw(code)) return { ok: false, error: 'control, space or non-ASCII character in URL' };
    if (code === 0x23 /* # */) return { ok: false, error: 'fragment in request target' };
    if (code === 0x5c /* \ */) return { ok: false, error: 'backslash in request target' };
  }
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const decodedPath = percentDecode(rawPath, false);
  if (!decodedPath.ok) return { ok: false, error: `path: ${decodedPath.error}` };
  const path = decodedPath.value;

  // The API server trims slashes at both ends and splits what is left on "/". A single trailing slash is common
  // (proxy URLs) and harmless; anything else that would produce an empty segment is ambiguous.
  let body = path.slice(1);
  if (body.endsWith('/')) body = body.slice(0, -1);
  const segments = body === '' ? [] : body.split('/');
  for (const segment of segments) {
    if (segment === '') return { ok: false, error: 'empty path segment' };
    if (segment === '.' || segment === '..') return { ok: false, error: `dot segment "${segment}" in path` };
  }

  const query = parseQuery(q < 0 ? '' : target.slice(q + 1));
  if (!query.ok) return query;
  return { ok: true, value: { path, segments, query: query.value } };
}

/**
 * The one value of a query parameter, or undefined when absent. Repeated parameters whose values differ are
 * an error: the API server reads the first, but a proxy in between might not, and nothing legitimate repeats them.
 */
export function singleQueryValue(
  query: ReadonlyMap<string, readonly string[]>,
  name: string,
): ParseResult<string | undefined> {
  const values = query.get(name);
  if (values === undefined || values.length === 0) return { ok: true, value: undefined };
  const first = values[0] as string;
  for (let i = 1; i < values.length; i++) {
    if (values[i] !== first) return { ok: false, error: `conflicting values for query parameter "${name}"` };
  }
  return { ok: true, value: first };
}
