// The one cheap pass every cell gets: which characters of interest occur, and how many ASCII digits.
// Each detector states what its matches need (e.g. 13 digits for a card number, an '@' for an e-mail), so a cell
// that cannot contain any match is rejected after one table-driven loop, before it is decoded or scanned.
// Bytes and UTF-16 code units agree on every character in the table (all ASCII; UTF-8 never uses bytes < 0x80
// inside a multi-byte sequence), so the byte pass and the string pass produce the same answer for the same text.

export const HAS_DIGIT = 1;
export const HAS_AT = 2;
export const HAS_PLUS = 4;
export const HAS_DASH = 8;
export const HAS_DOT = 16;
export const HAS_UPPER = 32;
export const HAS_LETTER_A = 64;

const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = HAS_DIGIT;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = HAS_UPPER;
CLASS[0x41] = HAS_UPPER | HAS_LETTER_A;
CLASS[0x40] = HAS_AT;
CLASS[0x2b] = HAS_PLUS;
CLASS[0x2d] = HAS_DASH;
CLASS[0x2e] = HAS_DOT;

/**
 * The features of the bytes [start, end) of a buffer, packed into one number so the hot path allocates nothing:
 * `flags` = `packed % 256` (HAS_* bits), `digits` = `Math.floor(packed / 256)`.
 */
export function bufferFeatures(buf: Uint8Array, start: number, end: number): number {
  let flags = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const cls = CLASS[buf[i]!]!;
    flags |= cls;
    digits += cls & HAS_DIGIT;
  }
  return digits * 256 + flags;
}

/** {@link bufferFeatures} for a string: code units ≥ 256 belong to no class, like the bytes of their UTF-8 form. */
export function textFeatures(text: string): number {
  let flags = 0;
  let digits = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) continue;
    const cls = CLASS[c]!;
    flags |= cls;
    digits += cls & HAS_DIGIT;
  }
  return digits * 256 + flags;
}

export function featureFlags(packed: number): number {
  return packed % 256;
}

export function featureDigits(packed: number): number {
  return Math.floor(packed / 256);
}
