// Where an issuer's signing keys come from, and when they may be fetched again. Only configured locations are ever
// read: a file, a JWKS URL, or the issuer's OIDC discovery document — never anything named by a token.
//
// Refetching is rate-limited per issuer: a token with an unknown `kid` triggers a refetch only if the last attempt
// is at least `refetchIntervalMs` old, and concurrent requests share one in-flight fetch, so a flood of tokens with
// random kids costs at most one fetch per interval. A failed fetch keeps the previously fetched keys in force.

import { createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';
import { readFile, stat } from 'node:fs/promises';
import { AuthError } from './auth-error.ts';
import { checkKeyUrl, fetchJson, type FetchLike } from './jwks-fetch.ts';

/** Resolves the verification key for a token header (jose's local JWKS function). */
export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface KeySource {
  /** The issuer's current keys, loading them if needed. Throws AuthError('jwks_unavailable') when there are none. */
  keys(): Promise<KeyResolver>;
  /**
   * Called when `used` has no key for a token. Returns newer keys if there are any (fetched now, if the rate limit
   * allows, or by a concurrent request), otherwise undefined.
   */
  refreshForUnknownKey(used: KeyResolver): Promise<KeyResolver | undefined>;
}

const MAX_KEYS = 100;

const UNAVAILABLE = "cannot verify the token: the issuer's signing keys are unavailable";

/** Validates a JWKS document and keeps only public signing keys: private or symmetric material is never held. */
export function toPublicKeySet(value: unknown, origin: string): JSONWebKeySet {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new Error(`${origin}: not a JWKS (an object with a "keys" array)`);
  }
  const keys = (value as { keys: unknown[] }).keys;
  if (keys.length > MAX_KEYS) throw new Error(`${origin}: JWKS has ${keys.length} keys, more than ${MAX_KEYS}`);
  const usable: JWK[] = [];
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) continue;
    const jwk = key as JWK;
    if (typeof jwk.kty !== 'string' || jwk.kty === 'oct' || 'd' in jwk) continue;
    usable.push(jwk);
  }
  if (usable.length === 0) throw new Error(`${origin}: JWKS holds no public signing key`);
  return { keys: usable };
}

/** Keys given inline (e.g. carried in the policy bundle): nothing to refetch. */
export function staticKeySource(jwks: JSONWebKeySet, origin: string): KeySource {
  const resolver = createLocalJWKSet(toPublicKeySet(jwks, origin));
  return {
    keys: () => Promise.resolve(resolver),
    refreshForUnknownKey: () => Promise.resolve(undefined),
  };
}

export interface RefreshingSourceOptions {
  /** Loads and returns the raw JWKS document; throws on any failure. */
  readonly load: () => Promise<unknown>;
  /** Names the source in error messages (for logs). */
  readonly origin: string;
  /** At most one fetch per this interval once keys are held. */
  readonly refetchIntervalMs: number;
  /** While no keys are held, retry at most this often (never more often than refetchIntervalMs allows). */
  readonly retryIntervalMs: number;
  /** Keys older than this are refetched on next use (rotation and revocation); on failure the old ones stay. */
  readonly maxAgeMs: number;
  readonly now: () => number;
  readonly onFetch?: (outcome: 'ok' | 'error', error?: unknown) => void;
}

/** Keys from a file or URL, fetched lazily, refreshed when stale or when a token names a key we do not hold. */
export function refreshingKeySource(options: RefreshingSourceOptions): KeySource {
  let current: KeyResolver | undefined;
  let loadedAt = 0;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastError: unknown;
  let inflight: Promise<void> | undefined;

  async function attempt(): Promise<void> {
    try {
      const jwks = toPublicKeySet(await options.load(), options.origin);
      current = createLocalJWKSet(jwks);
      loadedAt = options.now();
      lastError = undefined;
      options.onFetch?.('ok');
    } catch (error) {
      lastError = error;
      options.onFetch?.('error', error);
    }
  }

  function refresh(): Promise<void> {
    if (inflight !== undefined) return inflight;
    const interval = current === undefined ? Math.min(options.retryIntervalMs, options.refetchIntervalMs) : options.refetchIntervalMs;
    if (options.now() - lastAttemptAt < interval) return Promise.resolve();
    lastAttemptAt = options.now();
    inflight = attempt().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return {
    async keys() {
      if (current === undefined || options.now() - loadedAt >= options.maxAgeMs) await refresh();
      if (current === undefined) throw new AuthError('jwks_unavailable', UNAVAILABLE, { cause: lastError });
      return current;
    },
    async refreshForUnknownKey(used) {
      if (current !== undefined && current !== used) return current;
      await refresh();
      return current !== undefined && current !== used ? current : undefined;
    },
  };
}

/** Loader for a JWKS file (standalone mode); re-read on refresh so a rotated file is picked up. */
export function fileLoader(path: string, maxBytes: number): () => Promise<unknown> {
  return async () => {
    const info = await stat(path);
    if (info.size > maxBytes) throw new Error(`${path}: JWKS file is over the ${maxBytes}-byte limit`);
    const text = await readFile(path, 'utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new Error(`${path}: JWKS file is not JSON`, { cause });
    }
  };
}

export interface HttpLoaderOptions {
  readonly get: FetchLike;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** Loader for a configured JWKS URL. */
export function uriLoader(uri: string, options: HttpLoaderOptions): () => Promise<unknown> {
  checkKeyUrl(uri, 'JWKS URL');
  return () => fetchJson(options.get, uri, options.timeoutMs, options.maxBytes);
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * Loader through OIDC discovery: `${issuer}/.well-known/openid-configuration` → `jwks_uri`. The document must name
 * the same issuer (OpenID Connect Discovery §4.3), so a discovery endpoint cannot vouch for keys of another issuer.
 * The discovered jwks_uri is remembered; a failed JWKS fetch forgets it so the next attempt discovers again.
 */
export function discoveryLoader(issuer: string, options: HttpLoaderOptions): () => Promise<unknown> {
  const documentUrl = discoveryUrl(issuer);
  checkKeyUrl(documentUrl, 'OIDC discovery URL');
  let jwksUri: string | undefined;
  return async () => {
    if (jwksUri === undefined) {
      const document = await fetchJson(options.get, documentUrl, options.timeoutMs, options.maxBytes);
      if (typeof document !== 'object' || document === null) throw new Error(`${documentUrl}: not a discovery document`);
      const { issuer: named, jwks_uri: uri } = document as { issuer?: unknown; jwks_uri?: unknown };
      if (named !== issuer) throw new Error(`${documentUrl}: document names issuer ${JSON.stringify(named)}, expected ${JSON.stringify(issuer)}`);
      if (typeof uri !== 'string') throw new Error(`${documentUrl}: document has no jwks_uri`);
      checkKeyUrl(uri, 'discovered jwks_uri');
      jwksUri = uri;
    }
    try {
      return await fetchJson(options.get, jwksUri, options.timeoutMs, options.maxBytes);
    } catch (error) {
      jwksUri = undefined;
      throw error;
    }
  };
}
