import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from './metrics.ts';

test('decisions counted on the data path appear at the next scrape, by label set, and are not counted twice', async () => {
  const m = createMetrics();
  const allow = m.decisionCounts.cell({ resource: 'db', action: 'allow', rule: 'reads' });
  const deny = m.decisionCounts.cell({ resource: 'db', action: 'deny', rule: '' });
  allow.inc();
  allow.inc();
  deny.inc();
  assert.equal(m.decisionCounts.cell({ resource: 'db', action: 'allow', rule: 'reads' }), allow, 'one cell per label set');
  let text = await m.registry.metrics();
  assert.match(text, /portcullis_decisions_total\{resource="db",action="allow",rule="reads"\} 2/);
  assert.match(text, /portcullis_decisions_total\{resource="db",action="deny",rule=""\} 1/);
  allow.inc();
  text = await m.registry.metrics();
  assert.match(text, /portcullis_decisions_total\{resource="db",action="allow",rule="reads"\} 3/);
  assert.match(text, /portcullis_decisions_total\{resource="db",action="deny",rule=""\} 1/);
});
