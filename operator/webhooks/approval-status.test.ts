import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalRequest } from '../../core/api/index.ts';
import type { AdmissionRequest, UserInfo } from './admission.ts';
import { mutateApprovalStatus, type ApprovalStatusDeps } from './approval-status.ts';
import { applyPatch, patchOf } from './testing.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');

function approvalRequest(status?: ApprovalRequest['status'], spec: Partial<ApprovalRequest['spec']> = {}): ApprovalRequest {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: 'ar-1', namespace: 'agents' },
    spec: {
      policy: 'support-agent',
      rule: 'order-writes',
      resource: 'orders-db',
      pod: 'support-agent-abc',
      session: 's-1',
      requester: 'system:serviceaccount:agents:support-agent',
      command: 'DELETE FROM orders WHERE id = 1',
      fingerprint: 'f1',
      expiresAt: '2025-06-01T12:10:00Z',
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const deps: ApprovalStatusDeps = {
  policies: {
    get: (ns, name) =>
      ns === 'agents' && name === 'support-agent' ? { spec: { approval: { approvers: { groups: ['sre'], users: ['dana'] } } } } : undefined,
  },
  now: () => NOW,
};

const alice: UserInfo = { username: 'alice', groups: ['sre', 'system:authenticated'] };
const carol: UserInfo = { username: 'carol', groups: ['dev', 'system:authenticated'] };

function review(after: ApprovalRequest, before: ApprovalRequest, userInfo: UserInfo, subResource = 'status'): AdmissionRequest {
  return {
    uid: 'u',
    resource: { group: 'portcullis.dev', version: 'v1alpha1', resource: 'approvalrequests' },
    subResource,
    namespace: 'agents',
    operation: 'UPDATE',
    userInfo,
    object: after,
    oldObject: before,
  };
}

const pending = approvalRequest({ phase: 'Pending' });

describe('mutateApprovalStatus: decisions are stamped from the authenticated user', () => {
  it('an approver of the policy\'s group approves; decidedBy/decidedAt come from the request, not the body', () => {
    const body = approvalRequest({ phase: 'Approved', decidedBy: 'someone-else', decidedAt: '1999-01-01T00:00:00Z', reason: 'ok' });
    const res = mutateApprovalStatus(review(body, pending, alice), deps);
    assert.equal(res.allowed, true, res.status?.message);
    const stored = applyPatch(body, patchOf(res));
    assert.deepEqual(stored.status, { phase: 'Approved', decidedBy: 'alice', decidedAt: '2025-06-01T12:00:00Z', reason: 'ok' });
  });

  it('an approver listed by user name may deny', () => {
    const res = mutateApprovalStatus(review(approvalRequest({ phase: 'Denied' }), pending, { username: 'dana', groups: [] }), deps);
    assert.equal(applyPatch(approvalRequest({ phase: 'Denied' }), patchOf(res)).status?.decidedBy, 'dana');
  });

  it('the operator expiring a request is stamped too', () => {
    const op: UserInfo = { username: 'system:serviceaccount:portcullis-system:portcullis-operator' };
    const res = mutateApprovalStatus(review(approvalRequest({ phase: 'Expired' }), pending, op), deps);
    assert.equal(applyPatch(approvalRequest({ phase: 'Expired' }), patchOf(res)).status?.decidedBy, op.username);
  });

  it('a Pending status keeps no body-supplied decider', () => {
    const body = approvalRequest({ phase: 'Pending', decidedBy: 'alice', decidedAt: '2025-06-01T12:00:00Z' });
    const res = mutateApprovalStatus(review(body, approvalRequest(), carol), deps);
    assert.equal(res.allowed, true);
    assert.deepEqual(applyPatch(body, patchOf(res)).status, { phase: 'Pending' });
  });
});

describe('mutateApprovalStatus: refusals', () => {
  const cases: { name: string; after: ApprovalRequest; before?: ApprovalRequest; user: UserInfo; message: RegExp }[] = [
    {
      name: 'self-approval (full service-account username)',
      after: approvalRequest({ phase: 'Approved' }, { requester: 'alice' }),
      before: approvalRequest({ phase: 'Pending' }, { requester: 'alice' }),
      user: alice,
      message: /alice requested this command and cannot decide it/,
    },
    {
      name: 'self-approval by the agent\'s service account',
      after: approvalRequest({ phase: 'Approved' }),
      user: { username: 'system:serviceaccount:agents:support-agent', groups: ['sre'] },
      message: /system:serviceaccount:agents:support-agent requested this command/,
    },
    { name: 'not an approver', after: approvalRequest({ phase: 'Approved' }), user: carol, message: /carol is not an approver of AgentPolicy agents\/support-agent \(approvers: user dana, group sre\)/ },
    {
      name: 'after expiry',
      after: approvalRequest({ phase: 'Approved' }, { expiresAt: '2025-06-01T11:59:59Z' }),
      before: approvalRequest({ phase: 'Pending' }, { expiresAt: '2025-06-01T11:59:59Z' }),
      user: alice,
      message: /expired at 2025-06-01T11:59:59Z; it can no longer be approved/,
    },
    {
      name: 'changing a decided request',
      after: approvalRequest({ phase: 'Denied', decidedBy: 'bob', decidedAt: '2025-06-01T11:00:00Z' }),
      before: approvalRequest({ phase: 'Approved', decidedBy: 'bob', decidedAt: '2025-06-01T11:00:00Z' }),
      user: alice,
      message: /already Approved \(by bob\); a decided request cannot change/,
    },
    {
      name: 'a policy that does not exist',
      after: approvalRequest({ phase: 'Approved' }, { policy: 'gone' }),
      before: approvalRequest({ phase: 'Pending' }, { policy: 'gone' }),
      user: alice,
      message: /AgentPolicy "gone" of ApprovalRequest agents\/ar-1 is not found/,
    },
    { name: 'no authenticated user', after: approvalRequest({ phase: 'Approved' }), user: {}, message: /no authenticated user/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const res = mutateApprovalStatus(review(c.after, c.before ?? pending, c.user), deps);
      assert.equal(res.allowed, false);
      assert.match(res.status?.message ?? '', c.message);
    });
  }

  it('an unchanged status on a decided request passes (metadata-only writes)', () => {
    const decided = approvalRequest({ phase: 'Approved', decidedBy: 'alice', decidedAt: '2025-06-01T11:00:00Z' });
    assert.equal(mutateApprovalStatus(review(decided, decided, carol), deps).allowed, true);
  });

  it('writes outside the status subresource are not this webhook\'s', () => {
    const res = mutateApprovalStatus(review(approvalRequest({ phase: 'Approved' }), pending, carol, ''), deps);
    assert.equal(res.allowed, true);
    assert.equal(res.patch, undefined);
  });
});
