// Approval backends: where a held command waits for a person. Standalone mode decides locally (admin API, or
// `kubectl-portcullis approve --local`); the operator-backed backend (ApprovalRequest objects) implements the same
// interface in cluster mode.

export interface ApprovalRequestInput {
  readonly policy: string;
  readonly rule: string;
  readonly resource: string;
  readonly session: string;
  readonly pod?: string;
  /** The token subject of the agent: it can never approve its own request. */
  readonly requester: string;
  /** Redacted command text. */
  readonly command: string;
  readonly fingerprint: string;
  readonly timeoutMs: number;
  readonly approvers: { readonly users: readonly string[]; readonly groups: readonly string[] };
}

export type ApprovalOutcome =
  | { readonly outcome: 'approved'; readonly by: string; readonly reason?: string }
  | { readonly outcome: 'denied'; readonly by: string; readonly reason?: string }
  /** `reason`: why no person could decide (e.g. no approval backend), when it was not simply the timeout. */
  | { readonly outcome: 'expired'; readonly reason?: string };

export interface PendingApproval {
  readonly id: string;
  readonly request: ApprovalRequestInput;
  /** Resolves when decided or expired; never rejects (a backend failure is an expiry: fail closed). */
  readonly result: Promise<ApprovalOutcome>;
}

export interface ApprovalBackend {
  request(input: ApprovalRequestInput): PendingApproval;
  /**
   * The session stopped waiting (its client went away): the request expires now, so nobody approves a command that
   * will never run. Optional: a backend without it lets the request expire at its timeout.
   */
  withdraw?(id: string): void;
}
