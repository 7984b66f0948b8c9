// Forwarding many small messages as one write. Messages passed through unchanged usually lie back to back in the
// chunk the socket delivered; adjacent views of the same memory are merged into one view, so a result set of
// RowDescription, DataRows, CommandComplete and ReadyForQuery leaves as one write(2) of the bytes as they came —
// like a plain pipe — instead of one buffer per message. Rewritten messages break the run and are written in order.

export class CoalescingWriter {
  readonly #write: (b: Buffer) => void;
  #pending: Buffer | undefined;
  #start = 0;
  #end = 0;
  #scheduled = false;
  readonly #flushSoon = () => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(write: (b: Buffer) => void) {
    this.#write = write;
  }

  /** Queues `b`; it is written by flush() (the caller's, or a microtask's at the latest), in order. */
  add(b: Buffer): void {
    if (b.length === 0) return;
    if (this.#pending !== undefined && b.buffer === this.#pending.buffer && b.byteOffset === this.#end) {
      this.#end += b.length;
      return;
    }
    this.flush();
    this.#pending = b;
    this.#start = b.byteOffset;
    this.#end = b.byteOffset + b.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushSoon);
    }
  }

  flush(): void {
    const p = this.#pending;
    if (p === undefined) return;
    this.#pending = undefined;
    const len = this.#end - this.#start;
    this.#write(len === p.length && p.byteOffset === this.#start ? p : Buffer.from(p.buffer, this.#start, len));
  }
}
