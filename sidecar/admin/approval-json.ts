// The admin API's wire shapes for approvals, shared by the server and the CLI's client. Field names follow the
// ApprovalRequest CRD (spec + status flattened) so standalone and cluster output read the same.
import type { Approver, ApprovalPhase, LocalApproval } from '../approvals/local.ts';
import type { ApprovalRequestInput } from '../approvals/backend.ts';

/** The request as the backend got it (without its timeout, which `expiresAt` replaces), with its state. */
export interface ApprovalJson extends Omit<ApprovalRequestInput, 'timeoutMs'> {
  readonly id: string;
  readonly phase: ApprovalPhase;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly reason?: string;
}

export const APPROVAL_PHASES: readonly ApprovalPhase[] = ['Pending', 'Approved', 'Denied', 'Expired'];

export function toApprovalJson(item: LocalApproval): ApprovalJson {
  const r = item.request;
  return {
    id: item.id,
    phase: item.phase,
    policy: r.policy,
    rule: r.rule,
    resource: r.resource,
    session: r.session,
    ...(r.pod === undefined ? {} : { pod: r.pod }),
    requester: r.requester,
    command: r.command,
    fingerprint: r.fingerprint,
    approvers: { users: [...r.approvers.users], groups: [...r.approvers.groups] },
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    ...(item.decidedBy === undefined ? {} : { decidedBy: item.decidedBy }),
    ...(item.decidedAt === undefined ? {} : { decidedAt: item.decidedAt }),
    ...(item.reason === undefined ? {} : { reason: item.reason }),
  };
}

export interface DecisionBody {
  readonly approver: Approver;
  readonly reason?: string;
}

const MAX_NAME = 256;
const MAX_GROUPS = 100;
const MAX_REASON = 1024;
// Names end up in records and terminals: no control characters (no newlines, no escape sequences).
const PRINTABLE_NAME = /^[^\p{Cc}]+$/u;

function name(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME || !PRINTABLE_NAME.test(value)) {
    throw new TypeError(`${what} must be a non-empty string of at most ${MAX_NAME} printable characters`);
  }
  return value;
}

/** Validates a POST …/approve|deny body: `{approver: {user, groups?}, reason?}`; unknown fields are refused. Throws TypeError. */
export function parseDecisionBody(value: unknown): DecisionBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('the body must be a JSON object');
  const body = value as Record<string, unknown>;
  for (const key of Object.keys(body)) if (key !== 'approver' && key !== 'reason') throw new TypeError(`unknown field "${key}"`);
  const approver = body.approver;
  if (typeof approver !== 'object' || approver === null || Array.isArray(approver)) throw new TypeError('"approver" must be an object {user, groups}');
  const a = approver as Record<string, unknown>;
  for (const key of Object.keys(a)) if (key !== 'user' && key !== 'groups') throw new TypeError(`unknown field "approver.${key}"`);
  const user = name(a.user, 'approver.user');
  const groupsValue = a.groups ?? [];
  if (!Array.isArray(groupsValue) || groupsValue.length > MAX_GROUPS) throw new TypeError(`approver.groups must be a list of at most ${MAX_GROUPS} names`);
  const groups = groupsValue.map((g, i) => name(g, `approver.groups[${i}]`));
  let reason: string | undefined;
  if (body.reason !== undefined) {
    if (typeof body.reason !== 'string' || body.reason.length > MAX_REASON || /\p{Cc}/u.test(body.reason)) {
      throw new TypeError(`"reason" must be a string of at most ${MAX_REASON} printable characters`);
    }
    reason = body.reason.trim() === '' ? undefined : body.reason;
  }
  return { approver: { user, groups }, ...(reason === undefined ? {} : { reason }) };
}
