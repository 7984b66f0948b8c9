// Character tests shared by the detectors. Everything works on UTF-16 code units from `charCodeAt` (never `text[i]`,
// which allocates a one-character string) and only ASCII counts as a digit or letter, exactly as the byte pre-filters
// see it, so a pre-filter can never reject what a scanner would find.

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

export function isLower(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

export function isAsciiLetter(c: number): boolean {
  return isUpper(c) || isLower(c);
}

export function isAsciiAlnum(c: number): boolean {
  return isDigit(c) || isAsciiLetter(c);
}

export function isUpperOrDigit(c: number): boolean {
  return isUpper(c) || isDigit(c);
}

export function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** The base64url alphabet (RFC 4648 §5): what JWT segments are made of. */
export function isBase64Url(c: number): boolean {
  return isAsciiAlnum(c) || c === 0x2d /* - */ || c === 0x5f /* _ */;
}

const BACKSLASH = 0x5c;

/** true when the backslash at `at` introduces an escape, i.e. it ends an odd run of backslashes. */
export function isEscapingBackslash(text: string, at: number): boolean {
  let run = 0;
  while (at - run >= 0 && text.charCodeAt(at - run) === BACKSLASH) run++;
  return run % 2 === 1;
}

/**
 * true when the characters just before `i` are a complete JSON (or C-style) escape such as `\n` or `\u001f`.
 * Detectors run over `row_to_json`/`json_agg` output, where a value that follows a newline reads `\n4111…` or
 * `\nDE89…`: the `n` is not part of a word, and treating it as one would let the value through in clear.
 */
export function escapeEndsAt(text: string, i: number): boolean {
  if (i >= 2 && text.charCodeAt(i - 2) === BACKSLASH && isEscapingBackslash(text, i - 2)) return true;
  if (i < 6 || text.charCodeAt(i - 5) !== 0x75 /* u */ || text.charCodeAt(i - 6) !== BACKSLASH) return false;
  for (let k = i - 4; k < i; k++) if (!isHexDigit(text.charCodeAt(k))) return false;
  return isEscapingBackslash(text, i - 6);
}

/** true when the character before `i` is an ASCII letter or digit that is not the tail of an escape sequence. */
export function alnumBefore(text: string, i: number): boolean {
  return i > 0 && isAsciiAlnum(text.charCodeAt(i - 1)) && !escapeEndsAt(text, i);
}

/** As {@link alnumBefore}, for the base64url alphabet (letters, digits, `-`, `_`). */
export function base64UrlBefore(text: string, i: number): boolean {
  return i > 0 && isBase64Url(text.charCodeAt(i - 1)) && !escapeEndsAt(text, i);
}
