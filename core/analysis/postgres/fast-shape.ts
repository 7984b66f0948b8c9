// A cheap index to the decision cache's shape level, never a substitute for the parser. The shape level is keyed by
// the real parser's normalisation (normalize.ts, ≈ 10–25 µs a statement); this scanner (≈ 1 µs) recognises a small,
// deliberately conservative subset of PostgreSQL's lexical grammar and says "don't know" (undefined) for everything
// else. Inside that subset it finds the constant tokens: unsigned integers of at most 9 digits (always ICONST, never
// FCONST) and plain '…' strings (SCONST, '' the only escape). Its key is the text with those tokens replaced by a
// marker, everything else byte for byte. Two texts with the same key lex to the same token sequence apart from those
// constants' values, so the parser builds the same tree for both apart from the values, and their normalisations are
// equal. The key is trusted only after the real normalisation of one statement with that key placed its placeholders
// exactly on this scanner's spans (`matches`); see sql-decider.ts for how the cache uses it.
//
// Bails (undefined) on: text over 8 KiB; any character ≥ 0x80, DEL, or a control character other than \t \n \r
// (so no NUL: the key's markers cannot be forged), inside strings too; `$` (parameters, dollar quotes, `$` inside
// identifiers), `\` and `;` anywhere, except one trailing `;` followed only by whitespace; outside strings `"` (quoted
// identifiers), `--` and `/*` (comments); a digit run that is longer than 9 digits, preceded by `.` or followed by `.`
// or an identifier character (1.5, .5, 1e5, 0x1F, 1_000, 123abc); a quote preceded by an identifier character or `&`
// (E'', B'', X'', N'', U&'' and typed-literal forms without a space) or followed by an identifier character; a string
// unterminated or followed (after whitespace) by another quote (PostgreSQL concatenates such strings); no constant.
// Identifiers ([A-Za-z_][A-Za-z0-9_]*) are consumed whole, so digits inside them are never constants.

/** Longest text scanned: longer statements are rare and the saving is per statement, not per byte. */
const maxLength = 8 * 1024;
/** Digits of the longest integer taken as a constant: 999 999 999 < 2^31, so PostgreSQL lexes it as ICONST. */
const maxDigits = 9;

const NUMBER = 0;
const STRING = 1;

// Character classes of the ASCII range (everything ≥ 0x80 bails).
const OTHER = 0; // kept verbatim: space, punctuation, operators
const IDENT = 1; // A-Z a-z _
const DIGIT = 2;
const QUOTE = 3;
const BAIL = 4; // control characters other than \t \n \r, DEL, and " $ ; \
const DASH_OR_SLASH = 5; // - and /: a comment if doubled or followed by *
const classes = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) classes[c] = BAIL;
classes[9] = classes[10] = classes[13] = OTHER;
classes[0x7f] = BAIL;
for (let c = 65; c <= 90; c++) classes[c] = classes[c + 32] = IDENT;
classes[95] = IDENT;
for (let c = 48; c <= 57; c++) classes[c] = DIGIT;
classes[39] = QUOTE;
classes[34] = classes[36] = classes[59] = classes[92] = BAIL;
classes[45] = classes[47] = DASH_OR_SLASH;

const classOf = (c: number) => (c < 128 ? classes[c]! : BAIL);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentChar = (c: number) => c < 128 && (classes[c] === IDENT || classes[c] === DIGIT);
/** Whitespace the scanner accepts (PostgreSQL's \f and \v are bailed on as control characters). */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** What the scanner found in one statement: the cache key, and the spans it replaced (for `matches`). */
export class FastShape {
  /** The text with every constant replaced by NUL + `n` (integer) or NUL + `s` (string); the rest verbatim. */
  readonly key: string;
  readonly #text: string;
  /** start, end, kind for each constant, in text order. */
  readonly #spans: readonly number[];

  constructor(key: string, text: string, spans: readonly number[]) {
    this.key = key;
    this.#text = text;
    this.#spans = spans;
  }

  /** The text with the constants replaced by $1, $2, … in text order (what normalizeSync gives for simple statements). */
  get normalized(): string {
    let out = '';
    let from = 0;
    for (let j = 0; j < this.#spans.length; j += 3) {
      out += `${this.#text.slice(from, this.#spans[j])}$${j / 3 + 1}`;
      from = this.#spans[j + 1]!;
    }
    return out + this.#text.slice(from);
  }

