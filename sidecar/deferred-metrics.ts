// Metrics the data path updates on every command, kept in plain numbers and handed to Prometheus when scraped.
// prom-client validates and hashes the label set on every inc()/observe(), even through a bound child — on a cached
// decision that costs more than the decision. Here a child is bound to its label set once; counting is an addition.
import type { Counter, Registry } from 'prom-client';

interface CountCell {
  readonly labels: Record<string, string>;
  n: number;
  inc(): void;
}

/** Counts handed to a prom-client Counter at each scrape (from its collect() hook). */
export class DeferredCounts {
  readonly #cells = new Map<string, CountCell>();

  cell(labels: Record<string, string>): { inc(): void } {
    const key = JSON.stringify(labels);
    let c = this.#cells.get(key);
    if (c === undefined) {
      c = {
        labels,
        n: 0,
        inc() {
          this.n++;
        },
      };
      this.#cells.set(key, c);
    }
    return c;
  }

  /** Moves what was counted since the last scrape into `counter`. */
  flushInto(counter: Counter<string>): void {
    for (const c of this.#cells.values()) {
      if (c.n === 0) continue;
      counter.inc(c.labels, c.n);
      c.n = 0;
    }
  }
}

interface HistogramCell {
  readonly labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram registered with a prom-client registry, exposed exactly as prom-client's Histogram is
 * (same series, labels and values), whose bound children observe into plain arrays.
 */
export class DeferredHistogram {
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  readonly #buckets: readonly number[];
  readonly #cells = new Map<string, HistogramCell>();

  constructor(opts: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registry: Registry }) {
    this.name = opts.name;
    this.help = opts.help;
    this.#labelNames = opts.labelNames;
    this.#buckets = [...opts.buckets].sort((a, b) => a - b);
    // The registry only asks a metric for get()/reset(); prom-client types it as one of its own classes.
    opts.registry.registerMetric(this as unknown as Counter<string>);
  }

  /** A child bound to `labels` (every label name given): observe(seconds) is a bucket search and two additions. */
  labels(labels: Record<string, string>): { observe(v: number): void } {
    for (const n of this.#labelNames) if (labels[n] === undefined) throw new Error(`${this.name}: label ${n} missing`);
    const key = JSON.stringify(this.#labelNames.map((n) => labels[n]));
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = { labels: { ...labels }, counts: new Float64Array(this.#buckets.length + 1), sum: 0, count: 0 };
      this.#cells.set(key, cell);
    }
    const c = cell;
    const buckets = this.#buckets;
    return {
      observe(v: number): void {
        if (!Number.isFinite(v)) return;
        let i = 0;
        while (i < buckets.length && v > buckets[i]!) i++;
        c.counts[i]! += 1;
        c.sum += v;
        c.count++;
      },
    };
  }

  /** What prom-client's registry renders: cumulative buckets with `le`, then _sum and _count, per label set. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: Array<{ value: number; metricName: string; labels: Record<string, string | number> }>; aggregator: 'sum' }> {
    const values: Array<{ value: number; metricName: string; labels: Record<string, string | number> }> = [];
    for (const c of this.#cells.values()) {
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += c.counts[i]!;
        values.push({ value: cumulative, metricName: `${this.name}_bucket`, labels: { le, ...c.labels } });
      });
      cumulative += c.counts[this.#buckets.length]!;
      values.push({ value: cumulative, metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...c.labels } });
      values.push({ value: c.sum, metricName: `${this.name}_sum`, labels: { ...c.labels } });
      values.push({ value: c.count, metricName: `${this.name}_count`, labels: { ...c.labels } });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  reset(): void {
    for (const c of this.#cells.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
