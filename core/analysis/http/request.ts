// HTTP request → one HttpPart: the method, the normalised path (./path.ts), the raw query, lower-cased headers and
// the JSON body (./json-body.ts). Anything that cannot be read one way only is an error, and the engine denies it.
import type { Command, HttpPart } from '../command.ts';
import { DEFAULT_MAX_BODY_BYTES, readBody } from './json-body.ts';
import { normaliseTarget } from './path.ts';

export { jsonPathGet, jsonPathQuery, parseJsonPath } from './json-path.ts';
export { matchJsonCondition } from './json-condition.ts';

export interface HttpRequest {
  readonly method: string;
  /** The request target: path, optionally followed by `?query`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: Buffer | string;
}

export interface HttpAnalysisOptions {
  /** Bodies larger than this are not analysed (the request is denied). Default 1 MiB. */
  readonly maxBodyBytes?: number;
}

/** RFC 9110 token: what a method and a header name may consist of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;

type HeadersResult = { readonly ok: true; readonly headers: Record<string, string> } | { readonly ok: false; readonly error: string };

function normaliseHeaders(raw: HttpRequest['headers']): HeadersResult {
  // No prototype: a header called "constructor" or "__proto__" is just a header.
  const headers = Object.create(null) as Record<string, string>;
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    if (!TOKEN.test(name)) return { ok: false, error: `invalid header name ${JSON.stringify(name)}` };
    const joined = typeof value === 'string' ? value : value.join(', ');
    if (BAD_HEADER_VALUE.test(joined)) return { ok: false, error: `control character in header ${name}` };
    const key = name.toLowerCase();
    // The same header under two spellings is one header with both values, as HTTP folds repeated fields.
    const previous = headers[key];
    headers[key] = previous === undefined ? joined : `${previous}, ${joined}`;
  }
  return { ok: true, headers };
}

function contentTypeOf(raw: HttpRequest['headers']): { ok: true; value: string | undefined } | { ok: false } {
  let found: string | undefined;
  for (const name of Object.keys(raw)) {
    if (name.toLowerCase() !== 'content-type') continue;
    const value = raw[name];
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : value;
    for (const v of values) {
      // Two content types leave the body's reading to whichever one the server picks.
      if (found !== undefined && found !== v) return { ok: false };
      found = v;
    }
  }
  return { ok: true, value: found };
}

/** Analyses one HTTP request into exactly one part (or an error). */
export function analyseHttp(req: HttpRequest, options: HttpAnalysisOptions = {}): Command {
  if (!TOKEN.test(req.method)) return { parts: [], error: `invalid HTTP method ${JSON.stringify(req.method)}` };
  const target = normaliseTarget(req.path);
  if (!target.ok) return { parts: [], error: `unanalysable HTTP request: ${target.error}` };
  const headers = normaliseHeaders(req.headers);
  if (!headers.ok) return { parts: [], error: `unanalysable HTTP request: ${headers.error}` };
  const contentType = contentTypeOf(req.headers);
  if (!contentType.ok) return { parts: [], error: 'unanalysable HTTP request: conflicting Content-Type headers' };
  const body = readBody(req.body, contentType.value, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  if (!body.ok) return { parts: [], error: `unanalysable HTTP request: ${body.error}` };

  const part: HttpPart =
    body.json === undefined
      ? { protocol: 'http', method: req.method.toUpperCase(), path: target.value.path, query: target.value.query, headers: headers.headers }
      : {
          protocol: 'http',
          method: req.method.toUpperCase(),
          path: target.value.path,
          query: target.value.query,
          headers: headers.headers,
          jsonBody: body.json,
        };
  return { parts: [part] };
}
