// AWS access key IDs: AKIA (long-term), ASIA (temporary), ABIA and ACCA prefixes, then 16 upper-case letters or
// digits — 20 characters that are not part of a longer run of upper-case letters and digits.

import { escapeEndsAt, isUpperOrDigit } from '../char-classes.ts';
import type { Detector } from '../detector.ts';
import { HAS_A_KEY_PREFIX } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const LENGTH = 20;
const A = 0x41;
const B = 0x42;
const C = 0x43;
const I = 0x49;
const K = 0x4b;
const S = 0x53;

/** true when the three characters after an 'A' complete one of the prefixes: KIA, SIA, BIA, CCA. */
function prefixRest(c1: number, c2: number, c3: number): boolean {
  if (c3 !== A) return false;
  return ((c1 === K || c1 === S || c1 === B) && c2 === I) || (c1 === C && c2 === C);
}

function keyAt(text: string, a: number): boolean {
  if (!prefixRest(text.charCodeAt(a + 1), text.charCodeAt(a + 2), text.charCodeAt(a + 3))) return false;
  for (let k = a + 4; k < a + LENGTH; k++) if (!isUpperOrDigit(text.charCodeAt(k))) return false;
  if (isUpperOrDigit(text.charCodeAt(a + LENGTH))) return false;
  return a === 0 || !isUpperOrDigit(text.charCodeAt(a - 1)) || escapeEndsAt(text, a);
}

export function findAwsAccessKeys(text: string): readonly Span[] {
  let spans: Span[] | undefined;
  let a = text.indexOf('A');
  while (a !== -1) {
    if (keyAt(text, a)) {
      (spans ??= []).push({ start: a, end: a + LENGTH });
      a = text.indexOf('A', a + LENGTH);
    } else {
      a = text.indexOf('A', a + 1);
    }
  }
  return spans ?? NO_SPANS;
}

function hasKeyPrefix(buf: Uint8Array, start: number, end: number): boolean {
  for (let a = start; a + LENGTH <= end; a++) {
    if (buf[a] === A && prefixRest(buf[a + 1]!, buf[a + 2]!, buf[a + 3]!)) return true;
  }
  return false;
}

export const awsAccessKey: Detector = {
  name: 'aws-access-key',
  minLength: LENGTH,
  mayMatch: (flags) => (flags & HAS_A_KEY_PREFIX) !== 0,
  mayMatchBytes: hasKeyPrefix,
  find: findAwsAccessKeys,
};
