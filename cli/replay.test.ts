import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder, WAL_FILE } from '../sidecar/recorder/wal.ts';
import { replayCommand, type ReplayIo } from './replay.ts';

type Ctx = { after(fn: () => void): void };

function tempDir(t: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-replay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function capture(): ReplayIo & { out: string; err: string } {
  const io = { out: '', err: '', stdout: { write: (s: string) => (io.out += s) }, stderr: { write: (s: string) => (io.err += s) } };
  return io;
}

async function replay(args: string[]) {
  const io = capture();
  const code = await replayCommand(args, io);
  return { code, out: io.out, err: io.err };
}

/** Records what a demo session would: an allowed masked read, a denied DROP, an approved write; plus an open session. */
function recordDemo(dir: string): void {
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-7f3a01');
  s.record({ type: 'session.start', resource: 'orders-db', protocol: 'postgres', subject: 'agent-1', issuer: 'https://issuer.local', groups: ['agents'], client: { database: 'orders', application_name: 'psql' }, bundle: 'sha256:b1' });
  const read = s.record({ type: 'command', command: 'select id, card\nfrom orders', action: 'allow', rule: 'reads', policy: 'orders-agents', reasons: [], forwarded: true });
  s.record({ type: 'result', command: read, rows: 12, bytes: 3072, durationMs: 4, masked: 12 });
  s.record({ type: 'command', command: 'drop database orders', action: 'deny', rule: 'no-ddl', policy: 'orders-agents', reasons: ['DROP DATABASE is not for agents'], forwarded: false });
  const write = s.record({ type: 'command', command: "update orders set status = 'shipped' where id = 7", action: 'approve', rule: 'writes-need-approval', policy: 'orders-agents', reasons: [], approval: { id: 'apr-0a1b2c3d4e', outcome: 'approved', by: 'alice', reason: 'ticket 7' }, forwarded: true });
  s.record({ type: 'result', command: write, rows: 1, bytes: 0, durationMs: 2, masked: 0 });
  s.record({ type: 'session.end', reason: 'client closed', counts: { commands: 3, allowed: 1, denied: 1, approved: 1, masked: 12 } });
  const open = recorder.session('s-7f9e02');
  open.record({ type: 'session.start', resource: 'billing-db', protocol: 'postgres', subject: 'agent-2', issuer: 'https://issuer.local', groups: [], client: {}, bundle: 'sha256:b1' });
  open.record({ type: 'command', command: 'delete from invoices', action: 'approve', rule: 'writes-need-approval', reasons: [], approval: { id: 'apr-ffffffffff', outcome: 'expired' }, forwarded: false });
  open.record({ type: 'command', command: 'select 1', action: 'allow', reasons: [], forwarded: true });
  recorder.close();
}

test('the transcript shows who, what, when, and each command with decision, rule, approval, rows and masking', async (t) => {
  const dir = tempDir(t);
  recordDemo(dir);
  const { code, out, err } = await replay(['--local', dir]);
  assert.equal(code, 0, err);
  assert.equal(err, '');
  const expectations: RegExp[] = [
    /^session s-7f3a01 {2}agent-1 → orders-db \(postgres\)$/m,
    /^ {2}groups {4}agents$/m,
    /^ {2}client {4}database=orders application_name=psql$/m,
    /^ {2}started {3}\d{4}-\d\d-\d\dT/m,
    /^ {2}ended {5}\S+ after \S+ \(client closed\)$/m,
    /^ {2}3 commands: 1 allowed, 1 denied, 1 approved; 12 values masked$/m,
    /^ {2}#2 {2}\d\d:\d\d:\d\d\.\d{3} {2}ALLOW +rule reads \(policy orders-agents\)\n {6}select id, card\n {6}from orders\n {6}→ 12 rows, 3\.0 KiB, 4ms, 12 values masked$/m,
    /^ {2}#4 .* DENY +rule no-ddl .*\n {6}drop database orders\n {6}reason: DROP DATABASE is not for agents$/m,
    /^ {2}#5 .* HELD→APPROVED +rule writes-need-approval .*\n.*\n {6}approval apr-0a1b2c3d4e: approved by alice — "ticket 7"\n {6}→ 1 row, 0 B, 2ms$/m,
    /^session s-7f9e02 {2}agent-2 → billing-db \(postgres\)$/m,
    /^ {2}ended {5}no end record/m,
    /^ {2}2 commands: 1 allowed, 1 denied, 0 approved; 0 values masked \(counted from the records: no session.end\)$/m,
    /HELD→EXPIRED +rule writes-need-approval\n {6}delete from invoices\n {6}approval apr-ffffffffff: expired \(nobody decided in time\)$/m,
    /^ {2}#3 .* ALLOW +no rule \(default action or analysis\)$/m,
  ];
  for (const re of expectations) assert.match(out, re);
  assert.ok(out.indexOf('s-7f3a01') < out.indexOf('s-7f9e02'), 'sessions in the order they started');
});

test('--session picks one session by id or unique prefix', async (t) => {
  const dir = tempDir(t);
  recordDemo(dir);
  const cases: [string, number, RegExp, RegExp | undefined][] = [
    ['s-7f3a01', 0, /agent-1/, /agent-2/],
    ['s-7f9', 0, /agent-2/, /agent-1/],
    ['s-7f', 1, /matches 2 sessions: s-7f3a01, s-7f9e02/, undefined],
    ['s-nope', 1, /no session "s-nope"/, undefined],
  ];
  for (const [session, code, shown, hidden] of cases) {
    const r = await replay(['--local', dir, '--session', session]);
    assert.equal(r.code, code, session);
    assert.match(code === 0 ? r.out : r.err, shown, session);
    if (hidden) assert.doesNotMatch(r.out, hidden, session);
  }
});

test('--summary prints one line per session and --json the whole structure', async (t) => {
  const dir = tempDir(t);
  recordDemo(dir);
  const summary = await replay(['--local', dir, '--summary']);
  assert.equal(summary.code, 0);
  const lines = summary.out.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^s-7f3a01 .* agent-1 → orders-db {2}commands 3 \(allow 1, deny 1, approved 1\), masked 12$/);
  assert.match(lines[1] ?? '', /^s-7f9e02 .* open .* agent-2 → billing-db/);

  const json = await replay(['--local', dir, '--json', '--session', 's-7f3a01']);
  assert.equal(json.code, 0);
  const doc = JSON.parse(json.out) as { file: string; problems: unknown[]; sessions: { id: string; subject: string; endReason: string; counts: object; commands: { seq: number; action: string; approval?: { by?: string }; result?: { rows: number; masked: number } }[] }[] };
  assert.equal(doc.file, join(dir, WAL_FILE));
  assert.deepEqual(doc.problems, []);
  assert.equal(doc.sessions.length, 1);
  const [s] = doc.sessions;
  assert.deepEqual([s?.id, s?.subject, s?.endReason], ['s-7f3a01', 'agent-1', 'client closed']);
  assert.deepEqual(s?.commands.map((c) => [c.seq, c.action, c.result?.rows, c.result?.masked, c.approval?.by]), [
    [2, 'allow', 12, 12, undefined],
    [4, 'deny', undefined, undefined, undefined],
    [5, 'approve', 1, 0, 'alice'],
  ]);
});

