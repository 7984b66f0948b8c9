import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeSync } from 'libpg-query';
import { SqlDecider, objectId } from './sql-decider.ts';
import { createEngine } from './engine.ts';
import { compileBundle } from './compile.ts';
import { policy, resource, sql } from './testing.ts';
import { analysePostgres, initPostgresParser } from '../analysis/postgres/analyse.ts';
import { normalizePostgres, reusableUnderNormalisation } from '../analysis/postgres/normalize.ts';
import { fastShape } from '../analysis/postgres/fast-shape.ts';
import type { PgAnalysis, PgSessionState } from '../analysis/postgres/types.ts';

const engine = createEngine(compileBundle('agents', [resource('db', 'postgres')], [policy('p', {
  resources: [{ resource: 'db', rules: [{ name: 'reads', action: 'allow', sql: { statements: ['select'] } }] }],
})]));

function decider(max?: number) {
  let analysed = 0;
  const d = new SqlDecider<{ path: string }>({
    engine,
    resource: 'db',
    analyse: (text, state) => {
      analysed++;
      return { parts: [sql(text.startsWith('select') ? 'select' : 'delete', `${state.path}.t`)], stateAfter: state };
    },
    stateKey: (s) => s.path,
    ...(max ? { maxEntries: max } : {}),
  });
  return { d, analysed: () => analysed };
}

test('SqlDecider: the same text in the same state is analysed once', () => {
  const { d, analysed } = decider();
  const s = { path: 'public' };
  const a = d.decide('select 1', s);
  const b = d.decide(`${'select'} 1`, { path: 'public' });
  assert.equal(a, b);
  assert.equal(analysed(), 1);
  assert.equal(d.hits, 1);
});

test('SqlDecider: session state is part of the key', () => {
  const { d, analysed } = decider();
  assert.equal(d.decide('select 1', { path: 'public' }).analysis.parts[0]!.protocol, 'sql');
  const vault = d.decide('select 1', { path: 'vault' });
  assert.equal(analysed(), 2);
  assert.equal((vault.analysis.parts[0] as { relation: string }).relation, 'vault.t');
});

test('SqlDecider: bounded, and clear() forgets', () => {
  const { d, analysed } = decider(10);
  const s = { path: 'public' };
  for (let i = 0; i < 100; i++) d.decide(`select ${i}`, s);
  assert.equal(analysed(), 100);
  d.decide('select 99', s); // the newest survives
  assert.equal(analysed(), 100);
  d.decide('select 0', s); // the oldest was evicted
  assert.equal(analysed(), 101);
  d.clear();
  d.decide('select 99', s);
  assert.equal(analysed(), 102);
  assert.equal(d.decide('delete', s).decision.action, 'deny');
});

let pgState: PgSessionState;
before(async () => {
  await initPostgresParser();
  pgState = analysePostgres('SELECT 1', { searchPath: ['$user', 'public'], prepared: new Map() }).stateAfter;
});

/** The sidecar's PostgreSQL decider: the real parser's shape, and the scanner's fast key in front of it. */
function pgDecider(opts: { max?: number; fast?: boolean } = {}) {
  let analysed = 0;
  const d = new SqlDecider<PgSessionState>({
    engine,
    resource: 'db',
    analyse: (t, st) => {
      analysed++;
      return analysePostgres(t, st);
    },
    stateKey: (st) => `${st.searchPath.join(',')}|${objectId(st.prepared)}`,
    secondKey: normalizePostgres,
    reusable: (a, st) => reusableUnderNormalisation(a as PgAnalysis, st),
    ...(opts.fast === false ? {} : { fastKey: fastShape }),
    ...(opts.max ? { maxEntries: opts.max } : {}),
  });
  return { d, analysed: () => analysed };
}

const counts = (d: SqlDecider<PgSessionState>) => ({ hits: d.hits, shapeHits: d.shapeHits, fastHits: d.fastHits, misses: d.misses });

