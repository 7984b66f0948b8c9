import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { ApprovalRequestInput } from '../sidecar/approvals/backend.ts';
import { LocalApprovals } from '../sidecar/approvals/local.ts';
import { generateAdminToken, removeAdminInfo, writeAdminInfo } from '../sidecar/admin/admin-info.ts';
import { startAdminServer } from '../sidecar/admin/server.ts';
import { approvalsCommand, approveCommand, denyCommand, type ApproveIo } from './approve.ts';

type Ctx = { after(fn: () => unknown): void };

function input(over: Partial<ApprovalRequestInput> = {}): ApprovalRequestInput {
  return {
    policy: 'orders-agents', rule: 'writes-need-approval', resource: 'orders-db', session: 's-1', pod: 'agent-0', requester: 'agent-1',
    command: "update orders\nset status = 'shipped' where id = 7", fingerprint: 'fp-1', timeoutMs: 600_000,
    approvers: { users: ['alice'], groups: ['sre'] }, ...over,
  };
}

/** A standalone sidecar's admin side: LocalApprovals behind a real admin server, admin.json + admin-token on disk. */
async function sidecar(t: Ctx) {
  const records = await mkdtemp(join(tmpdir(), 'portcullis-approve-'));
  const approvals = new LocalApprovals();
  const token = generateAdminToken();
  const server = await startAdminServer({ port: 0, metrics: new Registry(), ready: () => true, mode: 'standalone', approvals, adminToken: token });
  await writeAdminInfo(records, { url: server.url, token });
  t.after(async () => {
    approvals.close();
    await server.close();
    await rm(records, { recursive: true, force: true });
  });
  return { records, approvals, server, token };
}

type CapturedIo = ApproveIo & { out: string; err: string };

function io(over: Partial<ApproveIo> = {}): CapturedIo {
  const x: CapturedIo = {
    out: '',
    err: '',
    stdout: { write: (s: string) => (x.out += s) },
    stderr: { write: (s: string) => (x.err += s) },
    env: {},
    loginName: () => 'alice',
    now: () => Date.now(),
    ...over,
  };
  return x;
}

test('approvals --local lists pending requests as a table; --all, --phase and --json', async (t) => {
  const { records, approvals } = await sidecar(t);
  const a = approvals.request(input());
  const b = approvals.request(input({ resource: 'billing-db', requester: 'agent-2', command: 'delete from invoices \u001b[2J' }));
  approvals.decide(b.id, 'deny', { user: 'alice', groups: [] }, 'no');

  const x = io();
  assert.equal(await approvalsCommand(['--local', '--records', records], x), 0, x.err);
  const lines = x.out.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^ID +PHASE +AGE +EXPIRES +RESOURCE +RULE +REQUESTER +COMMAND$/);
  assert.equal(lines.length, 2, 'only the pending one');
  assert.match(lines[1] ?? '', new RegExp(`^${a.id} +Pending +\\S+ +in (9m\\d+s|10m) +orders-db +writes-need-approval +agent-1 +update orders set status = 'shipped' where id = 7$`));

  const all = io();
  assert.equal(await approvalsCommand(['--local', '--records', records, '--all'], all), 0);
  assert.match(all.out, new RegExp(`^${b.id} +Denied +\\S+ +by alice +billing-db .* delete from invoices \\\\x1b\\[2J$`, 'm'));

  const denied = io();
  assert.equal(await approvalsCommand(['--local', '--records', records, '--phase', 'denied', '--json'], denied), 0);
  assert.deepEqual((JSON.parse(denied.out) as { items: { id: string }[] }).items.map((i) => i.id), [b.id]);

  const expired = io();
  assert.equal(await approvalsCommand(['--local', '--records', records, '--phase', 'Expired'], expired), 0);
  assert.equal(expired.out, 'no expired approval requests\n');
});

test('approvals --local ID shows one request in full', async (t) => {
  const { records, approvals } = await sidecar(t);
  const a = approvals.request(input());
  const x = io({ now: () => Date.parse(approvals.get(a.id)?.createdAt ?? '') + 60_000 });
  assert.equal(await approvalsCommand(['--local', a.id, '--records', records], x), 0, x.err);
  for (const re of [
    new RegExp(`^id +${a.id}$`, 'm'),
    /^phase +Pending$/m,
    /^requester +agent-1 {2}\(session s-1, pod agent-0\)$/m,
    /^rule +writes-need-approval \(policy orders-agents\)$/m,
    /^approvers +users \[alice\], groups \[sre\]$/m,
    /^created +\S+ \(1m ago\)$/m,
    /^expires +\S+ \(in 9m\)$/m,
    /^command\n {2}update orders\n {2}set status = 'shipped' where id = 7$/m,
  ]) assert.match(x.out, re);
  const missing = io();
  assert.equal(await approvalsCommand(['--local', 'apr-0000000000', '--records', records], missing), 1);
  assert.match(missing.err, /approval request apr-0000000000 not found/);
});