test('a torn last line and bad lines are warnings with line numbers; the rest is shown', async (t) => {
  const dir = tempDir(t);
  recordDemo(dir);
  const wal = join(dir, WAL_FILE);
  appendFileSync(wal, 'garbage\n{"type":"command","session":"s-7f3a01"}\n{"type":"result","sess');
  const r = await replay(['--local', dir]);
  assert.equal(r.code, 0);
  assert.match(r.err, new RegExp(`^warning: ${wal} line 11: not valid JSON`, 'm'));
  assert.match(r.err, new RegExp(`^warning: ${wal} line 12: "seq" must be a positive integer`, 'm'));
  assert.match(r.err, new RegExp(`^warning: ${wal} line 13: the last line is incomplete \\(torn write`, 'm'));
  assert.match(r.out, /3 commands: 1 allowed, 1 denied, 1 approved/);

  // The file itself may be named; a flood of bad lines is capped.
  writeFileSync(wal, 'x\n'.repeat(100));
  const flood = await replay(['--local', wal]);
  assert.equal(flood.code, 0);
  assert.equal(flood.err.split('\n').filter((l) => l.startsWith('warning:')).length, 21);
  assert.match(flood.err, /80 more unreadable lines/);
  assert.match(flood.out, /no sessions recorded/);
});

