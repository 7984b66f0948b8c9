// Why a token was refused. `reason` is written for the agent (it goes back in the protocol's error message), so it
// never contains the token or anything an attacker could use to probe the configuration; `code` is for metrics and
// logs; `cause` may hold internal detail (a JWKS URL, a network error) for the sidecar's own log only.

export type AuthErrorCode =
  | 'malformed' // not a compact JWS JWT, undecodable header or claims
  | 'too_large' // over the size limit
  | 'algorithm' // alg none, HS*, or anything outside the asymmetric allow-list
  | 'untrusted_issuer' // iss is not one of the configured issuers
  | 'unknown_key' // no key of the issuer's JWKS matches the token's kid/alg
  | 'signature' // the signature does not verify
  | 'jwks_unavailable' // the issuer's keys could not be fetched and none are cached
  | 'audience' // aud does not intersect the configured audiences
  | 'expired' // exp in the past (beyond the clock tolerance), or missing
  | 'not_yet_valid' // nbf or iat in the future beyond the clock tolerance
  | 'invalid_claims' // a registered claim has the wrong type, sub missing, malformed groups or kubernetes.io claims
  | 'claims' // a required claim value is missing
  | 'pod_binding'; // a service-account token not bound to this pod

export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;
  /** Safe to send to the client. */
  readonly reason: string;

  constructor(code: AuthErrorCode, reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.code = code;
    this.reason = reason;
  }
}

export function isAuthError(error: unknown): error is AuthError {
  return error instanceof AuthError;
}
