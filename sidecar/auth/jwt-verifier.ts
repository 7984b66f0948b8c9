// Verifies the JWT an agent presents as its password and turns it into an Identity.
//
// Order of checks: size and shape → header `alg` against an asymmetric allow-list → the issuer config chosen by the
// token's (not yet verified) `iss` → signature with that issuer's configured keys only → iss, aud, exp, nbf, iat
// with a bounded clock tolerance → subject, groups, required claims, pod binding. Header parameters that point at
// keys (`kid` aside, which only selects among configured keys; `jku`, `x5u`, `jwk`, `x5c`) are never read.
// Nothing here logs; errors never carry the token.

import {
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { AuthError } from './auth-error.ts';
import { createHttpGetter, checkKeyUrl, type FetchLike } from './jwks-fetch.ts';
import {
  discoveryLoader,
  discoveryUrl,
  fileLoader,
  refreshingKeySource,
  staticKeySource,
  uriLoader,
  type KeyResolver,
  type KeySource,
} from './jwks-source.ts';
import { checkPodBinding, readServiceAccountClaims, serviceAccountGroups, type PodBinding } from './kubernetes-claims.ts';
import { checkRequiredClaims, validateRequiredClaims, type RequiredClaims } from './required-claims.ts';

export type { PodBinding } from './kubernetes-claims.ts';
export type { FetchLike } from './jwks-fetch.ts';
export { AuthError, isAuthError, type AuthErrorCode } from './auth-error.ts';

/** Asymmetric algorithms only: with HS* the public key would double as a shared secret (the confusion attack). */
export const ACCEPTED_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
];
const ACCEPTED = new Set(ACCEPTED_ALGORITHMS);

export interface TlsConfig {
  /** PEM CA bundle for https JWKS/discovery URLs (replaces the default roots), e.g. the cluster's root CA. */
  readonly ca?: string | Buffer;
}

export interface JwksConfig {
  /** A JWKS file, re-read when a token names an unknown key (rate-limited) or when stale. */
  readonly file?: string;
  /** A JWKS URL. */
  readonly uri?: string;
  /** Keys given inline (e.g. carried in the bundle). */
  readonly keys?: JSONWebKeySet;
  // None of the three: OIDC discovery at `${issuer}/.well-known/openid-configuration` → jwks_uri.
}

export interface IssuerConfig {
  /** Compared exactly with the token's `iss`. */
  readonly issuer: string;
  /** The token's `aud` must contain at least one of these. */
  readonly audiences: readonly string[];
  readonly jwks?: JwksConfig;
  /** Overrides the verifier-wide `tls` for this issuer's URLs. */
  readonly tls?: TlsConfig;
}

export interface VerifierConfig {
  readonly issuers: readonly IssuerConfig[];
  /** Required claim values (see required-claims.ts). */
  readonly claims?: Readonly<Record<string, readonly string[]>>;
  /** Cluster mode: service-account tokens must be bound to this pod. */
  readonly podBinding?: PodBinding;
  /** Allowed clock skew for exp/nbf/iat, 0–60 s; default 30. */
  readonly clockToleranceSec?: number;
  /** Replaces the built-in HTTP getter (which honours `tls.ca`). */
  readonly fetch?: FetchLike;
  readonly tls?: TlsConfig;
  /** Default 16 KiB. */
  readonly maxTokenBytes?: number;
  /** At most one JWKS fetch per issuer per this interval once keys are held; default 30 s. */
  readonly jwksRefetchIntervalSec?: number;
  /** While an issuer has no keys, retry at most this often; default 5 s. */
  readonly jwksRetryIntervalSec?: number;
  /** Cached keys older than this are refetched on next use (failure keeps them); default 600 s. */
  readonly jwksMaxAgeSec?: number;
  /** Per-request timeout for JWKS and discovery; default 5000 ms. */
  readonly jwksTimeoutMs?: number;
  /** Observes JWKS fetches (for metrics and logs). */
  readonly onJwksFetch?: (issuer: string, outcome: 'ok' | 'error', error?: unknown) => void;
  /** Clock in epoch milliseconds; for tests. */
  readonly now?: () => number;
}

export interface Identity {
  readonly subject: string;
  readonly issuer: string;
  /** The `groups` claim, or for a Kubernetes service account system:serviceaccounts and system:serviceaccounts:NS. */
  readonly groups: readonly string[];
  readonly expiresAt: Date;
  /** The verified claims. */
  readonly claims: Readonly<JWTPayload>;
}

export interface Verifier {
  /** Resolves with the identity, or rejects with an AuthError. */
  verify(token: string): Promise<Identity>;
}

