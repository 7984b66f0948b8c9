// Helpers for the masking tests (not used by the product).

import type { Span } from './span.ts';

/** The matched parts of `text`, so a table reads as the values a detector finds. */
export function matched(find: (text: string) => readonly Span[], text: string): string[] {
  return find(text).map((s) => text.slice(s.start, s.end));
}

/**
 * The work `run` does on strings, counted without touching the product code: every `charCodeAt` is one step, and
 * the native searches and copies the scanners use count the characters they pass over. The scanners reach
 * characters only through these methods (never `text[i]` or a regular expression), so the count is their cost.
 */
export function countSteps(run: () => void): number {
  const proto = String.prototype;
  const original = { charCodeAt: proto.charCodeAt, indexOf: proto.indexOf, startsWith: proto.startsWith, slice: proto.slice };
  let steps = 0;
  proto.charCodeAt = function (this: string, index: number): number {
    steps++;
    return original.charCodeAt.call(this, index);
  };
  proto.indexOf = function (this: string, search: string, position?: number): number {
    const found = original.indexOf.call(this, search, position);
    steps += (found === -1 ? this.length : found + search.length) - (position ?? 0) + 1;
    return found;
  };
  proto.startsWith = function (this: string, search: string, position?: number): boolean {
    steps += search.length;
    return original.startsWith.call(this, search, position);
  };
  proto.slice = function (this: string, start?: number, end?: number): string {
    const part = original.slice.call(this, start, end);
    steps += part.length + 1;
    return part;
  };
  try {
    run();
  } finally {
    Object.assign(proto, original);
  }
  return steps;
}

/** The reference Luhn check, written independently of the detector's two-sum version. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The reference mod-97 check, with BigInt, written independently of the detector's incremental one. */
export function ibanValid(iban: string): boolean {
  const compact = iban.replaceAll(' ', '');
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let digits = '';
  for (const ch of rearranged) digits += /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
  return BigInt(digits) % 97n === 1n;
}

/** A small seeded generator, so property tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
