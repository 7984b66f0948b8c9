// The audit event schema: one JSON object per line in the sidecar's write-ahead file, later shipped to the
// operator and stored in SessionChunks. Every decision is an event; nothing secret is in one (statements are
// redacted before they are recorded, tokens never are).

export interface SessionStartEvent {
  readonly type: 'session.start';
  readonly session: string;
  readonly seq: number;
  readonly time: string;
  readonly resource: string;
  readonly protocol: string;
  readonly subject: string;
  readonly issuer: string;
  readonly groups: readonly string[];
  readonly pod?: string;
  readonly namespace?: string;
  /** Client-side details the agent chose: database, user, application_name — never a password or token. */
  readonly client: Readonly<Record<string, string>>;
  readonly bundle: string;
}

export interface CommandEvent {
  readonly type: 'command';
  readonly session: string;
  readonly seq: number;
  readonly time: string;
  /** The command as recorded: SQL with secret literals redacted, or METHOD PATH, or the command line. */
  readonly command: string;
  readonly action: 'allow' | 'deny' | 'approve';
  readonly rule?: string;
  readonly policy?: string;
  readonly reasons: readonly string[];
  /** For held commands: the approval request and how it ended. */
  readonly approval?: { readonly id: string; readonly outcome?: 'approved' | 'denied' | 'expired'; readonly by?: string; readonly reason?: string };
  /** true when the command went to the server (allowed, or approved). */
  readonly forwarded: boolean;
}

export interface ResultEvent {
  readonly type: 'result';
  readonly session: string;
  readonly seq: number;
  readonly time: string;
  /** seq of the command event this result belongs to. */
  readonly command: number;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly masked: number;
  readonly error?: string;
}

export interface SessionEndEvent {
  readonly type: 'session.end';
  readonly session: string;
  readonly seq: number;
  readonly time: string;
  readonly reason: string;
  readonly counts: SessionCounts;
}

export interface SessionCounts {
  commands: number;
  allowed: number;
  denied: number;
  approved: number;
  masked: number;
}

export type AuditEvent = SessionStartEvent | CommandEvent | ResultEvent | SessionEndEvent;

/** Distributive Omit, so callers can build any event without the fields the recorder fills in. */
export type EventInput = AuditEvent extends infer E ? (E extends AuditEvent ? Omit<E, 'session' | 'seq' | 'time'> : never) : never;
