import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MapJournal } from './map-journal.ts';

const snapshot = (m: Map<string, number>) => [...m.entries()].sort();

test('rollback restores both maps exactly, including keys set twice and keys deleted', () => {
  const j = new MapJournal();
  const a = new Map([['', 1], ['s1', 2]]);
  const b = new Map([['p', 3]]);
  const before = [snapshot(a), snapshot(b)];
  j.set(a, '', 10);
  j.set(a, '', 11);
  j.delete(a, 's1');
  j.set(a, 'new', 5);
  j.delete(b, 'p');
  j.set(b, 'p', 7);
  j.rollback();
  assert.deepEqual([snapshot(a), snapshot(b)], before);
  assert.equal(j.size, 0);
});

test('the returned redo brings back the batch state, and can itself be undone', () => {
  const j = new MapJournal();
  const a = new Map([['', 1], ['s1', 2]]);
  j.set(a, '', 10);
  j.delete(a, 's1');
  j.set(a, 'x', 3);
  const after = snapshot(a);
  const redo = j.rollback();
  assert.deepEqual(snapshot(a), [['', 1], ['s1', 2]]);
  redo();
  assert.deepEqual(snapshot(a), after);
  j.rollback();
  assert.deepEqual(snapshot(a), [['', 1], ['s1', 2]]);
});

test('commit keeps the changes and forgets them', () => {
  const j = new MapJournal();
  const a = new Map([['', 1]]);
  j.set(a, '', 2);
  j.commit();
  j.rollback();
  assert.deepEqual(snapshot(a), [['', 2]]);
});
