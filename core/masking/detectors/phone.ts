// Phone numbers in international (E.164) form only: `+`, a country code that does not start with 0, and 8–15
// digits in all, optionally split by single spaces, dashes or dots and one pair of parentheses
// (`+1 (415) 555-2671`, `+44 20 7946 0958`, `+4915112345678`). National forms are left alone on purpose: without the
// `+` nearly every number in a result would look like a phone number. The `+` must not follow a letter, digit or `+`
// (`1+2`, `x+49…`), and the number must not run into a letter or into more than 15 digits.

import { alnumBefore, isAsciiLetter, isDigit } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_PLUS_DIGIT } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const MIN_DIGITS = 8;
const MAX_DIGITS = 15;
const PLUS = 0x2b;
const OPEN = 0x28;
const CLOSE = 0x29;

function isSeparator(c: number): boolean {
  return c === 0x20 /* space */ || c === 0x2d /* - */ || c === 0x2e /* . */;
}

/**
 * How many characters after `i` form the separator between two digit runs (0 when there is none): a space, dash
 * or dot, a parenthesis, or a parenthesis and one of those, such as `) ` or ` (`. Parentheses must pair up, once.
 */
function separatorLength(text: string, i: number, parens: number): number {
  const a = text.charCodeAt(i);
  const b = text.charCodeAt(i + 1);
  if (isDigit(b)) {
    if (isSeparator(a)) return 1;
    if ((a === OPEN && parens === 0) || (a === CLOSE && parens === 1)) return 1;
    return 0;
  }
  if (!isDigit(text.charCodeAt(i + 2))) return 0;
  if (isSeparator(a) && b === OPEN && parens === 0) return 2;
  if (a === CLOSE && parens === 1 && isSeparator(b)) return 2;
  return 0;
}

/** Where the phone number whose `+` is at `plus` ends, or -1. */
function phoneEndFrom(text: string, plus: number): number {
  const n = text.length;
  let i = plus + 1;
  let c = text.charCodeAt(i);
  if (!isDigit(c) || c === 0x30) return -1;
  let digits = 0;
  let parens = 0;
  for (;;) {
    while (i < n && isDigit(text.charCodeAt(i))) {
      digits++;
      if (digits > MAX_DIGITS) return -1;
      i++;
    }
    const sep = separatorLength(text, i, parens);
    if (sep === 0) break;
    for (let k = i; k < i + sep; k++) {
      c = text.charCodeAt(k);
      if (c === OPEN) parens++;
      else if (c === CLOSE) parens--;
    }
    i += sep;
  }
  if (digits < MIN_DIGITS || parens !== 0) return -1;
  if (isAsciiLetter(text.charCodeAt(i))) return -1;
  return i;
}

export function findPhones(text: string): readonly Span[] {
  let spans: Span[] | undefined;
  let plus = text.indexOf('+');
  while (plus !== -1) {
    const standsAlone = !alnumBefore(text, plus) && text.charCodeAt(plus - 1) !== PLUS;
    const end = standsAlone ? phoneEndFrom(text, plus) : -1;
    if (end !== -1) {
      (spans ??= []).push({ start: plus, end });
      plus = text.indexOf('+', end);
    } else {
      plus = text.indexOf('+', plus + 1);
    }
  }
  return spans ?? NO_SPANS;
}

export const phone: Detector = {
  name: 'phone',
  minLength: 1 + MIN_DIGITS,
  // `+` and a digit other than 0 side by side, and enough digits: no finer check on the bytes is needed.
  mayMatch: (flags, digits) => (flags & HAS_PLUS_DIGIT) !== 0 && digits >= MIN_DIGITS,
  find: findPhones,
};
