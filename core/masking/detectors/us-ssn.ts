// US Social Security numbers written `ddd-dd-dddd`, minus the numbers the SSA never issues: area 000, 666 or
// 900–999, group 00, serial 0000. A match is not part of a longer number: no digit right before or after it, and no
// `digit-` before or `-digit` after it (as in `1-555-12-3456`, a longer dashed number).

import { isDigit } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_DIGIT_DASH } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const DASH = 0x2d;
const LENGTH = 11;

function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let k = from; k < from + count; k++) {
    const c = text.charCodeAt(k);
    if (!isDigit(c)) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

function partOfLongerNumber(text: string, start: number, end: number): boolean {
  const before = text.charCodeAt(start - 1);
  const after = text.charCodeAt(end);
  return isDigit(before) || (before === DASH && isDigit(text.charCodeAt(start - 2))) ||
    isDigit(after) || (after === DASH && isDigit(text.charCodeAt(end + 1)));
}

/** The SSN whose first dash is at `dash`: true when it is well-formed, issued and stands alone. */
function ssnAt(text: string, dash: number): boolean {
  const start = dash - 3;
  if (start < 0 || text.charCodeAt(dash + 3) !== DASH) return false;
  const area = digitsAt(text, start, 3);
  const group = digitsAt(text, dash + 1, 2);
  const serial = digitsAt(text, dash + 4, 4);
  if (area <= 0 || group <= 0 || serial <= 0) return false; // not digits, or 000 / 00 / 0000
  if (area === 666 || area >= 900) return false;
  return !partOfLongerNumber(text, start, start + LENGTH);
}

export function findUsSsns(text: string): readonly Span[] {
  let spans: Span[] | undefined;
  let dash = text.indexOf('-', 3);
  while (dash !== -1) {
    if (ssnAt(text, dash)) {
      (spans ??= []).push({ start: dash - 3, end: dash + 8 });
      dash = text.indexOf('-', dash + 8);
    } else {
      dash = text.indexOf('-', dash + 1);
    }
  }
  return spans ?? NO_SPANS;
}

/** Bytes can hold an SSN only if they hold `ddd-dd-dddd`. */
function hasSsnShape(buf: Uint8Array, start: number, end: number): boolean {
  for (let dash = start + 3; dash + 8 <= end; dash++) {
    if (buf[dash] !== DASH || buf[dash + 3] !== DASH) continue;
    if (isDigit(buf[dash - 3]!) && isDigit(buf[dash - 2]!) && isDigit(buf[dash - 1]!) && isDigit(buf[dash + 1]!) &&
      isDigit(buf[dash + 2]!) && isDigit(buf[dash + 4]!) && isDigit(buf[dash + 5]!) && isDigit(buf[dash + 6]!) &&
      isDigit(buf[dash + 7]!)) return true;
  }
  return false;
}

export const usSsn: Detector = {
  name: 'us-ssn',
  minLength: LENGTH,
  mayMatch: (flags, digits) => (flags & HAS_DIGIT_DASH) !== 0 && digits >= 9,
  mayMatchBytes: hasSsnShape,
  find: findUsSsns,
};
