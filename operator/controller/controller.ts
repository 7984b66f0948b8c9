// Runs one reconciler: a work queue fed by informer events, N workers, retries with back-off, metrics. Work happens
// only while this replica leads: each leadership term gets a fresh queue seeded with every known object (so nothing
// that changed while another replica led — or while nobody did — is missed), and losing the lease drains it.
import type { Logger } from 'pino';
import type { OperatorMetrics } from '../metrics.ts';
import { WorkQueue, type QueueOptions } from './queue.ts';
import type { Reconciler } from './types.ts';

export interface ControllerOptions {
  readonly name: string;
  readonly reconciler: Reconciler;
  /** Every key the controller is responsible for (used to seed a leadership term and for periodic resync). */
  readonly keys: () => Iterable<string>;
  readonly workers?: number;
  readonly log: Logger;
  readonly metrics?: OperatorMetrics;
  readonly queue?: QueueOptions;
}

export class Controller {
  readonly #o: ControllerOptions;
  #queue: WorkQueue | undefined;
  #workers: Promise<void>[] = [];

  constructor(opts: ControllerOptions) {
    this.#o = opts;
  }

  get name(): string {
    return this.#o.name;
  }

  get active(): boolean {
    return this.#queue !== undefined;
  }

  /** Queue depth now (0 when not leading). */
  get depth(): number {
    return this.#queue?.length ?? 0;
  }

  enqueue(key: string): void {
    if (!this.#queue) return;
    this.#queue.add(key);
    this.#o.metrics?.queueDepth.set({ controller: this.#o.name }, this.#queue.length);
  }

  resync(): void {
    for (const k of this.#o.keys()) this.enqueue(k);
  }

  /** Starts a leadership term. */
  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(this.#o.queue);
    this.#queue = queue;
    this.resync();
    const n = this.#o.workers ?? 2;
    this.#workers = Array.from({ length: n }, () => this.#work(queue));
  }

  /** Ends the term: no new work is taken; resolves when the running reconciles have finished. */
  async stop(): Promise<void> {
    const queue = this.#queue;
    if (!queue) return;
    this.#queue = undefined;
    await queue.shutDown();
    await Promise.all(this.#workers);
    this.#workers = [];
    this.#o.metrics?.queueDepth.set({ controller: this.#o.name }, 0);
  }

  async #work(queue: WorkQueue): Promise<void> {
    const { name, reconciler, log, metrics } = this.#o;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      metrics?.queueDepth.set({ controller: name }, queue.length);
      const end = metrics?.reconcileSeconds.startTimer({ controller: name });
      try {
        const result = await reconciler.reconcile(key);
        queue.forget(key);
        metrics?.reconciles.inc({ controller: name, result: 'success' });
        if (result && result.requeueAfterMs > 0) queue.addAfter(key, result.requeueAfterMs);
      } catch (e) {
        const delay = queue.addRateLimited(key);
        const err = e as Error & { status?: number };
        const conflict = err.status === 409;
        metrics?.reconciles.inc({ controller: name, result: conflict ? 'conflict' : 'error' });
        // A conflict only means our cache was behind: expected, retried, not worth a warning.
        log[conflict ? 'debug' : 'warn']({ controller: name, key, err: err.message, retryInMs: delay, failures: queue.failures(key) }, 'reconcile failed; will retry');
      } finally {
        end?.();
        queue.done(key);
      }
    }
  }
}
