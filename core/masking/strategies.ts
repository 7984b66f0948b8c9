// Masking strategies: what a classified value, or a detector's hit inside a longer text, is replaced with.

import { createHmac } from 'node:crypto';
import type { Span } from './span.ts';

export const MASKING_STRATEGIES = ['redact', 'last4', 'hash', 'null'] as const;
export type MaskingStrategy = (typeof MASKING_STRATEGIES)[number];

/** What `redact` returns, whatever the value: a fixed marker hides the value's length too. */
export const REDACTED_MARKER = '[REDACTED]';
/** What `last4` puts in place of each hidden character. */
export const LAST4_FILL = '*';
/** `hash` output: this prefix, then the base64url of the first HASH_BYTES bytes of HMAC-SHA256(key, value). */
export const HASH_PREFIX = 'hmac:';
/**
 * 128 bits. The hash only has to keep distinct values apart (so joins and GROUP BY on masked values stay correct)
 * and resist guessing without the key. A collision among 128-bit outputs is expected only after about 2^64 distinct
 * values, and an HMAC truncated to half its length keeps its strength against forgery and key recovery
 * (RFC 2104 §5 allows truncation to half the output); the shorter output keeps result rows small.
 */
export const HASH_BYTES = 16;
/** A shorter key would make the hash guessable; it is generated per installation (32 random bytes is typical). */
export const MIN_HASH_KEY_BYTES = 16;

/** Higher is more restrictive; where strategies meet (overlapping hits, pooled policies) the higher one wins. */
export const STRATEGY_RANK: Readonly<Record<MaskingStrategy, number>> = { last4: 0, hash: 1, redact: 2, null: 3 };

export function isMaskingStrategy(name: string): name is MaskingStrategy {
  return Object.hasOwn(STRATEGY_RANK, name);
}

export function stricterStrategy(a: MaskingStrategy, b: MaskingStrategy): MaskingStrategy {
  return STRATEGY_RANK[a] >= STRATEGY_RANK[b] ? a : b;
}

/** Throws on a key too short to keep hashes unguessable: better to refuse to start than to mask weakly. */
export function checkHashKey(hashKey: Buffer): void {
  if (hashKey.length < MIN_HASH_KEY_BYTES) {
    throw new Error(`masking hash key must be at least ${MIN_HASH_KEY_BYTES} bytes, got ${hashKey.length}`);
  }
}

export function hashValue(value: string, hashKey: Buffer): string {
  checkHashKey(hashKey);
  const mac = createHmac('sha256', hashKey).update(value, 'utf8').digest();
  return HASH_PREFIX + mac.toString('base64url', 0, HASH_BYTES);
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Every character but the last four replaced by `*`, counting code points (a surrogate pair is one character, and
 * never split). A value of four characters or fewer is replaced whole: showing "the last four" of it would show
 * all of it.
 */
export function lastFour(value: string): string {
  let cut = value.length;
  let kept = 0;
  while (cut > 0 && kept < 4) {
    cut--;
    if (cut > 0 && isLowSurrogate(value.charCodeAt(cut)) && isHighSurrogate(value.charCodeAt(cut - 1))) cut--;
    kept++;
  }
  if (cut === 0) return LAST4_FILL.repeat(kept);
  let hidden = 0;
  for (let i = 0; i < cut; i++) {
    if (isHighSurrogate(value.charCodeAt(i)) && i + 1 < cut && isLowSurrogate(value.charCodeAt(i + 1))) i++;
    hidden++;
  }
  return LAST4_FILL.repeat(hidden) + value.slice(cut);
}

/** A whole classified value, masked. `null` means the value is sent as SQL NULL. */
export function maskValue(strategy: MaskingStrategy, value: string, hashKey: Buffer): string | null {
  switch (strategy) {
    case 'redact':
      return REDACTED_MARKER;
    case 'last4':
      return lastFour(value);
    case 'hash':
      return hashValue(value, hashKey);
    case 'null':
      return null;
    default:
      // Unreachable for a checked strategy; an unknown one must not pass a value through.
      return REDACTED_MARKER;
  }
}

/**
 * A part of a longer text, masked. A part of a string cannot be NULL, so `null` redacts the part instead: the
 * strongest thing that can be done in place, and it still hides the value completely.
 */
export function maskFragment(strategy: MaskingStrategy, fragment: string, hashKey: Buffer): string {
  return maskValue(strategy, fragment, hashKey) ?? REDACTED_MARKER;
}

/**
 * `text` with every span masked with `strategy`; the rest is left as it was. Spans are expected sorted and apart
 * (the masker merges them); an overlapping one is clipped rather than trusted, so no part of a span is ever copied
 * in clear.
 */
export function maskSpans(text: string, spans: readonly Span[], strategy: MaskingStrategy, hashKey: Buffer): string {
  let out = '';
  let pos = 0;
  for (const span of spans) {
    const start = Math.max(pos, span.start);
    if (span.end <= start) continue;
    out += text.slice(pos, start) + maskFragment(strategy, text.slice(start, span.end), hashKey);
    pos = span.end;
  }
  return out + text.slice(pos);
}
