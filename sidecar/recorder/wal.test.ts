import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { EventInput } from '../../core/audit/events.ts';
import { readWal } from './read.ts';
import { Recorder, RecorderClosedError, RecorderFullError, WAL_FILE, writeIsoNow } from './wal.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const command = (text: string): EventInput => ({ type: 'command', command: text, action: 'allow', reasons: [], forwarded: true });

test('events are numbered per session, stamped, and read back in order', async (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const a = recorder.session('s-a');
  const b = recorder.session('s-b');
  assert.deepEqual([a.record(command('select 1')), b.record(command('select 2')), a.record(command('select 3'))], [1, 1, 2]);
  recorder.close();
  const { events, problems } = await readWal(join(dir, WAL_FILE));
  assert.deepEqual(problems, []);
  assert.deepEqual(events.map((e) => [e.session, e.seq, e.type === 'command' ? e.command : '']), [
    ['s-a', 1, 'select 1'],
    ['s-b', 1, 'select 2'],
    ['s-a', 2, 'select 3'],
  ]);
  for (const e of events) assert.ok(Math.abs(Date.parse(e.time) - Date.now()) < 60_000);
});

test('the file is created 0600 and an existing wider file is narrowed to 0600', (t) => {
  const dir = tempDir(t);
  new Recorder({ dir }).close();
  assert.equal(statSync(join(dir, WAL_FILE)).mode & 0o777, 0o600);
  chmodSync(join(dir, WAL_FILE), 0o644);
  new Recorder({ dir }).close();
  assert.equal(statSync(join(dir, WAL_FILE)).mode & 0o777, 0o600);
  const fresh = join(dir, 'nested', 'records');
  new Recorder({ dir: fresh }).close();
  assert.equal(statSync(fresh).mode & 0o777, 0o700);
});

test('a torn last line is terminated on start so the next event starts on its own line', async (t) => {
  const cases = [
    { name: 'torn tail', existing: '{"type":"command","session":"s-old","seq":1,"time":"2025-01-01T00:00:00Z","command":"sel', repaired: true, problems: [2] },
    { name: 'clean file', existing: '', repaired: false, problems: [] },
    { name: 'complete last line', existing: '\n', repaired: false, problems: [] },
  ];
  for (const c of cases) {
    const dir = tempDir(t);
    const complete = `${JSON.stringify({ type: 'command', session: 's-old', seq: 1, time: '2025-01-01T00:00:00Z', command: 'select 0', action: 'allow', reasons: [], forwarded: true })}\n`;
    writeFileSync(join(dir, WAL_FILE), complete + c.existing);
    const recorder = new Recorder({ dir });
    assert.equal(recorder.repairedTornTail, c.repaired, c.name);
    recorder.session('s-new').record(command('select 42'));
    recorder.close();
    const { events, problems } = await readWal(join(dir, WAL_FILE));
    assert.deepEqual(events.map((e) => e.session), ['s-old', 's-new'], c.name);
    assert.deepEqual(problems.map((p) => p.line), c.problems, c.name);
    if (c.repaired) assert.equal(problems[0]?.kind, 'invalid-json', 'a repaired torn line is now a terminated bad line');
  }
});

test('beyond maxBytes events are refused, nothing partial is written and no sequence number is used up', async (t) => {
  const dir = tempDir(t);
  const small = `${'x'.repeat(10)}`;
  const probe = new Recorder({ dir: join(dir, 'probe') });
  probe.session('s').record(command(small));
  probe.close();
  const oneEvent = statSync(join(dir, 'probe', WAL_FILE)).size;

  // Multi-byte text: the bound is in bytes, not characters.
  const recorder = new Recorder({ dir, maxBytes: oneEvent * 2 + 5 });
  const session = recorder.session('s');
  assert.equal(session.record(command(small)), 1);
  assert.throws(() => session.record(command('é'.repeat(10))), RecorderFullError);
  assert.equal(session.record(command(small)), 2, 'the refused event did not take a number');
  assert.throws(() => session.record(command(small)), RecorderFullError);
  assert.equal(recorder.bytes, oneEvent * 2);
  recorder.close();
  assert.equal(statSync(join(dir, WAL_FILE)).size, oneEvent * 2);
  assert.throws(() => session.record(command(small)), RecorderClosedError);
  const { events, problems } = await readWal(join(dir, WAL_FILE));
  assert.deepEqual([events.length, problems.length], [2, 0]);
});

test('sync and close are safe to repeat', (t) => {
  const recorder = new Recorder({ dir: tempDir(t) });
  const session = recorder.session('s');
  session.sync();
  session.record(command('select 1'));
  session.sync();
  session.sync();
  recorder.close();
  recorder.close();
  session.sync();
});

