// Mutating webhook on approvalrequests/status UPDATE: the only way a held command gets decided. Who decided is the
// API server's authenticated user (request.userInfo), stamped here — never a value from the body — and the same step
// refuses self-approval, approvers outside the policy's approver set, decisions after expiry, and any change to a
// request that is already decided.
import type { ApprovalRequest } from '../../core/api/index.ts';
import { allow, allowWithPatch, deny, type AdmissionRequest, type AdmissionResponse, type JsonPatchOp } from './admission.ts';

export interface ApprovalPolicy {
  readonly spec?: { readonly approval?: { readonly approvers?: { readonly users?: readonly string[]; readonly groups?: readonly string[] } } };
}

export interface ApprovalStatusDeps {
  /** The AgentPolicy named by the request's spec.policy, from the informer cache. */
  readonly policies: { get(namespace: string, name: string): ApprovalPolicy | undefined };
  readonly now?: () => Date;
}

const DECIDED: ReadonlySet<string> = new Set(['Approved', 'Denied', 'Expired']);
const DECISIONS: ReadonlySet<string> = new Set(['Approved', 'Denied']);
const PHASES: ReadonlySet<string> = new Set(['Pending', 'Approved', 'Denied', 'Expired']);

type Status = NonNullable<ApprovalRequest['status']>;

function sameStatus(a: Status | undefined, b: Status | undefined): boolean {
  const norm = (s: Status | undefined) => JSON.stringify([s?.phase ?? '', s?.decidedBy ?? '', s?.decidedAt ?? '', s?.reason ?? '']);
  return norm(a) === norm(b);
}

/** spec.policy is the policy's name in the request's namespace, or a `namespace/name` id of that namespace. */
function policyName(ref: string, namespace: string): string | undefined {
  const slash = ref.indexOf('/');
  if (slash < 0) return ref;
  return ref.slice(0, slash) === namespace ? ref.slice(slash + 1) : undefined;
}

export function mutateApprovalStatus(req: AdmissionRequest, deps: ApprovalStatusDeps): AdmissionResponse {
  if (req.operation !== 'UPDATE' || req.subResource !== 'status') return allow(req.uid);
  const after = req.object as ApprovalRequest | undefined;
  const before = req.oldObject as ApprovalRequest | undefined;
  if (typeof after !== 'object' || after === null || typeof after.spec !== 'object' || after.spec === null) {
    return deny(req.uid, 'portcullis: the request carries no ApprovalRequest', 400);
  }
  const oldStatus = before?.status;
  const newStatus = after.status;
  if (sameStatus(oldStatus, newStatus)) return allow(req.uid);
  const id = `ApprovalRequest ${req.namespace ?? after.metadata?.namespace}/${after.metadata?.name}`;
  if (oldStatus?.phase && DECIDED.has(oldStatus.phase)) {
    return deny(req.uid, `portcullis: ${id} is already ${oldStatus.phase}${oldStatus.decidedBy ? ` (by ${oldStatus.decidedBy})` : ''}; a decided request cannot change`);
  }
  const phase = newStatus?.phase ?? 'Pending';
  if (!PHASES.has(phase)) return deny(req.uid, `portcullis: unknown phase ${JSON.stringify(phase)}`, 422);

  if (phase === 'Pending') {
    // Not a decision: whoever wrote it, a body-supplied decider or time is dropped.
    const ops: JsonPatchOp[] = [];
    if (newStatus?.decidedBy !== undefined) ops.push({ op: 'remove', path: '/status/decidedBy' });
    if (newStatus?.decidedAt !== undefined) ops.push({ op: 'remove', path: '/status/decidedAt' });
    return allowWithPatch(req.uid, ops);
  }

  const user = req.userInfo.username;
  if (!user) return deny(req.uid, 'portcullis: the API server sent no authenticated user; nobody can be stamped as the decider');
  const now = (deps.now ?? (() => new Date()))();

  if (DECISIONS.has(phase)) {
    const expires = Date.parse(after.spec.expiresAt);
    if (!Number.isFinite(expires)) return deny(req.uid, `portcullis: ${id} has no valid spec.expiresAt; it cannot be decided`);
    if (now.getTime() >= expires) return deny(req.uid, `portcullis: ${id} expired at ${after.spec.expiresAt}; it can no longer be ${phase.toLowerCase()}`);
    // Full usernames compare: system:serviceaccount:ns:name for service accounts, the authenticator's name otherwise.
    if (user === after.spec.requester) {
      return deny(req.uid, `portcullis: ${user} requested this command and cannot decide it; another approver must`);
    }
    const namespace = req.namespace ?? after.metadata?.namespace ?? '';
    const name = policyName(after.spec.policy, namespace);
    const policy = name === undefined ? undefined : deps.policies.get(namespace, name);
    if (!policy) return deny(req.uid, `portcullis: AgentPolicy ${JSON.stringify(after.spec.policy)} of ${id} is not found in namespace ${namespace}; nobody can approve for it`);
    const approvers = policy.spec?.approval?.approvers;
    const users = approvers?.users ?? [];
    const groups = approvers?.groups ?? [];
    const userGroups = req.userInfo.groups ?? [];
    if (!users.includes(user) && !userGroups.some((g) => groups.includes(g))) {
      const who = [...users.map((u) => `user ${u}`), ...groups.map((g) => `group ${g}`)].join(', ') || 'nobody';
      return deny(req.uid, `portcullis: ${user} is not an approver of AgentPolicy ${namespace}/${name} (approvers: ${who})`);
    }
  }
  // Approved, Denied, Expired: stamped with who and when, whatever the body said.
  const ops: JsonPatchOp[] = [
    { op: 'add', path: '/status/decidedBy', value: user },
    { op: 'add', path: '/status/decidedAt', value: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  ];
  return allowWithPatch(req.uid, ops);
}
