import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, CommandEvent } from '../../core/audit/events.ts';
import { buildTranscripts, countCommands } from './transcript.ts';

const at = (seq: number, session = 's-1') => ({ session, seq, time: `2025-01-01T00:00:${String(seq).padStart(2, '0')}.000Z` });
const command = (seq: number, action: CommandEvent['action'], outcome?: 'approved' | 'denied' | 'expired', session?: string): CommandEvent => ({
  ...at(seq, session), type: 'command', command: `q${seq}`, action, reasons: [], forwarded: action === 'allow' || outcome === 'approved',
  ...(action === 'approve' ? { approval: { id: `apr-${seq}`, ...(outcome ? { outcome } : {}) } } : {}),
});

test('computed counts: a held command counts as approved only when approved', () => {
  const cases: [CommandEvent[], number[]][] = [
    [[], [0, 0, 0, 0]],
    [[command(1, 'allow'), command(2, 'allow')], [2, 2, 0, 0]],
    [[command(1, 'deny')], [1, 0, 1, 0]],
    [[command(1, 'approve', 'approved')], [1, 0, 0, 1]],
    [[command(1, 'approve', 'denied'), command(2, 'approve', 'expired'), command(3, 'approve')], [3, 0, 3, 0]],
  ];
  for (const [events, [commands, allowed, denied, approved]] of cases) {
    assert.deepEqual(countCommands(events.map((event) => ({ event }))), { commands, allowed, denied, approved, masked: 0 });
  }
});

test('interleaved sessions are separated, ordered by seq, results attached, end counts preferred', () => {
  const events: AuditEvent[] = [
    { ...at(1, 's-b'), type: 'session.start', resource: 'r', protocol: 'postgres', subject: 'b', issuer: 'i', groups: [], client: {}, bundle: 'x' },
    { ...at(3), type: 'result', command: 2, rows: 5, bytes: 50, durationMs: 1, masked: 2 },
    command(2, 'allow'),
    { ...at(1), type: 'session.start', resource: 'r', protocol: 'postgres', subject: 'a', issuer: 'i', groups: [], client: {}, bundle: 'x' },
    command(2, 'deny', undefined, 's-b'),
    { ...at(4), type: 'session.end', reason: 'closed', counts: { commands: 1, allowed: 1, denied: 0, approved: 0, masked: 7 } },
  ];
  const [b, a] = buildTranscripts(events);
  assert.deepEqual([b?.id, a?.id], ['s-b', 's-1']);
  assert.deepEqual(a?.commands.map((c) => [c.event.seq, c.result?.rows]), [[2, 5]]);
  assert.deepEqual([a?.countsFrom, a?.counts.masked, a?.notes], ['end', 7, []]);
  assert.deepEqual([b?.countsFrom, b?.counts], ['computed', { commands: 1, allowed: 0, denied: 1, approved: 0, masked: 0 }]);
  assert.deepEqual([a?.firstTime, a?.lastTime], ['2025-01-01T00:00:01.000Z', '2025-01-01T00:00:04.000Z']);
});
