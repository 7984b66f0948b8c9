// Parse + decide latency of the SQL path, cold (cache miss: libpg-query parse, tree walk, engine) and warm (cache
// hit), over realistic statements from ~40 B to ~4 KiB. Prints p50/p99 per size class. Run: make bench
import { compileBundle } from '../core/policy/compile.ts';
import { createEngine } from '../core/policy/engine.ts';
import { SqlDecider, objectId } from '../core/policy/sql-decider.ts';
import { analysePostgres, initPostgresParser } from '../core/analysis/postgres/analyse.ts';
import { normalizePostgres, reusableUnderNormalisation } from '../core/analysis/postgres/normalize.ts';
import { fastShape } from '../core/analysis/postgres/fast-shape.ts';
import type { PgAnalysis } from '../core/analysis/postgres/types.ts';
import type { PgSessionState } from '../core/analysis/postgres/types.ts';
import { policy, resource } from '../core/policy/testing.ts';
import { percentile } from './stats.ts';

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
// Each class: make(tag, i) — `i` is a constant; `tag` is an identifier (a new tag is a new statement shape).
const classes: Array<[string, (tag: string, i: number) => string]> = [
  ['~40 B', (t, i) => `SELECT * FROM orders ${t} WHERE id = ${i}`],
  ['~250 B', (t, i) => `SELECT ${t}.id, ${t}.total, c.name, c.email FROM public.orders ${t} JOIN public.customers c ON c.id = ${t}.customer_id WHERE ${t}.created_at > now() - interval '7 days' AND ${t}.status = 'open' AND ${t}.id > ${i} ORDER BY ${t}.created_at DESC LIMIT 50`],
  ['~1 KiB', (t, i) => `WITH ${t} AS (SELECT customer_id, sum(total) AS spent FROM public.orders WHERE created_at > now() - interval '30 days' GROUP BY customer_id HAVING sum(total) > ${i}) SELECT ${columns(18)}, r.spent FROM public.customers c JOIN ${t} r ON r.customer_id = c.id WHERE c.region IN ('eu', 'us') ORDER BY r.spent DESC LIMIT 100`],
  ['~4 KiB', (t, i) => `WITH ${t} AS (SELECT customer_id, sum(total) AS spent FROM public.orders WHERE created_at > now() - interval '30 days' GROUP BY customer_id HAVING sum(total) > ${i}) SELECT ${columns(90)}, r.spent FROM public.customers c JOIN ${t} r ON r.customer_id = c.id LEFT JOIN public.addresses a ON a.customer_id = c.id WHERE c.region IN ('eu', 'us') AND EXISTS (SELECT 1 FROM public.order_items oi WHERE oi.order_id IN (SELECT id FROM public.orders WHERE customer_id = c.id)) ORDER BY r.spent DESC LIMIT 100`],
];

// A session's state after its first statement (the tracker returns the same object while nothing changes).
const state: PgSessionState = analysePostgres('SELECT 1', { searchPath: ['$user', 'public'], prepared: new Map() }).stateAfter;
const n = Number(process.env.BENCH_N ?? 2000);
const f = (x: number) => x.toFixed(1);
const time = (fn: () => void) => {
  const s = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - s) / 1000;
};
const stats = (xs: number[]) => {
  xs.sort((a, b) => a - b);
  return `${f(percentile(xs, 50))} | ${f(percentile(xs, 99))}`;
};

console.log(`node ${process.version}, ${n} statements per class and column; µs. novel = parse + walk + decide; same shape = the parser's normalisation + cache; repeated = cache only\n`);
console.log('| statement | bytes | novel: p50 | novel: p99 | same shape, new constants: p50 | p99 | repeated text: p50 | p99 |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [label, make] of classes) {
  const decider = new SqlDecider<PgSessionState>({
    engine: createEngine(bundle),
    resource: 'orders-db',
    analyse: (text, s) => analysePostgres(text, s),
    stateKey: (s) => `${s.searchPath.join(',')}|${objectId(s.prepared)}`,
    secondKey: normalizePostgres,
    fastKey: fastShape,
    reusable: (a, s) => reusableUnderNormalisation(a as PgAnalysis, s),
  });
  for (let i = 0; i < 300; i++) decider.decide(make(`w${i}`, i), state); // JIT warm-up on other shapes
  const novel: number[] = [];
  for (let i = 0; i < n; i++) {
    const text = make(`t${i}`, i);
    novel.push(time(() => decider.decide(text, state)));
  }
  const shape: number[] = [];
  for (let i = 0; i < n; i++) {
    const text = make(`t${i}`, n + i); // a shape seen above, a constant never seen
    shape.push(time(() => decider.decide(text, state)));
  }
  const warm: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < n; i++) {
      const text = ` ${make(`t${i}`, i)}`.slice(1); // a fresh string, as from a socket
      warm.push(time(() => decider.decide(text, state)));
    }
  }
  if (decider.misses !== n + 300 || decider.shapeHits !== n) throw new Error(`unexpected cache behaviour: ${decider.misses} misses, ${decider.shapeHits} shape hits`);
  console.log(`| ${label} | ${make('t0', 0).length} | ${stats(novel)} | ${stats(shape)} | ${stats(warm)} |`);
}
