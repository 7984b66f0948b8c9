// A small JSONPath subset for `jsonBody` rule conditions and response masking:
//   $            the document
//   .name        a member (any characters but . [ ] quotes and white space)
//   ['name']     a member, quoted ("…" works too; \' \" \\ escape inside)
//   [N]          an array element
//   [*]  .*      every element of an array or every member value of an object
// Recursive descent (`..`), filters, slices and unions are not supported: a path using them is invalid, and the
// policy compiler should refuse it (call `parseJsonPath` there). Only own members are visited, never prototypes.

export type JsonPathSegment =
  | { readonly kind: 'member'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' };

export interface JsonPath {
  readonly segments: readonly JsonPathSegment[];
  /** True when a wildcard can select several values; jsonPathGet then returns an array of them. */
  readonly multiple: boolean;
}

const WILDCARD: JsonPathSegment = { kind: 'wildcard' };
const MEMBER_CHAR = /[^.[\]\s'"]/;

function readQuoted(path: string, start: number): { name: string; end: number } {
  const quote = path[start];
  let name = '';
  for (let i = start + 1; i < path.length; i++) {
    const c = path[i] as string;
    if (c === '\\') {
      const next = path[i + 1];
      if (next !== quote && next !== '\\') throw new Error(`invalid escape in JSONPath ${JSON.stringify(path)}`);
      name += next;
      i++;
    } else if (c === quote) {
      return { name, end: i + 1 };
    } else name += c;
  }
  throw new Error(`unterminated quote in JSONPath ${JSON.stringify(path)}`);
}

/** Parses a JSONPath of the supported subset; throws an Error naming the problem otherwise. */
export function parseJsonPath(path: string): JsonPath {
  if (path[0] !== '$') throw new Error(`JSONPath must start with "$": ${JSON.stringify(path)}`);
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      const next = path[i + 1];
      if (next === '.') throw new Error(`recursive descent ("..") is not supported: ${JSON.stringify(path)}`);
      if (next === '*') {
        segments.push(WILDCARD);
        i += 2;
        continue;
      }
      let end = i + 1;
      while (end < path.length && MEMBER_CHAR.test(path[end] as string)) end++;
      if (end === i + 1) throw new Error(`empty member name at offset ${i} in JSONPath ${JSON.stringify(path)}`);
      segments.push({ kind: 'member', name: path.slice(i + 1, end) });
      i = end;
    } else if (c === '[') {
      const next = path[i + 1];
      let end: number;
      if (next === '*') {
        segments.push(WILDCARD);
        end = i + 2;
      } else if (next === "'" || next === '"') {
        const quoted = readQuoted(path, i + 1);
        segments.push({ kind: 'member', name: quoted.name });
        end = quoted.end;
      } else {
        end = i + 1;
        while (end < path.length && path.charCodeAt(end) >= 0x30 && path.charCodeAt(end) <= 0x39) end++;
        if (end === i + 1 || end - i > 10) throw new Error(`invalid index at offset ${i} in JSONPath ${JSON.stringify(path)}`);
        segments.push({ kind: 'index', index: Number(path.slice(i + 1, end)) });
      }
      if (path[end] !== ']') throw new Error(`expected "]" at offset ${end} in JSONPath ${JSON.stringify(path)}`);
      i = end + 1;
    } else {
      throw new Error(`unexpected ${JSON.stringify(c)} at offset ${i} in JSONPath ${JSON.stringify(path)}`);
    }
  }
  return { segments, multiple: segments.some((s) => s.kind === 'wildcard') };
}

const cache = new Map<string, JsonPath>();

function compiled(path: string): JsonPath {
  let parsed = cache.get(path);
  if (parsed === undefined) {
    parsed = parseJsonPath(path);
    if (cache.size < 10_000) cache.set(path, parsed);
  }
  return parsed;
}

function step(value: unknown, segment: JsonPathSegment, out: unknown[]): void {
  if (typeof value !== 'object' || value === null) return;
  if (segment.kind === 'wildcard') {
    if (Array.isArray(value)) for (const v of value) out.push(v);
    else for (const key of Object.keys(value)) out.push((value as Record<string, unknown>)[key]);
  } else if (segment.kind === 'index') {
    if (Array.isArray(value) && segment.index < value.length) out.push(value[segment.index]);
  } else if (!Array.isArray(value) && Object.hasOwn(value, segment.name)) {
    out.push((value as Record<string, unknown>)[segment.name]);
  }
}

/** Every value the path selects, in document order (empty when it selects nothing). Throws on an invalid path. */
export function jsonPathQuery(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const segment of compiled(path).segments) {
    const next: unknown[] = [];
    for (const v of current) step(v, segment, next);
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

/**
 * The value at `path`: for a path without wildcards the one value or undefined; for a path with wildcards the array
 * of every selected value (possibly empty). Throws on an invalid path — the policy compiler validates paths first,
 * so a throw here means an unvalidated rule, which must not silently match nothing.
 */
export function jsonPathGet(value: unknown, path: string): unknown {
  const parsed = compiled(path);
  const all = jsonPathQuery(value, path);
  return parsed.multiple ? all : all[0];
}