const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;
const MAX_CLOCK_TOLERANCE_SEC = 60;
const MAX_DOCUMENT_BYTES = 1024 * 1024;
// Several candidate keys are tried only for a token without `kid`; bound the work an unauthenticated caller causes.
const MAX_KEY_CANDIDATES = 8;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface IssuerEntry {
  readonly issuer: string;
  readonly options: JWTVerifyOptions;
  readonly keys: KeySource;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function keySourceFor(config: IssuerConfig, verifier: VerifierConfig, now: () => number): KeySource {
  const jwks = config.jwks ?? {};
  const given = [jwks.file, jwks.uri, jwks.keys].filter((v) => v !== undefined).length;
  if (given > 1) throw new Error(`issuer ${config.issuer}: set at most one of jwks.file, jwks.uri, jwks.keys`);
  if (jwks.keys !== undefined) return staticKeySource(jwks.keys, `issuer ${config.issuer} inline JWKS`);

  const ca = config.tls?.ca ?? verifier.tls?.ca;
  const http = {
    get: verifier.fetch ?? createHttpGetter(ca === undefined ? { maxBytes: MAX_DOCUMENT_BYTES } : { ca, maxBytes: MAX_DOCUMENT_BYTES }),
    timeoutMs: positive(verifier.jwksTimeoutMs, 5000, 'jwksTimeoutMs'),
    maxBytes: MAX_DOCUMENT_BYTES,
  };
  let load: () => Promise<unknown>;
  let origin: string;
  if (jwks.file !== undefined) {
    load = fileLoader(jwks.file, MAX_DOCUMENT_BYTES);
    origin = jwks.file;
  } else if (jwks.uri !== undefined) {
    load = uriLoader(jwks.uri, http);
    origin = jwks.uri;
  } else {
    load = discoveryLoader(config.issuer, http);
    origin = discoveryUrl(config.issuer);
  }
  const onFetch = verifier.onJwksFetch;
  return refreshingKeySource({
    load,
    origin,
    refetchIntervalMs: positive(verifier.jwksRefetchIntervalSec, 30, 'jwksRefetchIntervalSec') * 1000,
    retryIntervalMs: positive(verifier.jwksRetryIntervalSec, 5, 'jwksRetryIntervalSec') * 1000,
    maxAgeMs: positive(verifier.jwksMaxAgeSec, 600, 'jwksMaxAgeSec') * 1000,
    now,
    ...(onFetch === undefined ? {} : { onFetch: (outcome: 'ok' | 'error', error?: unknown) => onFetch(config.issuer, outcome, error) }),
  });
}

function validateIssuer(config: IssuerConfig): void {
  if (typeof config.issuer !== 'string' || config.issuer === '') throw new Error('every issuer needs a non-empty "issuer"');
  if (
    !Array.isArray(config.audiences) ||
    config.audiences.length === 0 ||
    !config.audiences.every((a) => typeof a === 'string' && a !== '')
  ) {
    throw new Error(`issuer ${config.issuer}: "audiences" must be a non-empty list of non-empty strings`);
  }
  const jwks = config.jwks ?? {};
  if (jwks.file === undefined && jwks.uri === undefined && jwks.keys === undefined) {
    checkKeyUrl(config.issuer, 'issuer (for OIDC discovery)');
  }
}

/** Builds a verifier; throws (synchronously) on an invalid configuration. No network access until the first verify. */
export function createVerifier(config: VerifierConfig): Verifier {
  if (!Array.isArray(config.issuers) || config.issuers.length === 0) throw new Error('at least one issuer is required');
  const tolerance = config.clockToleranceSec ?? 30;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= MAX_CLOCK_TOLERANCE_SEC)) {
    throw new Error(`clockToleranceSec must be between 0 and ${MAX_CLOCK_TOLERANCE_SEC}`);
  }
  const maxTokenBytes = positive(config.maxTokenBytes, DEFAULT_MAX_TOKEN_BYTES, 'maxTokenBytes');
  const required: RequiredClaims = validateRequiredClaims(config.claims);
  const binding = config.podBinding;
  if (binding !== undefined && (typeof binding.name !== 'string' || binding.name === '')) {
    throw new Error('podBinding.name must be the pod name');
  }
  const now = config.now ?? Date.now;

  const issuers = new Map<string, IssuerEntry>();
  for (const issuerConfig of config.issuers) {
    validateIssuer(issuerConfig);
    if (issuers.has(issuerConfig.issuer)) throw new Error(`issuer ${issuerConfig.issuer} is configured twice`);
    issuers.set(issuerConfig.issuer, {
      issuer: issuerConfig.issuer,
      keys: keySourceFor(issuerConfig, config, now),
      options: {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: issuerConfig.issuer,
        audience: [...issuerConfig.audiences],
        requiredClaims: ['exp'],
        clockTolerance: tolerance,
      },
    });
  }

  async function verify(token: string): Promise<Identity> {
    if (typeof token !== 'string') throw new AuthError('malformed', 'the token is not a JWT');
    if (token.length > maxTokenBytes) throw new AuthError('too_large', `the token is larger than ${maxTokenBytes} bytes`);
    const compact = token.trim();
    if (!COMPACT_JWS.test(compact)) throw new AuthError('malformed', 'the token is not a signed JWT (compact JWS)');

    let alg: unknown;
    let unverified: JWTPayload;
    try {
      alg = decodeProtectedHeader(compact).alg;
      unverified = decodeJwt(compact);
    } catch {
      throw new AuthError('malformed', 'the token is not a JWT (its header or claims cannot be decoded)');
    }
    if (typeof alg !== 'string' || !ACCEPTED.has(alg)) {
      throw new AuthError('algorithm', 'the token signing algorithm is not accepted (asymmetric algorithms only)');
    }
    const entry = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
    if (entry === undefined) throw new AuthError('untrusted_issuer', 'the token issuer is not trusted');

    const payload = await verifySignatureAndClaims(entry, compact, new Date(now()));
    return toIdentity(entry.issuer, payload, now(), tolerance, required, binding);
  }

  return { verify };
}

