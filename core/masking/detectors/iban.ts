// International Bank Account Numbers (ISO 13616): a two-letter country code, two check digits and up to 30
// upper-case letters or digits (15–34 characters in all), written either compact or in groups of four separated by
// single spaces; valid when the mod-97 check (ISO 7064) gives 1. Country codes and BBAN letters are upper case, as
// the standard writes them. A match is a whole word: not preceded or followed by a letter or digit.

import { alnumBefore, isAsciiAlnum, isDigit, isUpper, isUpperOrDigit } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_UPPER_DIGIT } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const MIN_LENGTH = 15;
const MAX_BBAN = 30;
const SPACE = 0x20;

/** A letter's value in the mod-97 number: A = 10 … Z = 35. */
function letterValue(c: number): number {
  return c - 0x41 + 10;
}

/** The remainder mod 97 of the number so far followed by character `c`'s digits. */
function extend(remainder: number, c: number): number {
  return isDigit(c) ? (remainder * 10 + (c - 0x30)) % 97 : (remainder * 100 + letterValue(c)) % 97;
}

/** true when `text` at `i` reads country code + check digits: two upper-case letters, two digits. */
function headAt(text: string, i: number): boolean {
  return isUpper(text.charCodeAt(i)) && isUpper(text.charCodeAt(i + 1)) &&
    isDigit(text.charCodeAt(i + 2)) && isDigit(text.charCodeAt(i + 3));
}

/**
 * Where the IBAN that starts at `start` ends, or -1. The check moves the first four characters to the end, so the
 * BBAN's remainder is computed as it is read and, at every place the IBAN could end, the head's six digits
 * (two per letter, then the check digits) are appended in O(1).
 */
function ibanEndFrom(text: string, start: number): number {
  const n = text.length;
  const head = letterValue(text.charCodeAt(start)) * 10_000 + letterValue(text.charCodeAt(start + 1)) * 100 +
    (text.charCodeAt(start + 2) - 0x30) * 10 + (text.charCodeAt(start + 3) - 0x30);
  const grouped = text.charCodeAt(start + 4) === SPACE && isUpperOrDigit(text.charCodeAt(start + 5));
  let remainder = 0;
  let bban = 0;
  let best = -1;
  let i = grouped ? start + 5 : start + 4;
  for (;;) {
    const groupStart = i;
    while (i < n && isUpperOrDigit(text.charCodeAt(i)) && (!grouped || i - groupStart < 4)) {
      remainder = extend(remainder, text.charCodeAt(i));
      bban++;
      if (bban > MAX_BBAN) return best;
      i++;
    }
    const endsWord = i >= n || !isAsciiAlnum(text.charCodeAt(i));
    if (!endsWord) return best; // a longer word, or a group longer than four
    if (4 + bban >= MIN_LENGTH && (remainder * 1_000_000 + head) % 97 === 1) best = i;
    // Groups continue after a full group of four, one space, and another letter or digit.
    if (grouped && i - groupStart === 4 && text.charCodeAt(i) === SPACE && isUpperOrDigit(text.charCodeAt(i + 1))) i++;
    else return best;
  }
}

export function findIbans(text: string): readonly Span[] {
  const n = text.length - 3;
  let spans: Span[] | undefined;
  let i = 0;
  while (i < n) {
    if (headAt(text, i) && !alnumBefore(text, i)) {
      const end = ibanEndFrom(text, i);
      if (end !== -1) {
        (spans ??= []).push({ start: i, end });
        i = end;
        continue;
      }
    }
    i++;
  }
  return spans ?? NO_SPANS;
}

/** Bytes can hold an IBAN only if two upper-case letters are followed by two digits somewhere. */
function hasIbanHead(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end - 3; i++) {
    if (isUpper(buf[i]!) && isUpper(buf[i + 1]!) && isDigit(buf[i + 2]!) && isDigit(buf[i + 3]!)) return true;
  }
  return false;
}

export const iban: Detector = {
  name: 'iban',
  minLength: MIN_LENGTH,
  mayMatch: (flags, digits) => (flags & HAS_UPPER_DIGIT) !== 0 && digits >= 2,
  mayMatchBytes: hasIbanHead,
  find: findIbans,
};
