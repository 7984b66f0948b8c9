import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlDecider } from './sql-decider.ts';
import { createEngine } from './engine.ts';
import { compileBundle } from './compile.ts';
import { policy, resource, sql } from './testing.ts';

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
