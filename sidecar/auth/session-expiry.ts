// A session outlives its token by at most `subjects.sessionGrace`: long queries and open transactions are not cut
// the second a token expires, but a stolen or revoked identity cannot keep a connection open for ever.

import { parseDuration } from '../../core/util/duration.ts';
import type { Identity } from './jwt-verifier.ts';

/**
 * When the session of `identity` must end: its token's expiry plus `sessionGrace` (e.g. `5m`). No grace given means
 * none: the session ends with the token. An invalid grace throws (DurationError) — configuration is validated before
 * sessions start, so this never silently grants a longer session.
 */
export function sessionEndsAt(identity: Pick<Identity, 'expiresAt'>, sessionGrace?: string): Date {
  const graceMs = sessionGrace === undefined ? 0 : parseDuration(sessionGrace);
  return new Date(identity.expiresAt.getTime() + graceMs);
}

/** Milliseconds left before the session must end (0 when it is already over); for scheduling the session's end. */
export function sessionRemainingMs(identity: Pick<Identity, 'expiresAt'>, sessionGrace: string | undefined, nowMs: number): number {
  return Math.max(0, sessionEndsAt(identity, sessionGrace).getTime() - nowMs);
}