  /**
   * Whether `shape`, the real parser's normalisation of this very text, replaced exactly this scanner's constants:
   * the text between placeholders must be the text between this scanner's spans, byte for byte, and the placeholder
   * numbers must be 1..n, each once (the parser numbers in tree order, e.g. OFFSET before LIMIT, a CTE after the main
   * query). One allowance: a `-` directly before an integer may be inside the placeholder (the grammar folds a unary
   * minus into the constant, `= -5` → `= $1`); the `-` is part of the key, so every text with this key has it.
   * Since the text holds no `$`, every `$` in `shape` is a placeholder; since no span is followed by a digit, the
   * placeholder numbers parse unambiguously.
   */
  matches(shape: string): boolean {
    const t = this.#text;
    const spans = this.#spans;
    const n = spans.length / 3;
    const seen = new Uint8Array(n + 1);
    let pos = 0;
    let from = 0;
    for (let j = 0; j < spans.length; j += 3) {
      const start = spans[j]!;
      const before = t.slice(from, start);
      if (shape.startsWith(`${before}$`, pos)) pos += before.length + 1;
      else if (spans[j + 2] === NUMBER && before.endsWith('-') && shape.startsWith(`${before.slice(0, -1)}$`, pos)) pos += before.length;
      else return false;
      const digits = pos;
      let num = 0;
      while (pos < shape.length && isDigit(shape.charCodeAt(pos)) && pos - digits < 6) num = num * 10 + shape.charCodeAt(pos++) - 48;
      if (pos === digits || shape.charCodeAt(digits) === 48 || num > n || seen[num] === 1) return false;
      seen[num] = 1;
      from = spans[j + 1]!;
    }
    return shape.length - pos === t.length - from && shape.endsWith(t.slice(from));
  }
}

/** The scanner's key for `sql`, or undefined when the text is outside the subset it understands or has no constant. */
export function fastShape(sql: string): FastShape | undefined {
  const n = sql.length;
  if (n > maxLength) return undefined;
  // One trailing `;` (and whitespace around it) is left out of the scan and kept verbatim in the key.
  let end = n;
  while (end > 0 && isSpace(sql.charCodeAt(end - 1))) end--;
  if (end > 0 && sql.charCodeAt(end - 1) === 59) end--;
  const spans: number[] = [];
  let i = 0;
  while (i < end) {
    const c = sql.charCodeAt(i);
    switch (classOf(c)) {
      case OTHER:
        i++;
        continue;
      case IDENT:
        i++;
        while (i < end && isIdentChar(sql.charCodeAt(i))) i++;
        continue;
      case DIGIT: {
        // Identifiers are consumed whole, so the previous character is not an identifier character; `$` bails.
        if (i > 0 && sql.charCodeAt(i - 1) === 46) return undefined;
        let j = i + 1;
        while (j < end && isDigit(sql.charCodeAt(j))) j++;
        if (j - i > maxDigits) return undefined;
        const next = j < n ? sql.charCodeAt(j) : 32;
        if (isIdentChar(next) || next === 46) return undefined;
        spans.push(i, j, NUMBER);
        i = j;
        continue;
      }
      case QUOTE: {
        if (i > 0) {
          const prev = sql.charCodeAt(i - 1);
          if (isIdentChar(prev) || prev === 38) return undefined;
        }
        let j = i + 1;
        for (;;) {
          if (j >= end) return undefined;
          const d = sql.charCodeAt(j);
          if (d === 39) {
            if (j + 1 < end && sql.charCodeAt(j + 1) === 39) {
              j += 2;
              continue;
            }
            break;
          }
          if (classOf(d) === BAIL && d !== 34) return undefined; // ≥ 0x80, controls but \t \n \r, $ ; \ (" is fine)
          j++;
        }
        j++; // past the closing quote
        if (j < n && isIdentChar(sql.charCodeAt(j))) return undefined;
        let k = j;
        while (k < n && isSpace(sql.charCodeAt(k))) k++;
        if (k < n && sql.charCodeAt(k) === 39) return undefined;
        spans.push(i, j, STRING);
        i = j;
        continue;
      }
      case DASH_OR_SLASH: {
        const next = i + 1 < n ? sql.charCodeAt(i + 1) : 0;
        if (next === 45 ? c === 45 : next === 42 && c === 47) return undefined;
        i++;
        continue;
      }
      default:
        return undefined;
    }
  }
  if (spans.length === 0) return undefined;
  let key = '';
  let from = 0;
  for (let j = 0; j < spans.length; j += 3) {
    key += sql.slice(from, spans[j]) + (spans[j + 2] === NUMBER ? '\u0000n' : '\u0000s');
    from = spans[j + 1]!;
  }
  return new FastShape(key + sql.slice(from), sql, spans);
}
