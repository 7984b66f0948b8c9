// Bearer-token check for the admin API. Both sides are hashed to a fixed length before timingSafeEqual, so neither
// the token's content nor its length leaks through response timing.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A checker bound to one token; the expected digest is computed once. */
export function bearerChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    if (authorization === undefined) return false;
    // RFC 6750: the scheme is case-insensitive; the credentials are one token68 with no spaces.
    const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
    if (!match) return false;
    return timingSafeEqual(digest(match[1] as string), expected);
  };
}