test('kill -9 mid-write loses no event the writer reported as written, and a restart appends cleanly', async (t) => {
  const dir = tempDir(t);
  const child = fork(new URL('./testdata/append-until-killed.ts', import.meta.url), [dir, 's-killed'], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const reported: number[] = [];
  const exited = once(child, 'exit');
  child.on('message', (m: { seq: number }) => {
    reported.push(m.seq);
    if (reported.length === 400) child.kill('SIGKILL');
  });
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL', `child ended on its own (code ${code}): ${stderr}`);
  assert.ok(reported.length >= 400);

  const before = await readWal(join(dir, WAL_FILE));
  const written = new Set(before.events.filter((e) => e.session === 's-killed').map((e) => e.seq));
  const missing = reported.filter((seq) => !written.has(seq));
  assert.deepEqual(missing, [], 'every reported event is in the file');
  // Only the very last line can be torn.
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').split('\n').length;
  for (const p of before.problems) assert.ok(p.kind === 'torn-tail' && p.line === lines, JSON.stringify(p));

  // Start again over the same file, as a restarted sidecar would.
  const recorder = new Recorder({ dir });
  recorder.session('s-after').record(command('select after restart'));
  recorder.close();
  const after = await readWal(join(dir, WAL_FILE));
  assert.equal(after.events.at(-1)?.session, 's-after');
  assert.equal(after.events.length, before.events.length + 1);
  assert.ok(after.problems.every((p) => p.kind === 'invalid-json'), 'a torn line, if any, is now an ordinary bad line');
});

test('appending to a file another writer left unterminated works for a second recorder too', async (t) => {
  const dir = tempDir(t);
  appendFileSync(join(dir, WAL_FILE), '{"partial":');
  for (const id of ['s-1', 's-2']) {
    const r = new Recorder({ dir });
    r.session(id).record(command(`select '${id}'`));
    r.close();
  }
  const { events, problems } = await readWal(join(dir, WAL_FILE));
  assert.deepEqual(events.map((e) => e.session), ['s-1', 's-2']);
  assert.deepEqual(problems.map((p) => [p.line, p.kind]), [[1, 'invalid-json']]);
});

test('a recorded line is exactly the event followed by its session, seq and time stamp', (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-"quoted"\\id');
  const events: EventInput[] = [
    command('select \'a\' || "b" -- ünïcode \n next'),
    { type: 'command', command: 'drop table x', action: 'deny', rule: 'no-ddl', policy: 'p', reasons: ['r1', 'r2'], forwarded: false, approval: { id: 'a-1', outcome: 'denied', by: 'bob' } },
    { type: 'result', command: 1, rows: 3, bytes: 10, durationMs: 0.125, masked: 0, error: undefined },
  ];
  s.recordBody(Buffer.from(JSON.stringify(events[0]!)));
  s.record(events[1]!);
  s.recordLater(events[2]!);
  recorder.close();
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, events.length);
  lines.forEach((line, i) => {
    const time = (JSON.parse(line) as { time: string }).time;
    assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000);
    assert.equal(line, JSON.stringify({ ...events[i], session: 's-"quoted"\\id', seq: i + 1, time }));
  });
});

test('sequence numbers of any width, queued results and commands interleaved: every line exact and in order', (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-1');
  const expected: EventInput[] = [];
  for (let i = 0; i < 1205; i++) {
    const e: EventInput = i % 3 === 0 ? command(`SELECT ${i} -- é`) : { type: 'result', command: i, rows: i * 7, bytes: 10, durationMs: 0.125, masked: i % 2 };
    if (e.type === 'result') s.recordLater(e);
    else s.record(e);
    expected.push(e);
  }
  recorder.close();
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, expected.length);
  lines.forEach((line, i) => {
    const time = (JSON.parse(line) as { time: string }).time;
    assert.equal(line, JSON.stringify({ ...expected[i], session: 's-1', seq: i + 1, time }));
  });
});

test('a statement far larger than the write buffer is recorded whole', (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-big');
  const big = command(`SELECT '${'x'.repeat(3 * 1024 * 1024)}'`);
  s.recordLater({ type: 'result', command: 0, rows: 0, bytes: 0, durationMs: 0, masked: 0 });
  s.record(big);
  s.record(command('SELECT 1'));
  recorder.close();
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.equal((JSON.parse(lines[1]!) as { command: string }).command, big.type === 'command' ? big.command : '');
  assert.equal((JSON.parse(lines[2]!) as { seq: number }).seq, 3);
});

