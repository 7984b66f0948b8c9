// Payment card numbers: 13–19 digits, optionally written in groups separated by single spaces or dashes, that pass
// the Luhn check. A group is a maximal run of digits, so a match never starts or ends inside a longer digit run;
// a match may start at any group of a longer spaced sequence ("ref 12 4111 1111 1111 1111"), because text often
// puts numbers side by side.

import { isDigit } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_DIGIT } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

function isSeparator(c: number): boolean {
  return c === 0x20 /* space */ || c === 0x2d /* - */;
}

/** The Luhn contribution of digit `d` when it is doubled. */
function doubled(d: number): number {
  return d < 5 ? d * 2 : d * 2 - 9;
}

/**
 * Where the card number that starts at `start` (the first digit of a group) ends, or -1. Both Luhn sums are kept
 * while reading (doubling the even-indexed digits, or the odd-indexed ones) because which digits are doubled
 * depends on the length, known only at each group's end. The longest valid length wins.
 */
function cardEndFrom(text: string, start: number): number {
  const n = text.length;
  let sumDoublingEven = 0;
  let sumDoublingOdd = 0;
  let digits = 0;
  let best = -1;
  let i = start;
  for (;;) {
    let c = text.charCodeAt(i);
    while (i < n && isDigit(c)) {
      const d = c - 0x30;
      if (digits % 2 === 0) {
        sumDoublingEven += doubled(d);
        sumDoublingOdd += d;
      } else {
        sumDoublingEven += d;
        sumDoublingOdd += doubled(d);
      }
      digits++;
      if (digits > MAX_DIGITS) return best;
      c = text.charCodeAt(++i);
    }
    if (digits >= MIN_DIGITS) {
      // The last digit (index digits-1) is never doubled; the ones of the other parity are.
      const sum = (digits - 1) % 2 === 0 ? sumDoublingOdd : sumDoublingEven;
      if (sum % 10 === 0) best = i;
    }
    if (i + 1 < n && isSeparator(c) && isDigit(text.charCodeAt(i + 1))) i++;
    else return best;
  }
}

export function findCreditCards(text: string): readonly Span[] {
  const n = text.length;
  let spans: Span[] | undefined;
  let i = 0;
  while (i < n) {
    // Advance to the first digit of the next group (a digit not preceded by a digit).
    if (!isDigit(text.charCodeAt(i)) || (i > 0 && isDigit(text.charCodeAt(i - 1)))) {
      i++;
      continue;
    }
    const end = cardEndFrom(text, i);
    if (end !== -1) {
      (spans ??= []).push({ start: i, end });
      i = end;
      continue;
    }
    // No card starts at this group: skip its digits; the next group of the sequence is tried next.
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  return spans ?? NO_SPANS;
}

/** Bytes can hold a card only if they hold 13 digits in a row, single spaces or dashes between them allowed. */
function hasLongDigitSequence(buf: Uint8Array, start: number, end: number): boolean {
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (isDigit(c)) {
      if (++digits >= MIN_DIGITS) return true;
    } else if (!(digits > 0 && isSeparator(c) && i + 1 < end && isDigit(buf[i + 1]!))) {
      digits = 0;
    }
  }
  return false;
}

export const creditCard: Detector = {
  name: 'credit-card',
  minLength: MIN_DIGITS,
  mayMatch: (flags, digits) => (flags & HAS_DIGIT) !== 0 && digits >= MIN_DIGITS,
  mayMatchBytes: hasLongDigitSequence,
  find: findCreditCards,
};