test('approve and deny settle the held command as the asserted user', async (t) => {
  const cases: { args: string[]; login?: string; verb: 'approve' | 'deny'; by: string; out: RegExp }[] = [
    { args: ['--reason', 'ticket 7'], verb: 'approve', by: 'alice', out: / approved as alice: the held command runs now$/ },
    { args: ['--as', 'bob', '--as-group', 'dev', '--as-group', 'sre'], verb: 'approve', by: 'bob', out: / approved as bob \(groups dev, sre\)/ },
    { args: ['--as', 'carol', '--as-group', 'sre', '--reason', 'too risky'], verb: 'deny', by: 'carol', out: / denied as carol \(groups sre\): the held command is refused$/ },
  ];
  for (const c of cases) {
    const { records, approvals } = await sidecar(t);
    const pending = approvals.request(input());
    const x = io();
    const command = c.verb === 'approve' ? approveCommand : denyCommand;
    assert.equal(await command(['--local', pending.id, '--records', records, ...c.args], x), 0, x.err);
    assert.match(x.out.trimEnd(), c.out);
    const outcome = await pending.result;
    assert.equal(outcome.outcome, c.verb === 'approve' ? 'approved' : 'denied');
    assert.equal('by' in outcome ? outcome.by : undefined, c.by);
  }
});

test('refusals are reported with the sidecar\'s reason and exit 1', async (t) => {
  const { records, approvals } = await sidecar(t);
  const pending = approvals.request(input());
  const cases: [string[], RegExp][] = [
    [['--as', 'agent-1', '--as-group', 'sre'], /the requester cannot decide its own request/],
    [['--as', 'mallory'], /mallory is not an approver of this request/],
  ];
  for (const [args, message] of cases) {
    const x = io();
    assert.equal(await approveCommand(['--local', pending.id, '--records', records, ...args], x), 1);
    assert.match(x.err, message);
  }
  approvals.decide(pending.id, 'approve', { user: 'alice', groups: [] });
  const again = io();
  assert.equal(await denyCommand(['--local', pending.id, '--records', records], again), 1);
  assert.match(again.err, /already Approved/);
});

test('the sidecar is found through PORTCULLIS_RECORDS, or --admin with a token from the records or the environment', async (t) => {
  const { records, approvals, server, token } = await sidecar(t);
  approvals.request(input());
  const ways: [string[], Record<string, string>][] = [
    [[], { PORTCULLIS_RECORDS: records }],
    [['--admin', server.url, '--records', records], {}],
    [['--admin', server.url], { PORTCULLIS_ADMIN_TOKEN: token }],
  ];
  for (const [args, env] of ways) {
    const x = io({ env });
    assert.equal(await approvalsCommand(['--local', ...args], x), 0, `${args.join(' ')}: ${x.err}`);
    assert.match(x.out, /Pending/);
  }
});

test('usage errors exit 2 and say what is missing', async (t) => {
  const { records } = await sidecar(t);
  const cases: [typeof approveCommand, string[], RegExp][] = [
    [approveCommand, ['apr-1', '--records', records], /only --local/],
    [approvalsCommand, ['--records', records], /only --local/],
    [approveCommand, ['--local', '--records', records], /exactly one approval id/],
    [denyCommand, ['--local', 'a', 'b', '--records', records], /exactly one approval id/],
    [approvalsCommand, ['--local', 'a', 'b', '--records', records], /at most one approval id/],
    [approvalsCommand, ['--local'], /--records DIR is required/],
    [approvalsCommand, ['--local', '--admin', 'http://127.0.0.1:1'], /--admin needs the admin token/],
    [approvalsCommand, ['--local', '--admin', 'ftp://x', '--records', records], /not an http\(s\) URL/],
    [approvalsCommand, ['--local', '--records', records, '--all', '--phase', 'Pending'], /cannot be combined/],
    [approvalsCommand, ['--local', '--records', records, '--phase', 'Later'], /--phase must be one of/],
    [approveCommand, ['--local', 'apr-1', '--records', records, '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [command, args, message] of cases) {
    const x = io();
    assert.equal(await command(args, x), 2, args.join(' '));
    assert.match(x.err, message, args.join(' '));
    assert.match(x.err, /Usage:/);
  }
  const nobody = io({ loginName: () => undefined, env: {} });
  assert.equal(await approveCommand(['--local', 'apr-1', '--records', records], nobody), 2);
  assert.match(nobody.err, /give --as USER/);
  const fromEnv = io({ loginName: () => undefined, env: { USER: 'dave' } });
  assert.equal(await approveCommand(['--local', 'apr-0000000000', '--records', records], fromEnv), 1, 'reached the server as $USER');
  assert.match(fromEnv.err, /not found/);
  const help = io();
  assert.equal(await approveCommand(['--help'], help), 0);
  assert.match(help.out, /asserted/);
});

test('a stopped sidecar is reported as not running', async (t) => {
  const { records, server } = await sidecar(t);
  await server.close();
  const x = io();
  assert.equal(await approvalsCommand(['--local', '--records', records], x), 1);
  assert.match(x.err, /cannot reach the sidecar's admin API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the sidecar running\?/);
  await removeAdminInfo(records);
  const gone = io();
  assert.equal(await approvalsCommand(['--local', '--records', records], gone), 1);
  assert.match(gone.err, /admin.json not found: is a standalone sidecar running with --records/);
});

test('a stale or stolen-looking token is refused by the sidecar', async (t) => {
  const { records, server } = await sidecar(t);
  await writeAdminInfo(records, { url: server.url, token: generateAdminToken() });
  const x = io();
  assert.equal(await approvalsCommand(['--local', '--records', records], x), 1);
  assert.match(x.err, /a valid admin token is required/);
});

test('time in listings comes from the injected clock', async (t) => {
  const { records, approvals } = await sidecar(t);
  const a = approvals.request(input({ timeoutMs: 3_600_000 }));
  const created = Date.parse(approvals.get(a.id)?.createdAt ?? '');
  const x = io({ now: () => created + 30 * 60_000 });
  assert.equal(await approvalsCommand(['--local', '--records', records], x), 0);
  assert.match(x.out, new RegExp(`^${a.id} +Pending +30m +in 30m `, 'm'));
});
