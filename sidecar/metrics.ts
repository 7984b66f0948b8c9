// The sidecar's Prometheus metrics. Label values are bounded (resource, action, rule names come from the bundle),
// never statement text or subjects.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DeferredCounts, DeferredHistogram } from './deferred-metrics.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_sidecar_' });
  const decisionCounts = new DeferredCounts();
  return {
    registry,
    decisions: new Counter({
      name: 'portcullis_decisions_total',
      help: 'Commands decided, by resource, action and rule ("" when the default action or the analysis decided).',
      labelNames: ['resource', 'action', 'rule'] as const,
      registers: [registry],
      collect() {
        decisionCounts.flushInto(this);
      },
    }),
    /** The data path counts decisions here (see DeferredCounts); they reach `decisions` at each scrape. */
    decisionCounts,
    decideSeconds: new DeferredHistogram({
      name: 'portcullis_decide_seconds',
      help: 'Time to analyse and decide one command (cache hits included).',
      labelNames: ['resource'],
      buckets: [1e-6, 5e-6, 2e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 5e-3],
      registry,
    }),
    sessions: new Gauge({ name: 'portcullis_active_sessions', help: 'Open agent sessions.', labelNames: ['resource'] as const, registers: [registry] }),
    sessionsTotal: new Counter({ name: 'portcullis_sessions_total', help: 'Agent sessions by how authentication ended.', labelNames: ['resource', 'result'] as const, registers: [registry] }),
    masked: new Counter({ name: 'portcullis_masked_values_total', help: 'Values masked in responses.', labelNames: ['resource'] as const, registers: [registry] }),
    approvalWaitSeconds: new Histogram({
      name: 'portcullis_approval_wait_seconds',
      help: 'How long held commands waited for a decision.',
      labelNames: ['resource', 'outcome'] as const,
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    }),
    bytes: new Counter({ name: 'portcullis_bytes_total', help: 'Bytes relayed.', labelNames: ['resource', 'direction'] as const, registers: [registry] }),
    bundleLoads: new Counter({ name: 'portcullis_bundle_loads_total', help: 'Bundle (re)loads by result.', labelNames: ['result'] as const, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
