// Standalone approvals: held commands wait in memory until a person decides through the admin API. The same
// admission rules as the cluster's webhook: no self-approval, only the policy's approvers, nothing after expiry,
// a decided request stays decided. The outcome promise carries who decided, so the session can record it.
//
// In standalone mode the approver's identity is *asserted* by whoever holds the admin token (a development
// mechanism); in cluster mode the API server's authenticated user is stamped by the operator's webhook instead.
import { randomBytes } from 'node:crypto';
import type { ApprovalBackend, ApprovalOutcome, ApprovalRequestInput, PendingApproval } from './backend.ts';

export interface Approver {
  readonly user: string;
  readonly groups: readonly string[];
}

export type ApprovalPhase = 'Pending' | 'Approved' | 'Denied' | 'Expired';

export interface LocalApproval {
  readonly id: string;
  readonly request: ApprovalRequestInput;
  readonly createdAt: string;
  readonly expiresAt: string;
  phase: ApprovalPhase;
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

/** Why a decision was refused; the admin API maps each kind to an HTTP status. */
export type RefusalKind = 'not-found' | 'self-approval' | 'not-approver' | 'expired' | 'already-decided' | 'invalid';

export class ApprovalRefused extends Error {
  readonly kind: RefusalKind;
  constructor(kind: RefusalKind, message: string) {
    super(message);
    this.name = 'ApprovalRefused';
    this.kind = kind;
  }
}

/** setTimeout fires at once for delays above 2^31-1 ms; longer timeouts are clamped (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly item: LocalApproval;
  readonly settle: (o: ApprovalOutcome) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface LocalApprovalsOptions {
  /** Decided requests kept for listing; the oldest are forgotten first. Pending ones are never dropped. */
  readonly keepDecided?: number;
}

export class LocalApprovals implements ApprovalBackend {
  readonly #items = new Map<string, Entry>();
  readonly #keep: number;

  constructor(opts: LocalApprovalsOptions = {}) {
    this.#keep = opts.keepDecided ?? 1000;
  }

  request(input: ApprovalRequestInput): PendingApproval {
    const id = `apr-${randomBytes(5).toString('hex')}`;
    const now = Date.now();
    // A timeout that is not a positive number expires at once: fail closed rather than hold for ever.
    const timeoutMs = Number.isFinite(input.timeoutMs) && input.timeoutMs > 0 ? Math.min(input.timeoutMs, MAX_TIMER_MS) : 0;
    const item: LocalApproval = {
      id,
      request: input,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + timeoutMs).toISOString(),
      phase: 'Pending',
    };
    let settle!: (o: ApprovalOutcome) => void;
    const result = new Promise<ApprovalOutcome>((resolve) => (settle = resolve));
    const entry: Entry = { item, settle, timer: undefined };
    this.#items.set(id, entry);
    entry.timer = setTimeout(() => this.#expire(entry), timeoutMs);
    entry.timer.unref();
    this.#prune();
    return { id, request: input, result };
  }

  /** Every known request, oldest first (pending ones and the most recently decided). */
  list(): LocalApproval[] {
    return [...this.#items.values()].map((e) => e.item);
  }

  get(id: string): LocalApproval | undefined {
    return this.#items.get(id)?.item;
  }

  /** Approves or denies; throws ApprovalRefused (with its kind) when the admission rules say no. */
  decide(id: string, decision: 'approve' | 'deny', approver: Approver, reason?: string): LocalApproval {
    const entry = this.#items.get(id);
    if (!entry) throw new ApprovalRefused('not-found', `approval request ${id} not found`);
    const { item } = entry;
    if (typeof approver?.user !== 'string' || approver.user.trim() === '' || !Array.isArray(approver.groups)) {
      throw new ApprovalRefused('invalid', 'the approver must name a user');
    }
    if (item.phase !== 'Pending') throw new ApprovalRefused('already-decided', `approval request ${id} is already ${item.phase}`);
    // The timer may lag behind the clock (a busy event loop): the deadline is what counts.
    if (Date.parse(item.expiresAt) <= Date.now()) {
      this.#expire(entry);
      throw new ApprovalRefused('expired', `approval request ${id} has expired`);
    }
    if (approver.user === item.request.requester) {
      throw new ApprovalRefused('self-approval', 'the requester cannot decide its own request');
    }
    const { users, groups } = item.request.approvers;
    if (!users.includes(approver.user) && !approver.groups.some((g) => groups.includes(g))) {
      throw new ApprovalRefused(
        'not-approver',
        `${approver.user} is not an approver of this request (approvers: users ${JSON.stringify(users)}, groups ${JSON.stringify(groups)})`,
      );
    }
    item.phase = decision === 'approve' ? 'Approved' : 'Denied';
    item.decidedBy = approver.user;
    item.decidedAt = new Date().toISOString();
    if (reason) item.reason = reason;
    clearTimeout(entry.timer);
    entry.settle({ outcome: decision === 'approve' ? 'approved' : 'denied', by: approver.user, ...(reason ? { reason } : {}) });
    this.#prune();
    return item;
  }

  /**
   * The session gave up waiting (the client went away): the request expires now, so nobody approves a command
   * that will never run. Unknown or decided requests are left alone.
   */
  withdraw(id: string): void {
    const entry = this.#items.get(id);
    if (entry) this.#expire(entry);
  }

  /** Shutdown: every pending request expires (its held command is denied) and no timer is left behind. */
  close(): void {
    for (const entry of this.#items.values()) this.#expire(entry);
  }

  #expire(entry: Entry): void {
    clearTimeout(entry.timer);
    if (entry.item.phase !== 'Pending') return;
    entry.item.phase = 'Expired';
    entry.item.decidedAt = new Date().toISOString();
    entry.settle({ outcome: 'expired' });
  }

  #prune(): void {
    if (this.#items.size <= this.#keep) return;
    for (const [id, e] of this.#items) {
      if (this.#items.size <= this.#keep) break;
      if (e.item.phase !== 'Pending') this.#items.delete(id);
    }
  }
}
