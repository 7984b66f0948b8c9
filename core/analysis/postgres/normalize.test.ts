import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analysePostgres, initPostgresParser } from './analyse.ts';
import { normalizePostgres, reusableUnderNormalisation } from './normalize.ts';
import { SqlDecider, objectId } from '../../policy/sql-decider.ts';
import { createEngine } from '../../policy/engine.ts';
import { compileBundle } from '../../policy/compile.ts';
import { policy, resource } from '../../policy/testing.ts';
import type { PgAnalysis, PgSessionState } from './types.ts';

let state: PgSessionState;
before(async () => {
  await initPostgresParser();
  state = analysePostgres('SELECT 1', { searchPath: ['$user', 'public'], prepared: new Map() }).stateAfter;
});

test('normalisation replaces constants only, with the real parser', () => {
  assert.equal(normalizePostgres("SELECT * FROM t WHERE a = 5 AND b = 'x'"), 'SELECT * FROM t WHERE a = $1 AND b = $2');
  assert.equal(normalizePostgres('SELECT * FROM t'), undefined);
  assert.equal(normalizePostgres('SELEC 1'), undefined);
});

const reusable = (sql: string) => reusableUnderNormalisation(analysePostgres(sql, state), state);

test('only analyses no constant can change are shared', () => {
  assert.equal(reusable('SELECT * FROM orders WHERE id = 5'), true);
  assert.equal(reusable("UPDATE orders SET status = 'x' WHERE id = 1"), true);
  assert.equal(reusable("SELECT set_config('work_mem', '1MB', false)"), false, 'set_config: the setting name is a constant');
  assert.equal(reusable("SET search_path = 'vault'"), false);
  assert.equal(reusable("COPY orders TO '/tmp/x'"), false);
  assert.equal(reusable("SELECT query_to_xml('select 1', true, true, '')"), false);
  assert.equal(reusable('SELEC 1'), false);
});

test('a decision is shared across constants, but never to a statement whose constants matter', () => {
  const engine = createEngine(compileBundle('agents', [resource('db', 'postgres')], [policy('p', {
    resources: [{ resource: 'db', rules: [{ name: 'reads', action: 'allow', sql: { statements: ['select'] } }] }],
  })]));
  const d = new SqlDecider<PgSessionState>({
    engine,
    resource: 'db',
    analyse: (t, s) => analysePostgres(t, s),
    stateKey: (s) => `${s.searchPath.join(',')}|${objectId(s.prepared)}`,
    secondKey: normalizePostgres,
    reusable: (a, s) => reusableUnderNormalisation(a as PgAnalysis, s),
  });
  assert.equal(d.decide('SELECT * FROM orders WHERE id = 1', state).decision.action, 'allow');
  assert.equal(d.decide('SELECT * FROM orders WHERE id = 2', state).decision.action, 'allow');
  assert.equal(d.shapeHits, 1);
  d.decide("SELECT set_config('work_mem', '1MB', false)", state);
  const enc = d.decide("SELECT set_config('client_encoding', 'LATIN1', false)", state);
  assert.equal(enc.decision.action, 'deny');
  assert.ok(enc.analysis.forbidden);
  assert.equal(d.shapeHits, 1);
});
