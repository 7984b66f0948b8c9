// `kubectl-portcullis approvals|approve|deny --local`: decide held commands of a standalone sidecar through its
// admin API. The sidecar writes RECORDS/admin.json ({url}) and RECORDS/admin-token (0600) at start; these commands
// read both, so `--records DIR` (or $PORTCULLIS_RECORDS) is all they need.
//
// Identity: in standalone mode the approver is *asserted* — `--as USER [--as-group G]…`, default the login name —
// and whoever can read admin-token can assert any identity. That is a development mechanism. In a cluster, people
// decide ApprovalRequest objects and the operator stamps the API server's authenticated user instead.
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { ApprovalPhase } from '../sidecar/approvals/local.ts';
import { readAdminInfo, readAdminToken, type AdminInfo } from '../sidecar/admin/admin-info.ts';
import { APPROVAL_PHASES, type ApprovalJson } from '../sidecar/admin/approval-json.ts';
import { decideApproval, getApproval, listApprovals, type AdminEndpoint } from '../sidecar/admin/client.ts';
import { clip, printable, printableLines, shortDuration } from '../sidecar/recorder/human-text.ts';

export const approveUsage = `Usage:
  kubectl-portcullis approvals --local [ID] [--all | --phase PHASE] [--json]   [--records DIR] [--admin URL]
  kubectl-portcullis approve   --local ID [--reason TEXT] [--as USER] [--as-group GROUP]...  [--records DIR] [--admin URL]
  kubectl-portcullis deny      --local ID [--reason TEXT] [--as USER] [--as-group GROUP]...  [--records DIR] [--admin URL]

--local talks to a standalone sidecar (portcullis-sidecar --records DIR): its admin URL and token are read from
DIR/admin.json and DIR/admin-token. DIR defaults to $PORTCULLIS_RECORDS. --admin URL overrides the URL; the token then
comes from DIR/admin-token or $PORTCULLIS_ADMIN_TOKEN.
approvals   lists pending requests (--all: every phase; --phase Pending|Approved|Denied|Expired); with ID, one in full
approve     lets the held command run; deny refuses it. The requester can never decide its own request, and the
            approver must be one of the policy's approvers (by user or group).
--as        the approver's user name (default: your login name); --as-group adds a group, repeatable.
            Standalone identities are asserted by whoever holds the admin token: a development mechanism. In a
            cluster, approvals are ApprovalRequest objects and the approver is the API server's authenticated user.
Exit status: 0 on success, 1 on errors or refusals, 2 for bad usage.`;

export interface ApproveIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: the OS login name. */
  readonly loginName?: () => string | undefined;
  /** Epoch ms; default Date.now. */
  readonly now?: () => number;
}

class ApproveUsageError extends Error {}

