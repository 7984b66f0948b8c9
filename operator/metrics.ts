// The operator's Prometheus metrics. Labels are bounded: controller names, results, HTTP routes and status classes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createOperatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_operator_' });
  return {
    registry,
    reconciles: new Counter({
      name: 'portcullis_operator_reconciles_total',
      help: 'Reconciles by controller and result (success, error, conflict).',
      labelNames: ['controller', 'result'] as const,
      registers: [registry],
    }),
    reconcileSeconds: new Histogram({
      name: 'portcullis_operator_reconcile_seconds',
      help: 'Time to reconcile one object.',
      labelNames: ['controller'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'portcullis_operator_queue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'] as const, registers: [registry] }),
    leader: new Gauge({ name: 'portcullis_operator_leader', help: '1 while this replica holds the leader Lease.', registers: [registry] }),
    bundleCompiles: new Counter({ name: 'portcullis_operator_bundle_compiles_total', help: 'Bundles compiled (cache misses).', registers: [registry] }),
    bundleRequests: new Counter({
      name: 'portcullis_operator_bundle_requests_total',
      help: 'Sidecar bundle requests by outcome (served, not_modified, denied, unavailable, error).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    bundleWaiters: new Gauge({ name: 'portcullis_operator_bundle_waiters', help: 'Sidecars waiting in a long poll.', registers: [registry] }),
    tokenReviews: new Counter({
      name: 'portcullis_operator_token_reviews_total',
      help: 'TokenReviews by result (authenticated, rejected, error, cached).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    jwksRefreshes: new Counter({ name: 'portcullis_operator_jwks_refreshes_total', help: 'Cluster issuer JWKS fetches by result.', labelNames: ['result'] as const, registers: [registry] }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
