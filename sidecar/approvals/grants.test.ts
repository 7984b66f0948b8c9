import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrantWindow } from './grants.ts';

test('a grant covers the same key until it ends, then is gone', () => {
  const g = new GrantWindow();
  const k = GrantWindow.key('agent', 'pod-1', 'abc', 'order-writes');
  g.put(k, { until: 2000, id: 'apr-1', by: 'alice' });
  assert.equal(g.get(k, 1999)?.by, 'alice');
  assert.equal(g.get(GrantWindow.key('agent', 'pod-2', 'abc', 'order-writes'), 1000), undefined, 'another pod');
  assert.equal(g.get(GrantWindow.key('other', 'pod-1', 'abc', 'order-writes'), 1000), undefined, 'another subject');
  assert.equal(g.get(k, 2000), undefined);
  assert.equal(g.get(k, 1000), undefined, 'expired grants are forgotten');
});

test('bounded: the oldest grant goes first', () => {
  const g = new GrantWindow(2);
  g.put('a', { until: 9e15, id: '1', by: 'x' });
  g.put('b', { until: 9e15, id: '2', by: 'x' });
  g.put('c', { until: 9e15, id: '3', by: 'x' });
  assert.equal(g.get('a'), undefined);
  assert.ok(g.get('b') && g.get('c'));
});
