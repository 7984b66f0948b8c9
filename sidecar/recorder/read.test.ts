import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEvent } from './event-shape.ts';
import { MAX_LINE_BYTES, readWal } from './read.ts';

function tempFile(t: { after(fn: () => void): void }, content: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.wal.jsonl');
  writeFileSync(path, content);
  return path;
}

const base = { session: 's-1', time: '2025-01-01T00:00:00.000Z' };
const start = { ...base, type: 'session.start', seq: 1, resource: 'orders-db', protocol: 'postgres', subject: 'agent-1', issuer: 'i', groups: ['g'], client: {}, bundle: 'b' };
const cmd = { ...base, type: 'command', seq: 2, command: 'select 1', action: 'allow', reasons: [], forwarded: true };
const result = { ...base, type: 'result', seq: 3, command: 2, rows: 1, bytes: 10, durationMs: 1, masked: 0 };
const end = { ...base, type: 'session.end', seq: 4, reason: 'client closed', counts: { commands: 1, allowed: 1, denied: 0, approved: 0, masked: 0 } };

test('checkEvent accepts every event type and names what is wrong otherwise', () => {
  for (const e of [start, cmd, result, end]) assert.deepEqual(checkEvent(e), { event: e });
  const cases: [string, unknown, RegExp][] = [
    ['array', [], /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['string', 'x', /not a JSON object/],
    ['no type', { ...cmd, type: undefined }, /no event "type"/],
    ['unknown type', { ...cmd, type: 'telemetry' }, /unknown event type "telemetry"/],
    ['prototype key as type', { ...cmd, type: 'constructor' }, /unknown event type/],
    ['empty session', { ...cmd, session: '' }, /"session"/],
    ['seq zero', { ...cmd, seq: 0 }, /"seq"/],
    ['seq fraction', { ...cmd, seq: 1.5 }, /"seq"/],
    ['bad time', { ...cmd, time: 'yesterday' }, /"time"/],
    ['bad action', { ...cmd, action: 'maybe' }, /"action"/],
    ['forwarded missing', { ...cmd, forwarded: undefined }, /"forwarded"/],
    ['reasons not strings', { ...cmd, reasons: [1] }, /"reasons"/],
    ['approval without id', { ...cmd, approval: { outcome: 'approved' } }, /"approval"/],
    ['start without subject', { ...start, subject: 7 }, /session.start: "subject"/],
    ['result with negative rows', { ...result, rows: -1 }, /result: "rows"/],
    ['end without counts', { ...end, counts: undefined }, /"counts"/],
    ['end with bad count', { ...end, counts: { ...end.counts, denied: 'x' } }, /"denied"/],
  ];
  for (const [name, value, message] of cases) {
    const checked = checkEvent(value);
    assert.ok('problem' in checked && message.test(checked.problem), `${name}: ${JSON.stringify(checked)}`);
  }
});

test('bad lines are reported with their line numbers and reading carries on', async (t) => {
  const lines = [JSON.stringify(start), 'not json', '', JSON.stringify({ ...cmd, action: 'x' }), JSON.stringify(cmd), '   ', JSON.stringify(result), JSON.stringify(end)];
  const path = tempFile(t, `${lines.join('\n')}\n`);
  const { events, problems } = await readWal(path);
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4]);
  assert.deepEqual(problems.map((p) => [p.line, p.kind]), [[2, 'invalid-json'], [4, 'invalid-event']]);
});

test('a torn last line is a warning, a complete last line without a newline is an event', async (t) => {
  const torn = tempFile(t, `${JSON.stringify(start)}\n${JSON.stringify(cmd).slice(0, 30)}`);
  const tornResult = await readWal(torn);
  assert.deepEqual(tornResult.events.map((e) => e.seq), [1]);
  assert.deepEqual(tornResult.problems.map((p) => [p.line, p.kind]), [[2, 'torn-tail']]);
  assert.match(tornResult.problems[0]?.message ?? '', /incomplete/);

  const unterminated = tempFile(t, `${JSON.stringify(start)}\n${JSON.stringify(cmd)}`);
  const ok = await readWal(unterminated);
  assert.deepEqual([ok.events.length, ok.problems.length], [2, 0]);
});

test('lines split across read chunks and multi-byte text survive', async (t) => {
  // Far more than one 64 KiB stream chunk, with multi-byte characters straddling chunk edges.
  const events = Array.from({ length: 300 }, (_, i) => ({ ...cmd, seq: i + 1, command: `select '${'ü€😀'.repeat(97 + i)}'` }));
  const path = tempFile(t, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const read = await readWal(path);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.events, events);
});

test('an oversized line is skipped with a problem, the lines around it are read', async (t) => {
  const huge = `{"x":"${'a'.repeat(MAX_LINE_BYTES + 10)}"}`;
  const path = tempFile(t, `${JSON.stringify(start)}\n${huge}\n${JSON.stringify(cmd)}\n${huge}`);
  const { events, problems } = await readWal(path);
  assert.deepEqual(events.map((e) => e.seq), [1, 2]);
  assert.deepEqual(problems.map((p) => p.line), [2, 4]);
  for (const p of problems) assert.match(p.message, /longer than/);
});

test('an empty file has no events and no problems; a missing file rejects', async (t) => {
  assert.deepEqual(await readWal(tempFile(t, '')), { events: [], problems: [] });
  await assert.rejects(readWal(join(tmpdir(), 'portcullis-no-such-dir', 'events.wal.jsonl')), /ENOENT/);
});
