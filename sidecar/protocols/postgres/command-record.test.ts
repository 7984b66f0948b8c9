import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Decision } from '../../../core/policy/engine.ts';
import { allowedCommandRecord, recordBytes } from './command-record.ts';

const decision: Decision = { action: 'allow', rule: 'reads', policy: 'agents', reasons: ['select public.orders: rule "reads" of agents → allow'] };
const line = (text: string, d: Decision) => recordBytes(allowedCommandRecord(text, d)).toString('utf8');

test('the same JSON value, keys in the same order, as serialising the whole event', () => {
  const text = "SELECT * FROM orders WHERE note = 'é\"\\n'";
  const event = { type: 'command', command: text, action: 'allow', rule: 'reads', policy: 'agents', reasons: decision.reasons, forwarded: true };
  assert.deepEqual(JSON.parse(line(text, decision)), event);
  assert.deepEqual(Object.keys(JSON.parse(line(text, decision)) as object), Object.keys(event));
});

test('the shared part is ASCII: non-ASCII reasons are escaped, not dropped', () => {
  const p = allowedCommandRecord('SELECT 1', decision);
  assert.match(Buffer.from(p.tail).toString('latin1'), /^[\x20-\x7e]*$/);
  assert.match(Buffer.from(p.tail).toString('latin1'), /\\u2192 allow/);
  assert.equal(allowedCommandRecord('SELECT 2', decision).tail, p.tail, 'built once per decision');
});

test('rule and policy are left out when the decision has none, as JSON.stringify of the event would', () => {
  const d: Decision = { action: 'allow', reasons: ['default'] };
  assert.equal(line('SELECT 1', d), JSON.stringify({ type: 'command', command: 'SELECT 1', action: 'allow', reasons: ['default'], forwarded: true }));
});
