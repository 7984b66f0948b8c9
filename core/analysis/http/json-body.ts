// Request bodies as rules see them. A body is parsed as JSON when its content type says JSON (and must then parse);
// a body with another or no content type is parsed too when it is well-formed JSON, because many servers parse JSON
// whatever the header says and a deny rule on `jsonBody` must not be dodged by a wrong Content-Type. Bodies whose
// reading is ambiguous are refused: duplicate object keys (parsers disagree on which one wins), non-UTF-8 charsets,
// nesting beyond a depth limit.

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const MAX_JSON_DEPTH = 256;

export type BodyResult = { readonly ok: true; readonly json: unknown } | { readonly ok: false; readonly error: string };

const NO_JSON: BodyResult = { ok: true, json: undefined };
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface MediaType {
  readonly essence: string;
  readonly charset: string | undefined;
}

function parseMediaType(contentType: string): MediaType {
  const [essence = '', ...params] = contentType.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    }
  }
  return { essence: essence.trim().toLowerCase(), charset };
}

/** `application/json`, `text/json` and any structured-syntax `+json` type (merge-patch, vnd.api, problem…). */
export function isJsonMediaType(essence: string): boolean {
  if (essence === 'application/json' || essence === 'text/json') return true;
  const slash = essence.indexOf('/');
  return slash > 0 && essence.endsWith('+json');
}

/**
 * Checks the structure of JSON text that JSON.parse accepted: no object repeats a key (compared after unescaping, so
 * `"a"` and `"\u0061"` are the same key) and nesting stays within MAX_JSON_DEPTH. Returns a problem or undefined.
 */
export function jsonStructureProblem(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push(c === 0x7b ? new Set<string>() : null);
      if (stack.length > MAX_JSON_DEPTH) return `JSON nested deeper than ${MAX_JSON_DEPTH}`;
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else j++;
      }
      if (expectKey) {
        const token = text.slice(i, j + 1);
        const key = escaped ? (JSON.parse(token) as string) : token.slice(1, -1);
        const keys = stack[stack.length - 1];
        if (keys) {
          if (keys.has(key)) return `duplicate key ${JSON.stringify(key)} in JSON object`;
          keys.add(key);
        }
        expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}

function parseJsonText(text: string): BodyResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `body is not valid JSON: ${(e as Error).message}` };
  }
  const problem = jsonStructureProblem(text);
  return problem === undefined ? { ok: true, json } : { ok: false, error: problem };
}

/** Reads a request body into the part's `jsonBody`, or explains why the request cannot be analysed. */
export function readBody(body: Buffer | string | undefined, contentType: string | undefined, maxBytes: number): BodyResult {
  if (body === undefined) return NO_JSON;
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > maxBytes) return { ok: false, error: `body larger than ${maxBytes} bytes` };
  if (size === 0) return NO_JSON;
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  const claimsJson = media !== undefined && isJsonMediaType(media.essence);
  if (claimsJson && media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    return { ok: false, error: `unsupported JSON charset ${JSON.stringify(media.charset)}` };
  }
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = utf8.decode(body);
    } catch {
      return claimsJson ? { ok: false, error: 'JSON body is not UTF-8' } : NO_JSON;
    }
  }
  if (claimsJson) return parseJsonText(text);
  // Not labelled JSON: take it as JSON only when it plainly is a JSON document (object or array).
  const first = text.trimStart().charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return NO_JSON;
  const sniffed = parseJsonText(text);
  if (sniffed.ok) return sniffed;
  // Well-formed but ambiguous JSON is refused whatever its label; text that merely starts with "{" is not JSON.
  return sniffed.error.startsWith('body is not valid JSON') ? NO_JSON : sniffed;
}
