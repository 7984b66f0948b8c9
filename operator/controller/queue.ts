// A work queue of object keys, in the manner of client-go's: a key is queued at most once however often it is added
// (de-duplication), is never processed by two workers at once (a key added while it is being processed is queued
// again when that processing ends, so the latest state is always seen), and a failed key comes back after an
// exponential, capped back-off. Shutdown stops taking new work and lets the running reconciles finish (drain).

export interface Clock {
  now(): number;
  /** Like setTimeout; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface QueueOptions {
  /** First retry delay, default 200 ms; doubled per consecutive failure of the key. */
  readonly baseDelayMs?: number;
  /** Retry delay cap, default 60 s. */
  readonly maxDelayMs?: number;
  readonly clock?: Clock;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  /** Added while processing: requeue when done. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, () => void>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #idleWaiters: Array<() => void> = [];
  readonly #base: number;
  readonly #max: number;
  readonly #clock: Clock;
  #shuttingDown = false;

  constructor(opts: QueueOptions = {}) {
    this.#base = opts.baseDelayMs ?? 200;
    this.#max = opts.maxDelayMs ?? 60_000;
    this.#clock = opts.clock ?? realClock;
  }

  /** Keys waiting to be processed (not counting those being processed or waiting out a back-off). */
  get length(): number {
    return this.#queue.length;
  }

  get processing(): number {
    return this.#processing.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string): void {
    if (this.#shuttingDown) return;
    // An explicit add supersedes a pending retry: the new state may well have fixed the cause.
    this.#delayed.get(key)?.();
    this.#delayed.delete(key);
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#queued.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#queue.push(key);
    }
  }

  /** Adds after `ms` (a later add or addAfter with a shorter delay wins). */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    if (this.#delayed.has(key) || this.#queued.has(key)) return;
    const cancel = this.#clock.schedule(ms, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, cancel);
  }

  /** Re-adds a failed key after its back-off (base · 2^(failures-1), capped). */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = Math.min(this.#max, this.#base * 2 ** Math.min(failures - 1, 30));
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears a key's failure count (call after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue shuts down. Every key got must be given to done(). */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) {
      if (this.#shuttingDown) this.#notifyIdle();
      else this.add(key);
      return;
    }
    this.#notifyIdle();
  }

  /**
   * Stops handing out work: waiting get() calls resolve undefined, queued and delayed keys are dropped (informers
   * resync them on the next start), and the returned promise resolves once every key being processed is done.
   */
  shutDown(): Promise<void> {
    this.#shuttingDown = true;
    for (const cancel of this.#delayed.values()) cancel();
    this.#delayed.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#notifyIdle();
    });
  }

  #notifyIdle(): void {
    if (!this.#shuttingDown || this.#processing.size > 0) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }
}