const CONNECTION_OPTIONS = {
  local: { type: 'boolean' },
  records: { type: 'string' },
  admin: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function requireLocal(local: boolean | undefined): void {
  if (!local) {
    throw new ApproveUsageError('only --local (a standalone sidecar) is available yet; in a cluster, ApprovalRequest objects are decided through the API server');
  }
}

/** Where the admin API is and which token to present. */
export async function resolveEndpoint(
  flags: { readonly records?: string | undefined; readonly admin?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): Promise<AdminEndpoint & Partial<AdminInfo>> {
  const records = flags.records ?? (env.PORTCULLIS_RECORDS || undefined);
  if (flags.admin !== undefined) {
    if (!URL.canParse(flags.admin) || !/^https?:$/.test(new URL(flags.admin).protocol)) throw new ApproveUsageError(`--admin ${JSON.stringify(flags.admin)} is not an http(s) URL`);
    const token = env.PORTCULLIS_ADMIN_TOKEN || (records ? await readAdminToken(records) : undefined);
    if (!token) throw new ApproveUsageError('--admin needs the admin token: give --records DIR (for DIR/admin-token) or set PORTCULLIS_ADMIN_TOKEN');
    return { url: flags.admin, token };
  }
  if (!records) throw new ApproveUsageError("--records DIR is required (the sidecar's --records directory), or set PORTCULLIS_RECORDS");
  return readAdminInfo(records);
}

function defaultLogin(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined; // no passwd entry (some containers): fall back to the environment
  }
}

function phaseOf(value: string | undefined): ApprovalPhase | undefined {
  if (value === undefined) return undefined;
  const match = APPROVAL_PHASES.find((p) => p.toLowerCase() === value.toLowerCase());
  if (!match) throw new ApproveUsageError(`--phase must be one of ${APPROVAL_PHASES.join(', ')}`);
  return match;
}

function relative(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  return ms >= 0 ? `in ${shortDuration(ms)}` : `${shortDuration(-ms)} ago`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ').trimEnd()).join('\n');
}

function listing(items: readonly ApprovalJson[], now: number): string {
  const rows = [['ID', 'PHASE', 'AGE', 'EXPIRES', 'RESOURCE', 'RULE', 'REQUESTER', 'COMMAND']];
  for (const a of items) {
    const expires = a.phase === 'Pending' ? relative(a.expiresAt, now) : a.decidedBy ? `by ${printable(a.decidedBy)}` : '-';
    rows.push([printable(a.id), a.phase, shortDuration(now - Date.parse(a.createdAt)), expires, printable(a.resource), printable(a.rule), printable(a.requester), clip(a.command, 60)]);
  }
  return table(rows);
}

function details(a: ApprovalJson, now: number): string {
  const lines = [
    `id          ${printable(a.id)}`,
    `phase       ${a.phase}${a.decidedBy ? ` by ${printable(a.decidedBy)}` : ''}${a.decidedAt ? ` at ${a.decidedAt}` : ''}`,
    ...(a.reason ? [`reason      ${printable(a.reason)}`] : []),
    `requester   ${printable(a.requester)}  (session ${printable(a.session)}${a.pod ? `, pod ${printable(a.pod)}` : ''})`,
    `resource    ${printable(a.resource)}`,
    `rule        ${printable(a.rule)} (policy ${printable(a.policy)})`,
    `approvers   users [${a.approvers.users.map(printable).join(', ')}], groups [${a.approvers.groups.map(printable).join(', ')}]`,
    `created     ${a.createdAt} (${relative(a.createdAt, now)})`,
    `expires     ${a.expiresAt} (${relative(a.expiresAt, now)})`,
    `fingerprint ${printable(a.fingerprint)}`,
    'command',
    ...printableLines(a.command).map((l) => `  ${l}`),
  ];
  return lines.join('\n');
}

async function approvalsRun(argv: readonly string[], io: ApproveIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { ...CONNECTION_OPTIONS, all: { type: 'boolean' }, phase: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(`${approveUsage}\n`);
    return 0;
  }
  requireLocal(values.local);
  if (positionals.length > 1) throw new ApproveUsageError('at most one approval id');
  if (values.all && values.phase !== undefined) throw new ApproveUsageError('--all and --phase cannot be combined');
  const endpoint = await resolveEndpoint(values, io.env ?? process.env);
  const now = (io.now ?? Date.now)();
  const [id] = positionals;
  if (id !== undefined) {
    const item = await getApproval(endpoint, id);
    io.stdout.write(values.json ? `${JSON.stringify(item, null, 2)}\n` : `${details(item, now)}\n`);
    return 0;
  }
  const phase = values.all ? undefined : (phaseOf(values.phase) ?? 'Pending');
  const items = await listApprovals(endpoint, phase === undefined ? {} : { phase });
  if (values.json) io.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
  else if (items.length === 0) io.stdout.write(phase === undefined ? 'no approval requests\n' : `no ${phase.toLowerCase()} approval requests\n`);
  else io.stdout.write(`${listing(items, now)}\n`);
  return 0;
}

async function decideRun(decision: 'approve' | 'deny', argv: readonly string[], io: ApproveIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { ...CONNECTION_OPTIONS, reason: { type: 'string' }, as: { type: 'string' }, 'as-group': { type: 'string', multiple: true } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(`${approveUsage}\n`);
    return 0;
  }
  requireLocal(values.local);
  if (positionals.length !== 1) throw new ApproveUsageError(`${decision} needs exactly one approval id (see: kubectl-portcullis approvals --local)`);
  const id = positionals[0] as string;
  const env = io.env ?? process.env;
  const user = values.as ?? (io.loginName ?? defaultLogin)() ?? env.USER ?? env.LOGNAME;
  if (!user || user.trim() === '') throw new ApproveUsageError('cannot tell who you are: give --as USER');
  const groups = values['as-group'] ?? [];
  const endpoint = await resolveEndpoint(values, env);
  const item = await decideApproval(endpoint, id, decision, { user, groups }, values.reason);
  const as = `${printable(user)}${groups.length > 0 ? ` (groups ${groups.map(printable).join(', ')})` : ''}`;
  const effect = decision === 'approve' ? 'the held command runs now' : 'the held command is refused';
  io.stdout.write(`${printable(item.id)} ${item.phase.toLowerCase()} as ${as}: ${effect}\n`);
  return 0;
}

async function guarded(name: string, io: ApproveIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof ApproveUsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`kubectl-portcullis ${name}: ${(error as Error).message}\n${approveUsage}\n`);
      return 2;
    }
    io.stderr.write(`kubectl-portcullis ${name}: ${printable(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  }
}

/** `kubectl-portcullis approvals …`: returns the exit code. */
export function approvalsCommand(argv: readonly string[], io: ApproveIo = process): Promise<number> {
  return guarded('approvals', io, () => approvalsRun(argv, io));
}

/** `kubectl-portcullis approve …`: returns the exit code. */
export function approveCommand(argv: readonly string[], io: ApproveIo = process): Promise<number> {
  return guarded('approve', io, () => decideRun('approve', argv, io));
}

/** `kubectl-portcullis deny …`: returns the exit code. */
export function denyCommand(argv: readonly string[], io: ApproveIo = process): Promise<number> {
  return guarded('deny', io, () => decideRun('deny', argv, io));
}