async function verifySignatureAndClaims(entry: IssuerEntry, token: string, currentDate: Date): Promise<JWTPayload> {
  const options: JWTVerifyOptions = { ...entry.options, currentDate };
  let resolver: KeyResolver = await entry.keys.keys();
  // jose calls this with the verified-structure header; an unknown kid gets one (rate-limited) chance at fresh keys.
  const keyFor: JWTVerifyGetKey = async (header, jws) => {
    try {
      return await resolver(header, jws);
    } catch (error) {
      if (joseCode(error) !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      const newer = await entry.keys.refreshForUnknownKey(resolver);
      if (newer === undefined) throw error;
      resolver = newer;
      return newer(header, jws);
    }
  };
  try {
    return (await jwtVerify(token, keyFor, options)).payload;
  } catch (error) {
    if (joseCode(error) === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return verifyWithCandidates(token, error, options);
    throw toAuthError(error);
  }
}

/** A token without `kid` when several configured keys fit its alg: try them (bounded), first valid signature wins. */
async function verifyWithCandidates(token: string, error: unknown, options: JWTVerifyOptions): Promise<JWTPayload> {
  const candidates = error as AsyncIterable<CryptoKey>;
  let tried = 0;
  let last: unknown = error;
  for await (const key of candidates) {
    if (++tried > MAX_KEY_CANDIDATES) break;
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (candidateError) {
      last = candidateError;
      // Only a wrong key is worth another candidate; a claim failure is the same under every key.
      if (joseCode(candidateError) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break;
    }
  }
  throw toAuthError(last);
}

function joseCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  switch (joseCode(error)) {
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new AuthError('algorithm', 'the token signing algorithm is not accepted (asymmetric algorithms only)', { cause: error });
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
      return new AuthError('unknown_key', "no signing key of the token issuer matches the token", { cause: error });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new AuthError('signature', 'the token signature is invalid', { cause: error });
    case 'ERR_JWT_EXPIRED':
      return new AuthError('expired', 'the token has expired', { cause: error });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claimError(error);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new AuthError('malformed', 'the token is not a valid JWT', { cause: error });
    default:
      return new AuthError('signature', 'the token could not be verified', { cause: error });
  }
}

function claimError(error: unknown): AuthError {
  const { claim, reason } = error as { claim?: unknown; reason?: unknown };
  if (reason === 'invalid') return new AuthError('invalid_claims', `the token's "${String(claim)}" claim is malformed`, { cause: error });
  switch (claim) {
    case 'aud':
      return new AuthError('audience', reason === 'missing' ? 'the token has no audience' : 'the token audience is not accepted', { cause: error });
    case 'iss':
      return new AuthError('untrusted_issuer', 'the token issuer is not trusted', { cause: error });
    case 'exp':
      return new AuthError('expired', 'the token has no expiry (exp)', { cause: error });
    case 'nbf':
      return new AuthError('not_yet_valid', 'the token is not valid yet (nbf)', { cause: error });
    default:
      return new AuthError('invalid_claims', `the token's "${String(claim)}" claim is not accepted`, { cause: error });
  }
}

function toIdentity(
  issuer: string,
  payload: JWTPayload,
  nowMs: number,
  toleranceSec: number,
  required: RequiredClaims,
  binding: PodBinding | undefined,
): Identity {
  // jose checks iat only when a maximum age is set; a token issued in the future is a clock or forgery problem.
  if (payload.iat !== undefined && payload.iat > nowMs / 1000 + toleranceSec) {
    throw new AuthError('not_yet_valid', 'the token is issued in the future (iat)');
  }
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject === '') throw new AuthError('invalid_claims', 'the token has no subject (sub)');
  const serviceAccount = readServiceAccountClaims(payload);
  const groups = serviceAccount !== undefined ? serviceAccountGroups(serviceAccount) : groupsClaim(payload.groups);
  checkRequiredClaims(required, payload, subject, groups);
  if (binding !== undefined) checkPodBinding(binding, subject, serviceAccount);
  return Object.freeze({
    subject,
    issuer,
    groups: Object.freeze(groups),
    expiresAt: new Date((payload.exp as number) * 1000),
    claims: Object.freeze(payload),
  });
}

function groupsClaim(value: unknown): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((g) => typeof g === 'string')) return [...(value as string[])];
  throw new AuthError('invalid_claims', 'the token\'s "groups" claim must be a list of strings');
}
