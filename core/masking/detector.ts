import type { Span } from './span.ts';

/**
 * A value detector: a scanner that finds every match in a text, plus what a text must contain for a match to be
 * possible. The masker asks the cheap questions first (length, then the one-pass features, then `mayMatchBytes`)
 * and runs `find` only when all of them say yes.
 */
export interface Detector {
  /** The name used in a ProtectedResource's `classifications[].detectors`. */
  readonly name: string;
  /** The shortest text, in UTF-16 code units, that can hold a match (a UTF-8 buffer is never shorter). */
  readonly minLength: number;
  /** false when text with these features (see features.ts) cannot hold a match. */
  mayMatch(flags: number, digits: number): boolean;
  /**
   * Optional finer check on the UTF-8 bytes [start, end) of `buf`, run only when `mayMatch` said yes, to avoid
   * decoding a cell that cannot match. It must never reject bytes whose decoded text `find` would match, and it
   * never looks outside the range (a cell is usually a slice of a larger protocol message).
   */
  mayMatchBytes?(buf: Uint8Array, start: number, end: number): boolean;
  /** Every match, in order, not overlapping. */
  find(text: string): readonly Span[];
}