test('odd records become notes, not crashes', async (t) => {
  const dir = tempDir(t);
  const base = { session: 's-odd', time: '2025-01-01T00:00:00.000Z' };
  const lines = [
    { ...base, type: 'command', seq: 2, command: 'select 1', action: 'allow', reasons: [], forwarded: true },
    { ...base, type: 'command', seq: 2, command: 'select 2', action: 'allow', reasons: [], forwarded: true },
    { ...base, type: 'result', seq: 5, command: 4, rows: 0, bytes: 0, durationMs: 0, masked: 0 },
    { ...base, type: 'command', seq: 6, command: 'select 3', action: 'deny', reasons: [], forwarded: true },
  ];
  writeFileSync(join(dir, WAL_FILE), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const r = await replay(['--local', dir]);
  assert.equal(r.code, 0, r.err);
  for (const note of [
    /note: event #1 is missing/,
    /note: event #2 appears more than once; the first is shown/,
    /note: events #3–#4 are missing/,
    /note: result #5 belongs to command #4, which is not recorded/,
    /note: no session.start record/,
  ]) assert.match(r.out, note);
  assert.match(r.out, /^session s-odd {2}\(unknown subject and resource\)$/m);
  assert.match(r.out, /select 1/);
  assert.doesNotMatch(r.out, /select 2/);
  assert.match(r.out, /DENY .*\n {6}select 3\n {6}\(forwarded to the server\)/);
});

test('agent-controlled text cannot drive the terminal', async (t) => {
  const dir = tempDir(t);
  const recorder = new Recorder({ dir });
  const s = recorder.session('s-esc');
  s.record({ type: 'session.start', resource: 'db', protocol: 'postgres', subject: 'agent\u001b]0;pwned\u0007', issuer: 'i', groups: [], client: { application_name: '\u001b[31mred' }, bundle: 'b' });
  s.record({ type: 'command', command: 'select 1 /* \u001b[2J \u202e gnp.exe */\r\nselect 2', action: 'allow', reasons: [], forwarded: true });
  recorder.close();
  const r = await replay(['--local', dir]);
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  assert.match(r.out, /agent\\x1b\]0;pwned\\x07/);
  assert.match(r.out, /application_name=\\x1b\[31mred/);
  assert.match(r.out, /select 1 \/\* \\x1b\[2J \\u202e gnp\.exe \*\/\\r\n {6}select 2/);
});

test('usage errors exit 2, unreadable records exit 1', async (t) => {
  const dir = tempDir(t);
  const cases: [string[], number, RegExp][] = [
    [[], 2, /--local DIR is required/],
    [['--local'], 2, /argument missing|--local/],
    [['--local', dir, '--bogus'], 2, /Unknown option '--bogus'/],
    [['--local', dir, 'extra'], 2, /unexpected argument "extra"/],
    [['--local', dir, '--json', '--summary'], 2, /cannot be combined/],
    [['--local', join(dir, 'missing')], 1, /does not exist/],
    [['--local', dir], 1, /events.wal.jsonl not found: is .* a sidecar's --records directory/],
  ];
  for (const [args, code, message] of cases) {
    const r = await replay(args);
    assert.equal(r.code, code, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
  const help = await replay(['--help']);
  assert.deepEqual([help.code, /Usage:/.test(help.out)], [0, true]);
});