test('a result recorded from its numbers is the same line as the result event through JSON.stringify', (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-r');
  const results = [
    { command: 1, rows: 0, bytes: 0, durationMs: 0, masked: 0, error: undefined },
    { command: 12, rows: 1234567, bytes: 9876543210, durationMs: 0.125, masked: 3, error: undefined },
    { command: 13, rows: 10, bytes: 20, durationMs: 1234.5, masked: 0, error: '42P01 relation "x" does not exist — é' },
    { command: 14, rows: 1, bytes: 1, durationMs: 0.001, masked: 0, error: undefined },
    { command: 15, rows: 1, bytes: 1, durationMs: 0.01, masked: 0, error: undefined },
    { command: 16, rows: 1, bytes: 1, durationMs: 17.09, masked: 0, error: undefined },
    { command: 17, rows: 1, bytes: 1, durationMs: 100, masked: 0, error: undefined },
    { command: 18, rows: 1, bytes: 1, durationMs: 3600000.999, masked: 0, error: undefined },
  ];
  for (const r of results) s.recordResultLater(r.command, r.rows, r.bytes, Math.round(r.durationMs * 1000), r.masked, r.error);
  recorder.close();
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, results.length);
  lines.forEach((line, i) => {
    const time = (JSON.parse(line) as { time: string }).time;
    const { error, ...rest } = results[i]!;
    assert.equal(line, JSON.stringify({ type: 'result', ...rest, ...(error ? { error } : {}), session: 's-r', seq: i + 1, time }));
  });
});

test('durations are written as JSON writes the number of milliseconds, for every microsecond count', (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-d');
  const micros: number[] = [];
  for (let k = 0; k < 2100; k++) micros.push(k);
  for (let k = 1; k < 4000; k++) micros.push(Math.floor(k * 7919.37 * k) % 1e10);
  for (const m of micros) s.recordResultLater(1, 0, 0, m, 0, undefined);
  recorder.close();
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').trimEnd().split('\n');
  lines.forEach((line, i) => assert.ok(line.includes(`"durationMs":${JSON.stringify(micros[i]! / 1000)},`), line));
});

test('several events recorded together are all on file or none is, and a refusal uses up no number', async (t) => {
  const dir = tempDir(t);
  const probe = new Recorder({ dir: join(dir, 'probe') });
  probe.session('s').record(command('x'));
  probe.close();
  const oneEvent = statSync(join(dir, 'probe', WAL_FILE)).size;

  const recorder = new Recorder({ dir, maxBytes: oneEvent * 3 });
  const session = recorder.session('s');
  const body = JSON.stringify(command('x'));
  assert.equal(session.recordAll([body, Buffer.from(body)]), 1);
  assert.throws(() => session.recordAll([body, body]), RecorderFullError, 'two more do not fit: neither is written');
  assert.equal(recorder.bytes, oneEvent * 2);
  assert.equal(session.recordAll([body]), 3, 'numbering continues where the refused batch would have started');
  recorder.close();
  const { events } = await readWal(join(dir, WAL_FILE));
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
});

test('an event in parts is the same line as the event through JSON.stringify', (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-p');
  const text = 'SELECT "é" FROM t';
  s.recordBody({ head: Buffer.from('{"type":"command","command":'), json: JSON.stringify(text), tail: Buffer.from(',"action":"allow","reasons":[],"forwarded":true}') });
  s.recordAll([JSON.stringify(command('x')), { head: Buffer.from('{"type":"command","command":'), json: '"y"', tail: Buffer.from(',"action":"allow","reasons":[],"forwarded":true}') }]);
  recorder.close();
  const lines = readFileSync(join(dir, WAL_FILE), 'utf8').trimEnd().split('\n');
  const expected = [command(text), command('x'), command('y')];
  lines.forEach((line, i) => {
    const time = (JSON.parse(line) as { time: string }).time;
    assert.equal(line, JSON.stringify({ ...expected[i], session: 's-p', seq: i + 1, time }));
  });
});

test('event times are written as Date#toISOString writes them, across seconds, days and years, in any order', () => {
  const out = Buffer.alloc(32);
  const times = [Date.now(), 0, 999, 1000, 1001, 86_399_999, 86_400_000, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), 1_700_000_000_010];
  for (let i = 0; i < 2000; i++) times.push(Math.floor(Math.random() * Date.UTC(9999, 0, 1)));
  for (const t of times) {
    const end = writeIsoNow(out, 3, t);
    assert.equal(out.toString('latin1', 3, end), new Date(t).toISOString(), `time ${t}`);
  }
});
