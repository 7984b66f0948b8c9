// Prometheus metrics for the webhooks: latency per webhook and decisions per webhook and outcome. Wire the returned
// callback into webhookRouter's onReview.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ReviewEvent } from './routes.ts';

export function webhookMetrics(registry: Registry): (event: ReviewEvent) => void {
  const latency = new Histogram({
    name: 'portcullis_webhook_duration_seconds',
    help: 'Time to answer an admission review, by webhook.',
    labelNames: ['webhook'] as const,
    // Admission sits on every pod create: the interesting range is well under the 50 ms target.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'portcullis_webhook_decisions_total',
    help: 'Admission reviews answered, by webhook and decision (allowed, mutated, denied, bad-request, error).',
    labelNames: ['webhook', 'decision'] as const,
    registers: [registry],
  });
  return (event) => {
    latency.observe({ webhook: event.webhook }, event.durationMs / 1000);
    decisions.inc({ webhook: event.webhook, decision: event.decision });
  };
}
