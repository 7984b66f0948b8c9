// The one cheap pass every cell gets: which characters, and which pairs of adjacent characters, of interest occur,
// and how many ASCII digits. Each detector states what its matches need (13 digits for a card number, an '@' for an
// e-mail, 'e' then 'y' or 'w' for a JWT header …), so a cell that cannot hold any match is rejected after one
// table-driven loop, before it is decoded or scanned.
// Every character and pair in the table is ASCII. UTF-8 never uses bytes below 0x80 inside a multi-byte sequence,
// so ASCII pairs are adjacent in the bytes exactly when they are adjacent in the text, and the byte pass and the
// string pass (which folds every non-ASCII code unit to 0x80) produce the same answer for the same text.

export const HAS_DIGIT = 1;
export const HAS_AT = 2;
/** `+` followed by a digit other than 0: how an E.164 number starts. */
export const HAS_PLUS_DIGIT = 4;
/** A digit followed by `-`. */
export const HAS_DIGIT_DASH = 8;
/** An upper-case letter followed by a digit. */
export const HAS_UPPER_DIGIT = 16;
/** `e` followed by `y` or `w`: how the base64url of a JSON object starts. */
export const HAS_E_YW = 32;
/** `A` followed by `K`, `S`, `B` or `C`: how AWS access key IDs start. */
export const HAS_A_KEY_PREFIX = 64;
/** `-` followed by `B`: how `-----BEGIN` starts. */
export const HAS_DASH_B = 128;

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Indexed by (previous byte << 8) | byte: the flags the byte and the pair set. */
const TABLE = new Uint8Array(256 * 256);
for (let prev = 0; prev < 256; prev++) {
  for (let c = 0; c < 128; c++) {
    let flags = 0;
    if (isDigitCode(c)) flags |= HAS_DIGIT;
    if (c === 0x40) flags |= HAS_AT;
    if (prev === 0x2b && isDigitCode(c) && c !== 0x30) flags |= HAS_PLUS_DIGIT;
    if (isDigitCode(prev) && c === 0x2d) flags |= HAS_DIGIT_DASH;
    if (prev >= 0x41 && prev <= 0x5a && isDigitCode(c)) flags |= HAS_UPPER_DIGIT;
    if (prev === 0x65 && (c === 0x79 || c === 0x77)) flags |= HAS_E_YW;
    if (prev === 0x41 && (c === 0x4b || c === 0x53 || c === 0x42 || c === 0x43)) flags |= HAS_A_KEY_PREFIX;
    if (prev === 0x2d && c === 0x42) flags |= HAS_DASH_B;
    TABLE[(prev << 8) | c] = flags;
  }
}

/**
 * The features of the bytes [start, end) of a buffer, packed into one number so the hot path allocates nothing:
 * see {@link featureFlags} and {@link featureDigits}.
 */
export function bufferFeatures(buf: Uint8Array, start: number, end: number): number {
  let flags = 0;
  let digits = 0;
  let prev = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    const cls = TABLE[(prev << 8) | c]!;
    flags |= cls;
    digits += cls & HAS_DIGIT;
    prev = c;
  }
  return digits * 256 + flags;
}

/** {@link bufferFeatures} for a string. */
export function textFeatures(text: string): number {
  let flags = 0;
  let digits = 0;
  let prev = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c > 0x7f) c = 0x80;
    const cls = TABLE[(prev << 8) | c]!;
    flags |= cls;
    digits += cls & HAS_DIGIT;
    prev = c;
  }
  return digits * 256 + flags;
}

/** The HAS_* bits of packed features. */
export function featureFlags(packed: number): number {
  return packed % 256;
}

/** The number of ASCII digits of packed features. */
export function featureDigits(packed: number): number {
  return Math.floor(packed / 256);
}
