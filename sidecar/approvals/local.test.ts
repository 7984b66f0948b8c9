import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalOutcome, ApprovalRequestInput } from './backend.ts';
import { ApprovalRefused, LocalApprovals, type Approver, type RefusalKind } from './local.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

function input(over: Partial<ApprovalRequestInput> = {}): ApprovalRequestInput {
  return {
    policy: 'orders-agents',
    rule: 'writes-need-approval',
    resource: 'orders-db',
    session: 's-1',
    requester: 'agent-1',
    command: 'update orders set status = $1 where id = $2',
    fingerprint: 'fp-1',
    timeoutMs: 60_000,
    approvers: { users: ['alice'], groups: ['sre'] },
    ...over,
  };
}

/** The outcome if the promise has already settled, else 'pending'. */
async function peek(p: Promise<ApprovalOutcome>): Promise<ApprovalOutcome | 'pending'> {
  return Promise.race([p, Promise.resolve('pending' as const)]);
}

function refusal(kind: RefusalKind, message: RegExp) {
  return (error: unknown) => error instanceof ApprovalRefused && error.kind === kind && message.test(error.message);
}

const alice: Approver = { user: 'alice', groups: [] };

test('an approver by user or by group settles the outcome with who decided and why', async () => {
  const cases: { approver: Approver; decision: 'approve' | 'deny'; reason?: string; expected: ApprovalOutcome; phase: string }[] = [
    { approver: alice, decision: 'approve', expected: { outcome: 'approved', by: 'alice' }, phase: 'Approved' },
    { approver: { user: 'bob', groups: ['dev', 'sre'] }, decision: 'approve', reason: 'ticket 7', expected: { outcome: 'approved', by: 'bob', reason: 'ticket 7' }, phase: 'Approved' },
    { approver: { user: 'carol', groups: ['sre'] }, decision: 'deny', reason: 'not now', expected: { outcome: 'denied', by: 'carol', reason: 'not now' }, phase: 'Denied' },
  ];
  for (const c of cases) {
    const approvals = new LocalApprovals();
    const pending = approvals.request(input());
    assert.equal(await peek(pending.result), 'pending');
    const item = approvals.decide(pending.id, c.decision, c.approver, c.reason);
    assert.equal(item.phase, c.phase);
    assert.equal(item.decidedBy, c.approver.user);
    assert.ok(item.decidedAt);
    assert.deepEqual(await pending.result, c.expected);
    approvals.close();
  }
});

test('the admission rules refuse with a kind and leave the request pending', () => {
  const cases: { name: string; approver: Approver; kind: RefusalKind; message: RegExp }[] = [
    { name: 'self-approval, even when in an approver group', approver: { user: 'agent-1', groups: ['sre'] }, kind: 'self-approval', message: /own request/ },
    { name: 'not an approver', approver: { user: 'mallory', groups: ['dev'] }, kind: 'not-approver', message: /mallory is not an approver/ },
    { name: 'group names are exact', approver: { user: 'mallory', groups: ['SRE', 'sre '] }, kind: 'not-approver', message: /not an approver/ },
    { name: 'empty user', approver: { user: ' ', groups: ['sre'] }, kind: 'invalid', message: /must name a user/ },
  ];
  for (const c of cases) {
    const approvals = new LocalApprovals();
    const { id } = approvals.request(input());
    assert.throws(() => approvals.decide(id, 'approve', c.approver), refusal(c.kind, c.message), c.name);
    assert.equal(approvals.get(id)?.phase, 'Pending', c.name);
    approvals.close();
  }
});

test('an unknown id is not found; a decided request stays decided', () => {
  const approvals = new LocalApprovals();
  assert.throws(() => approvals.decide('apr-nope', 'approve', alice), refusal('not-found', /not found/));
  const { id } = approvals.request(input());
  approvals.decide(id, 'deny', alice);
  assert.throws(() => approvals.decide(id, 'approve', alice), refusal('already-decided', /already Denied/));
  assert.equal(approvals.get(id)?.phase, 'Denied');
  approvals.close();
});

test('a request expires at its timeout and cannot be decided afterwards', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const approvals = new LocalApprovals();
  const pending = approvals.request(input({ timeoutMs: 30_000 }));
  assert.equal(approvals.get(pending.id)?.expiresAt, '2025-01-01T00:00:30.000Z');
  t.mock.timers.tick(29_999);
  assert.equal(await peek(pending.result), 'pending');
  t.mock.timers.tick(1);
  assert.deepEqual(await pending.result, { outcome: 'expired' });
  assert.equal(approvals.get(pending.id)?.phase, 'Expired');
  assert.throws(() => approvals.decide(pending.id, 'approve', alice), refusal('already-decided', /already Expired/));
});

test('the deadline counts even when the timer has not fired yet', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 });
  const approvals = new LocalApprovals();
  const pending = approvals.request(input({ timeoutMs: 1000 }));
  t.mock.timers.setTime(T0 + 1000);
  assert.throws(() => approvals.decide(pending.id, 'approve', alice), refusal('expired', /has expired/));
  assert.deepEqual(await pending.result, { outcome: 'expired' });
  approvals.close();
});

test('a timeout that is not a positive number expires at once (fail closed)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  for (const timeoutMs of [0, -5, Number.NaN]) {
    const approvals = new LocalApprovals();
    const pending = approvals.request(input({ timeoutMs }));
    t.mock.timers.tick(0);
    assert.deepEqual(await pending.result, { outcome: 'expired' }, String(timeoutMs));
  }
});

test('a timeout beyond the timer range is clamped instead of firing at once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const approvals = new LocalApprovals();
  const pending = approvals.request(input({ timeoutMs: 40 * 86_400_000 }));
  t.mock.timers.tick(1000);
  assert.equal(await peek(pending.result), 'pending');
  assert.equal(approvals.get(pending.id)?.expiresAt, new Date(T0 + 2 ** 31 - 1).toISOString());
  approvals.close();
});

test('withdraw expires a pending request and leaves decided ones alone', async () => {
  const approvals = new LocalApprovals();
  const a = approvals.request(input());
  const b = approvals.request(input());
  approvals.decide(b.id, 'approve', alice);
  approvals.withdraw(a.id);
  approvals.withdraw(b.id);
  approvals.withdraw('apr-unknown');
  assert.deepEqual(await a.result, { outcome: 'expired' });
  assert.equal(approvals.get(a.id)?.phase, 'Expired');
  assert.equal(approvals.get(b.id)?.phase, 'Approved');
});

test('close expires every pending request', async () => {
  const approvals = new LocalApprovals();
  const all = [approvals.request(input()), approvals.request(input({ session: 's-2' }))];
  approvals.close();
  assert.deepEqual(await Promise.all(all.map((p) => p.result)), [{ outcome: 'expired' }, { outcome: 'expired' }]);
});

test('only decided requests are pruned beyond keepDecided, oldest first', () => {
  const approvals = new LocalApprovals({ keepDecided: 2 });
  const ids = [0, 1, 2].map(() => approvals.request(input()).id);
  assert.equal(approvals.list().length, 3, 'pending requests are never dropped');
  approvals.decide(ids[0] as string, 'deny', alice);
  approvals.decide(ids[1] as string, 'deny', alice);
  assert.deepEqual(approvals.list().map((a) => a.id), [ids[1], ids[2]]);
  approvals.close();
});

test('ids are unique and list keeps request order', () => {
  const approvals = new LocalApprovals();
  const ids = Array.from({ length: 50 }, () => approvals.request(input()).id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^apr-[0-9a-f]{10}$/);
  assert.deepEqual(approvals.list().map((a) => a.id), ids);
  approvals.close();
});
