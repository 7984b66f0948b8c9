// Parse + decide latency of the SQL path, cold (cache miss: libpg-query parse, tree walk, engine) and warm (cache
// hit), over realistic statements from ~40 B to ~4 KiB. Prints p50/p99 per size class. Run: make bench
import { compileBundle } from '../core/policy/compile.ts';
import { createEngine } from '../core/policy/engine.ts';
import { SqlDecider, objectId } from '../core/policy/sql-decider.ts';
import { analysePostgres, initPostgresParser } from '../core/analysis/postgres/analyse.ts';
import type { PgSessionState } from '../core/analysis/postgres/types.ts';
import { policy, resource } from '../core/policy/testing.ts';

await initPostgresParser();

const bundle = compileBundle('agents', [resource('orders-db', 'postgres')], [policy('support', {
  approval: { approvers: { groups: ['sre'] } },
  resources: [{ resource: 'orders-db', rules: [
    { name: 'reads', action: 'allow', sql: { statements: ['select', 'explain', 'transaction', 'show'] } },
    { name: 'order-writes', action: 'approve', sql: { statements: ['insert', 'update', 'delete'], tables: ['public.orders'] } },
    { name: 'no-unbounded-writes', action: 'deny', sql: { unboundedWrite: true } },
    { name: 'no-admin-functions', action: 'deny', sql: { functions: ['pg_terminate_backend', 'pg_cancel_backend', 'pg_read_file', 'lo_*', 'dblink*'] } },
  ] }],
})]);

const columns = (n: number) => Array.from({ length: n }, (_, i) => `c.col_${i} AS alias_${i}`).join(', ');
const classes: Array<[string, (i: number) => string]> = [
  ['~40 B', (i) => `SELECT * FROM orders WHERE id = ${i}`],
  ['~250 B', (i) => `SELECT o.id, o.total, c.name, c.email FROM public.orders o JOIN public.customers c ON c.id = o.customer_id WHERE o.created_at > now() - interval '7 days' AND o.status = 'open' AND o.id > ${i} ORDER BY o.created_at DESC LIMIT 50`],
  ['~1 KiB', (i) => `WITH recent AS (SELECT customer_id, sum(total) AS spent FROM public.orders WHERE created_at > now() - interval '30 days' GROUP BY customer_id HAVING sum(total) > ${i}) SELECT ${columns(18)}, r.spent FROM public.customers c JOIN recent r ON r.customer_id = c.id WHERE c.region IN ('eu', 'us') ORDER BY r.spent DESC LIMIT 100`],
  ['~4 KiB', (i) => `WITH recent AS (SELECT customer_id, sum(total) AS spent FROM public.orders WHERE created_at > now() - interval '30 days' GROUP BY customer_id HAVING sum(total) > ${i}) SELECT ${columns(90)}, r.spent FROM public.customers c JOIN recent r ON r.customer_id = c.id LEFT JOIN public.addresses a ON a.customer_id = c.id WHERE c.region IN ('eu', 'us') AND EXISTS (SELECT 1 FROM public.order_items oi WHERE oi.order_id IN (SELECT id FROM public.orders WHERE customer_id = c.id)) ORDER BY r.spent DESC LIMIT 100`],
];

const state: PgSessionState = { searchPath: ['$user', 'public'], prepared: new Map() };
const percentile = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const n = Number(process.env.BENCH_N ?? 2000);

console.log(`node ${process.version}, ${n} statements per class\n`);
console.log('| statement | bytes | cold p50 µs | cold p99 µs | warm p50 µs | warm p99 µs |');
console.log('|---|---|---|---|---|---|');
for (const [label, make] of classes) {
  const decider = new SqlDecider<PgSessionState>({
    engine: createEngine(bundle),
    resource: 'orders-db',
    analyse: (text, s) => analysePostgres(text, s),
    stateKey: (s) => `${s.searchPath.join(',')}|${objectId(s.prepared)}`,
  });
  const texts = Array.from({ length: n }, (_, i) => make(i + 1));
  for (let i = 0; i < 200; i++) decider.decide(make(-i - 1), state); // JIT warm-up on other texts
  const cold: number[] = [];
  for (const t of texts) {
    const s = process.hrtime.bigint();
    decider.decide(t, state);
    cold.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  const warm: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const t of texts) {
      // A fresh string, as from a socket: the cache must hash it, like in the sidecar.
      const fresh = ` ${t}`.slice(1);
      const s = process.hrtime.bigint();
      decider.decide(fresh, state);
      warm.push(Number(process.hrtime.bigint() - s) / 1000);
    }
  }
  cold.sort((a, b) => a - b);
  warm.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1);
  console.log(`| ${label} | ${texts[0]!.length} | ${f(percentile(cold, 50))} | ${f(percentile(cold, 99))} | ${f(percentile(warm, 50))} | ${f(percentile(warm, 99))} |`);
}
