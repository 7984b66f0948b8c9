// E-mail addresses: local@domain, found from each '@'. The local part uses the characters addresses use in practice
// (letters, digits, `._%+-`, and any non-ASCII letter) and deliberately not quotes, braces, commas or backslashes, so
// a match inside JSON (`{"email":"a@b.co"}`) or a PostgreSQL array (`{a@b.co,c@d.org}`) covers the address only and
// masking it keeps the surrounding syntax intact. The domain needs at least two labels and a top-level label of two
// or more characters that is not all digits.

import { isAsciiAlnum, isDigit, isEscapingBackslash } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_AT } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const DOT = 0x2e;

/** Non-ASCII spaces end an address like ASCII ones do. */
function isUnicodeSpace(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200b) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function isNonAsciiWordChar(c: number): boolean {
  return c >= 0x80 && !isUnicodeSpace(c);
}

function isLocalChar(c: number): boolean {
  return isAsciiAlnum(c) || c === DOT || c === 0x5f /* _ */ || c === 0x25 /* % */ || c === 0x2b /* + */ ||
    c === 0x2d /* - */ || isNonAsciiWordChar(c);
}

function isDomainChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 0x2d /* - */ || isNonAsciiWordChar(c);
}

/** Where the local part that ends at `at` starts (no earlier than `floor`); `at` when there is none. */
function localStart(text: string, at: number, floor: number): number {
  let s = at;
  while (s > floor && isLocalChar(text.charCodeAt(s - 1))) s--;
  // `\nuser@x.org` in JSON text: the `n` belongs to the escape, not to the address.
  if (s < at && s > 0 && text.charCodeAt(s - 1) === 0x5c && isEscapingBackslash(text, s - 1)) s++;
  while (s < at && text.charCodeAt(s) === DOT) s++;
  return s;
}

function isTopLevelLabel(text: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  for (let k = start; k < end; k++) if (!isDigit(text.charCodeAt(k))) return true;
  return false;
}

/** Where the domain that starts after the '@' at `at` ends, or -1 when it is not a domain. */
function domainEnd(text: string, at: number): number {
  const n = text.length;
  let best = -1;
  let labels = 0;
  let i = at + 1;
  for (;;) {
    const labelStart = i;
    while (i < n && isDomainChar(text.charCodeAt(i))) i++;
    if (i === labelStart) return best;
    labels++;
    if (labels >= 2 && isTopLevelLabel(text, labelStart, i)) best = i;
    if (i + 1 < n && text.charCodeAt(i) === DOT && isDomainChar(text.charCodeAt(i + 1))) i++;
    else return best;
  }
}

export function findEmails(text: string): readonly Span[] {
  let spans: Span[] | undefined;
  let floor = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    const start = localStart(text, at, floor);
    const end = start < at ? domainEnd(text, at) : -1;
    if (end !== -1) {
      (spans ??= []).push({ start, end });
      floor = end;
    }
    at = text.indexOf('@', Math.max(at + 1, floor));
  }
  return spans ?? NO_SPANS;
}

export const email: Detector = {
  name: 'email',
  minLength: 6, // a@b.co
  mayMatch: (flags) => (flags & HAS_AT) !== 0,
  find: findEmails,
};
