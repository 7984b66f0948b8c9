// Test helpers for the controller: a manual clock whose timers fire only when the test advances time.
import type { Clock } from './queue.ts';

export class ManualClock implements Clock {
  #now = 0;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #nextId = 0;

  now(): number {
    return this.#now;
  }

  schedule(ms: number, fn: () => void): () => void {
    const id = this.#nextId++;
    this.#timers.push({ at: this.#now + ms, fn, id });
    return () => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    };
  }

  /** Pending timer delays from now, in firing order. */
  pending(): number[] {
    return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }
}
