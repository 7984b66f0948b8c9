// What the sidecar expects back from the server, in order. PostgreSQL answers strictly in request order, so a FIFO
// of expectations tells which request every backend message belongs to: which result set a RowDescription opens,
// which Describe answer the sidecar injected (and must swallow), where a denied command's substituted error goes,
// and where the server stops skipping after an error (the next Sync).
import type { CommandContext } from './command-context.ts';

export type Expectation =
  | { readonly k: 'parse' }
  | { readonly k: 'bind' }
  | { readonly k: 'close' }
  /** Describe of a statement: ParameterDescription, then RowDescription or NoData. */
  | { readonly k: 'describe-statement' }
  /** Describe of a portal: RowDescription or NoData; `swallow` when the sidecar added it to learn the columns. */
  | { readonly k: 'describe-portal'; readonly portal: string; readonly swallow: boolean }
  | { readonly k: 'execute'; readonly portal: string; readonly command: CommandContext }
  /** A simple Query: any number of result sets, then ReadyForQuery. */
  | { readonly k: 'query'; readonly command: CommandContext }
  /** The error of the statement sent to fail in place of a denied command: replaced by the denial. */
  | { readonly k: 'poison'; readonly error: Buffer }
  | { readonly k: 'sync' };

/** The answers that carry no data of their own are shared constants: nothing allocated per message. */
export const expectParse: Expectation = Object.freeze({ k: 'parse' });
export const expectBind: Expectation = Object.freeze({ k: 'bind' });
export const expectClose: Expectation = Object.freeze({ k: 'close' });
export const expectDescribeStatement: Expectation = Object.freeze({ k: 'describe-statement' });
export const expectSync: Expectation = Object.freeze({ k: 'sync' });

/** A small ring-free FIFO: pushes at the tail, shifts at the head, compacts occasionally. */
export class ExpectationQueue {
  #items: Expectation[] = [];
  #head = 0;

  push(e: Expectation): void {
    this.#items.push(e);
  }

  get head(): Expectation | undefined {
    return this.#items[this.#head];
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  shift(): Expectation | undefined {
    const e = this.#items[this.#head];
    if (e === undefined) return undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      // Empty again (the usual case after each round trip): reuse the array.
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return e;
  }

  /** The first Execute of `portal` still expected. */
  findExecute(portal: string): Extract<Expectation, { k: 'execute' }> | undefined {
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i]!;
      if (e.k === 'execute' && e.portal === portal) return e;
    }
    return undefined;
  }

  find(pred: (e: Expectation) => boolean): Expectation | undefined {
    for (let i = this.#head; i < this.#items.length; i++) if (pred(this.#items[i]!)) return this.#items[i];
    return undefined;
  }

  /** After an error in the extended protocol the server skips to the next Sync: drop what it will not answer. */
  dropUntilSync(): boolean {
    for (;;) {
      const e = this.head;
      if (e === undefined) return false;
      if (e.k === 'sync') return true;
      this.shift();
    }
  }
}