test('SqlDecider: statements of a known shape with new constants take the fast key, to the same entry', () => {
  const { d, analysed } = pgDecider();
  const first = d.decide('SELECT abalance FROM pgbench_accounts WHERE aid = 48213;', pgState);
  assert.equal(first.decision.action, 'allow');
  for (let aid = 1; aid <= 5; aid++) {
    const text = `SELECT abalance FROM pgbench_accounts WHERE aid = ${aid * 7919};`;
    const r = d.decide(text, pgState);
    assert.equal(r.decision, first.decision);
    assert.deepEqual(r.analysis.parts, first.analysis.parts);
    assert.equal(r.shape, normalizeSync(text), 'the shape a parser route would have given');
  }
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 5, fastHits: 5, misses: 1 });
  assert.equal(analysed(), 1);
  // Statements whose constants the parser numbers in tree order, and a minus folded into the constant, link too.
  d.decide('UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 5', pgState);
  d.decide('UPDATE pgbench_accounts SET abalance = abalance + -99 WHERE aid = 6', pgState);
  d.decide('SELECT aid FROM pgbench_accounts LIMIT 10 OFFSET 20', pgState);
  d.decide('SELECT aid FROM pgbench_accounts LIMIT 3 OFFSET 7', pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 7, fastHits: 7, misses: 3 });
  // The same shape with a different fast key (the minus is part of it) is a shape hit, then links its own key.
  d.decide('UPDATE pgbench_accounts SET abalance = abalance + 12 WHERE aid = 8', pgState);
  d.decide('UPDATE pgbench_accounts SET abalance = abalance + 13 WHERE aid = 9', pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 9, fastHits: 8, misses: 3 });
});

test('SqlDecider: no fast key where the scanner and the parser disagree', () => {
  const { d } = pgDecider();
  // ORDER BY 1 is a column position to the parser, a constant to the scanner: every statement takes the parser's route.
  for (let i = 1; i <= 3; i++) d.decide(`SELECT a FROM orders WHERE b = ${i} ORDER BY 1`, pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 2, fastHits: 0, misses: 1 });
  // A minus the parser folds in, but not directly before the digits.
  for (let i = 1; i <= 3; i++) d.decide(`SELECT a FROM orders WHERE b = - ${i}`, pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 4, fastHits: 0, misses: 2 });
  // Strings the scanner does not read (escape strings, concatenated strings): no fast key at all. (`b = E'x1'` has the
  // shape of `b = - 1` above.)
  for (let i = 1; i <= 3; i++) d.decide(`SELECT a FROM orders WHERE b = E'x${i}'`, pgState);
  for (let i = 1; i <= 3; i++) d.decide(`SELECT a FROM orders WHERE c = 'x'\n'${i}'`, pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 9, fastHits: 0, misses: 3 });
});

test('SqlDecider: analyses a constant can change never get a fast key', () => {
  const { d, analysed } = pgDecider();
  for (const mem of ['1MB', '2MB', '3MB']) d.decide(`SET work_mem = '${mem}'`, pgState);
  for (const mem of ['1MB', '2MB', '3MB']) d.decide(`SELECT set_config('work_mem', '${mem}', false)`, pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 0, fastHits: 0, misses: 6 });
  assert.equal(analysed(), 6);
  const enc = d.decide("SELECT set_config('client_encoding', 'LATIN1', false)", pgState);
  assert.equal(enc.decision.action, 'deny');
});

test('SqlDecider: clear() forgets fast keys; they are bounded; without a shape they are not used', () => {
  const { d, analysed } = pgDecider({ max: 2 });
  d.decide('SELECT a FROM orders WHERE id = 1', pgState);
  d.decide('SELECT a FROM orders WHERE id = 2', pgState);
  assert.equal(d.fastHits, 1);
  d.clear();
  d.decide('SELECT a FROM orders WHERE id = 3', pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 1, fastHits: 1, misses: 2 });
  assert.equal(analysed(), 2);
  // Bounded: two more shapes push the first one's fast key (and shape entry) out.
  d.decide('SELECT b FROM orders WHERE id = 1', pgState);
  d.decide('SELECT c FROM orders WHERE id = 1', pgState);
  d.decide('SELECT c FROM orders WHERE id = 2', pgState);
  assert.equal(d.fastHits, 2);
  d.decide('SELECT a FROM orders WHERE id = 4', pgState);
  assert.deepEqual(counts(d), { hits: 0, shapeHits: 2, fastHits: 2, misses: 5 });
  // Without a second key and reusable, the fast key is ignored.
  const plain = new SqlDecider<PgSessionState>({
    engine,
    resource: 'db',
    analyse: (t, st) => analysePostgres(t, st),
    stateKey: () => '',
    fastKey: fastShape,
  });
  plain.decide('SELECT a FROM orders WHERE id = 1', pgState);
  plain.decide('SELECT a FROM orders WHERE id = 2', pgState);
  assert.deepEqual(counts(plain as SqlDecider<PgSessionState>), { hits: 0, shapeHits: 0, fastHits: 0, misses: 2 });
});
