// Fetching JSON (OIDC discovery documents, JWKS) from configured URLs only. The default getter uses node:http(s)
// directly rather than the global fetch because the cluster issuer's JWKS is served with the cluster's own CA, which
// the global fetch cannot be given without an extra dependency. Redirects are not followed and bodies are bounded.

import * as http from 'node:http';
import * as https from 'node:https';

export interface FetchResponseLike {
  readonly status: number;
  text(): Promise<string>;
}

/** The subset of the global `fetch` the verifier needs; `globalThis.fetch` satisfies it. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string>; redirect: 'error' },
) => Promise<FetchResponseLike>;

export interface HttpGetterOptions {
  /** PEM CA bundle that replaces the default trust roots for https URLs. */
  readonly ca?: string | Buffer;
  readonly maxBytes: number;
}

/** A FetchLike over node:http/https with an optional CA and a response size bound. */
export function createHttpGetter(options: HttpGetterOptions): FetchLike {
  return (url, init) =>
    new Promise<FetchResponseLike>((resolve, reject) => {
      const target = new URL(url);
      const requestOptions: https.RequestOptions = { method: 'GET', headers: init.headers, signal: init.signal };
      if (options.ca !== undefined) requestOptions.ca = options.ca;
      const request = (target.protocol === 'https:' ? https : http).request(target, requestOptions, (response) => {
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > options.maxBytes) {
          response.destroy();
          reject(new Error(`response of ${declared} bytes is over the ${options.maxBytes}-byte limit`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            response.destroy(new Error(`response is over the ${options.maxBytes}-byte limit`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        // A connection cut mid-body (or an abort after the headers) must not leave the caller waiting.
        response.on('close', () => {
          if (!response.complete) reject(new Error('connection closed before the response was complete'));
        });
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, text: () => Promise.resolve(body) });
        });
      });
      request.on('error', reject);
      request.end();
    });
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Keys fetched over plain HTTP could be swapped by anyone on the path, which would let them mint any identity.
 * So only https is accepted, except on loopback (local development and tests).
 */
export function checkKeyUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${what} ${JSON.stringify(url)} is not a valid URL`);
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopback(parsed.hostname)) return parsed;
  throw new Error(`${what} ${JSON.stringify(url)} must use https (plain http is accepted only on loopback)`);
}

/** GETs `url` and parses the body as JSON; throws with a message naming the URL (for logs, not for clients). */
export async function fetchJson(get: FetchLike, url: string, timeoutMs: number, maxBytes: number): Promise<unknown> {
  let response: FetchResponseLike;
  let body: string;
  try {
    response = await get(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    body = await response.text();
  } catch (cause) {
    throw new Error(`GET ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (response.status !== 200) throw new Error(`GET ${url} answered HTTP ${response.status}`);
  if (body.length > maxBytes) throw new Error(`GET ${url}: response is over the ${maxBytes}-byte limit`);
  try {
    return JSON.parse(body) as unknown;
  } catch (cause) {
    throw new Error(`GET ${url}: response is not JSON`, { cause });
  }
}
