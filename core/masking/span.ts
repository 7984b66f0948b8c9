// A match of a detector: the UTF-16 code-unit range [start, end) of the text that holds the sensitive value.

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Returned by every detector that finds nothing, so the common case allocates no array. */
export const NO_SPANS: readonly Span[] = Object.freeze([]);
