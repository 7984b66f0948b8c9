// PEM private keys: from `-----BEGIN <label>-----` where the label contains PRIVATE KEY (RSA, EC, DSA, OPENSSH,
// ENCRYPTED, PGP … BLOCK) through the matching `-----END <label>-----`. Without an END line the key runs to the end
// of the value — the end of the text, or the first `"` after the BEGIN line, because a PEM body never holds a quote
// and in `row_to_json`/`json_agg` output or an array literal the quote ends the string that holds the key. A key
// cut short is still a secret.

import type { Detector } from '../detector.ts';
import { HAS_DASH_B } from '../features.ts';
import { NO_SPANS, type Span } from '../span.ts';

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';
const LABEL = 'PRIVATE KEY';
/** Longer than any real label ("ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"); bounds the work per candidate. */
const MAX_LABEL = 64;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

/** Where the `-----` closing the label that starts at `from` is, or -1 (label too long, or none). */
function labelClose(text: string, from: number): number {
  const close = text.indexOf(DASHES, from);
  return close === -1 || close - from > MAX_LABEL ? -1 : close;
}

/** true when the label [from, close) contains PRIVATE KEY; the label is short, so this is bounded work. */
function isPrivateKeyLabel(text: string, from: number, close: number): boolean {
  for (let k = from; k + LABEL.length <= close; k++) if (text.startsWith(LABEL, k)) return true;
  return false;
}

/**
 * Finds the ends of keys. Searches only move forward and their results are remembered while still ahead, so many
 * BEGIN lines without an END cost one pass, not one pass each.
 */
class KeyEndFinder {
  private readonly text: string;
  private quote = -2; // -2: not searched yet
  private quoteEnd = 0;
  private endLine = -2;

  constructor(text: string) {
    this.text = text;
  }

  /** Where the value that holds `from` ends: before the first '"' at or after `from`, or at the text's end. */
  private valueEnd(from: number): number {
    if (this.quote === -2 || (this.quote !== -1 && this.quote < from)) {
      this.quote = this.text.indexOf('"', from);
      // Keep the backslashes of an escaped quote (`\"`) outside the span, so the escape still reads as written.
      let end = this.quote === -1 ? this.text.length : this.quote;
      while (end > from && this.text.charCodeAt(end - 1) === BACKSLASH) end--;
      this.quoteEnd = end;
    }
    return Math.max(from, this.quoteEnd);
  }

  private nextEndLine(from: number): number {
    if (this.endLine === -2 || (this.endLine !== -1 && this.endLine < from)) this.endLine = this.text.indexOf(END, from);
    return this.endLine;
  }

  /** Where the key whose BEGIN line ends at `from` ends. */
  keyEnd(from: number): number {
    const limit = this.valueEnd(from);
    for (let end = this.nextEndLine(from); end !== -1 && end < limit; end = this.nextEndLine(end + END.length)) {
      const labelStart = end + END.length;
      const close = labelClose(this.text, labelStart);
      if (close !== -1 && close + DASHES.length <= limit && isPrivateKeyLabel(this.text, labelStart, close)) {
        return close + DASHES.length;
      }
    }
    return limit;
  }
}

export function findPrivateKeys(text: string): readonly Span[] {
  let begin = text.indexOf(BEGIN);
  if (begin === -1) return NO_SPANS;
  const ends = new KeyEndFinder(text);
  let spans: Span[] | undefined;
  while (begin !== -1) {
    const labelStart = begin + BEGIN.length;
    const close = labelClose(text, labelStart);
    if (close !== -1 && isPrivateKeyLabel(text, labelStart, close)) {
      const end = ends.keyEnd(close + DASHES.length);
      (spans ??= []).push({ start: begin, end });
      begin = text.indexOf(BEGIN, end);
    } else {
      begin = text.indexOf(BEGIN, labelStart);
    }
  }
  return spans ?? NO_SPANS;
}

/** Bytes can hold a key only if they hold `-----BEGIN `. */
function hasBeginLine(buf: Uint8Array, start: number, end: number): boolean {
  const last = end - BEGIN.length;
  for (let i = start; i <= last; i++) {
    if (buf[i] !== DASH) continue;
    let k = 1;
    while (k < BEGIN.length && buf[i + k] === BEGIN.charCodeAt(k)) k++;
    if (k === BEGIN.length) return true;
  }
  return false;
}

export const privateKey: Detector = {
  name: 'private-key',
  minLength: BEGIN.length + LABEL.length + DASHES.length,
  mayMatch: (flags) => (flags & HAS_DASH_B) !== 0,
  mayMatchBytes: hasBeginLine,
  find: findPrivateKeys,
};
