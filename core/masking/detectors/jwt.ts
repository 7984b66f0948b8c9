// JSON Web Tokens (compact JWS, and JWE's five segments): base64url segments joined by dots, the first of which
// decodes to a JSON object with an "alg" member. A JSON object's base64url form always starts with `e` followed by
// `y` (for `{"` or `{ `) or `w` (for `{` and a newline, tab or carriage return), which makes candidates cheap to
// find; only those are decoded. The payload segment must be present; the signature may be empty (`alg: none`).

import { base64UrlBefore, isBase64Url } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_E_YW } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const DOT = 0x2e;
const LOWER_E = 0x65;
const LOWER_Y = 0x79;
const LOWER_W = 0x77;
/** `{"alg":""}` is 10 bytes: 14 base64url characters. */
const MIN_HEADER = 14;
const MAX_SEGMENTS = 5;

function runEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n && isBase64Url(text.charCodeAt(i))) i++;
  return i;
}

function isJoseHeader(segment: string): boolean {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  return typeof header === 'object' && header !== null && !Array.isArray(header) &&
    typeof (header as { alg?: unknown }).alg === 'string';
}

/** Where the token whose header segment is [start, headerEnd) ends, or -1 when what follows is not a token. */
function tokenEnd(text: string, start: number, headerEnd: number): number {
  if (text.charCodeAt(headerEnd) !== DOT) return -1;
  const payloadEnd = runEnd(text, headerEnd + 1);
  if (payloadEnd === headerEnd + 1 || text.charCodeAt(payloadEnd) !== DOT) return -1;
  let end = runEnd(text, payloadEnd + 1);
  // JWE: two more segments. Taking them keeps the ciphertext and tag from being left in clear.
  for (let segments = 3; segments < MAX_SEGMENTS && text.charCodeAt(end) === DOT; segments++) {
    const next = runEnd(text, end + 1);
    if (next === end + 1) break;
    end = next;
  }
  return isJoseHeader(text.slice(start, headerEnd)) ? end : -1;
}

export function findJwts(text: string): readonly Span[] {
  let spans: Span[] | undefined;
  let e = text.indexOf('e');
  while (e !== -1) {
    const next = text.charCodeAt(e + 1);
    if ((next === LOWER_Y || next === LOWER_W) && !base64UrlBefore(text, e)) {
      const headerEnd = runEnd(text, e + 2);
      const end = headerEnd - e >= MIN_HEADER ? tokenEnd(text, e, headerEnd) : -1;
      if (end !== -1) {
        (spans ??= []).push({ start: e, end });
        e = text.indexOf('e', end);
        continue;
      }
      // Nothing inside this run of base64url characters can start a header.
      e = text.indexOf('e', headerEnd);
      continue;
    }
    e = text.indexOf('e', e + 1);
  }
  return spans ?? NO_SPANS;
}

/** Bytes can hold a token only if `ey` or `ew` starts a run of at least MIN_HEADER base64url bytes and a dot follows. */
function hasJwtHeaderStart(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i + MIN_HEADER < end) {
    if (buf[i] !== LOWER_E || (buf[i + 1] !== LOWER_Y && buf[i + 1] !== LOWER_W)) {
      i++;
      continue;
    }
    const runStart = i;
    i += 2;
    while (i < end && isBase64Url(buf[i]!)) i++;
    if (i - runStart >= MIN_HEADER && i < end && buf[i] === DOT) return true;
  }
  return false;
}

export const jwt: Detector = {
  name: 'jwt',
  minLength: MIN_HEADER + 3,
  mayMatch: (flags) => (flags & HAS_E_YW) !== 0,
  mayMatchBytes: hasJwtHeaderStart,
  find: findJwts,
};
