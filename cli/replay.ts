// `kubectl-portcullis replay --local DIR`: reads a standalone sidecar's write-ahead file (DIR/events.wal.jsonl) and
// prints each session — who, which resource, when, counts — and its commands with their decisions, rules, approval
// outcomes, rows and masked counts. Bad lines (a torn last line after kill -9, anything unparseable) are reported
// with their line numbers on stderr and skipped; the rest is still shown.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandEvent } from '../core/audit/events.ts';
import { bytes, printable, printableLines, shortDuration } from '../sidecar/recorder/human-text.ts';
import { readWal, type WalProblem } from '../sidecar/recorder/read.ts';
import { buildTranscripts, type CommandEntry, type SessionTranscript } from '../sidecar/recorder/transcript.ts';
import { WAL_FILE } from '../sidecar/recorder/wal.ts';

export const replayUsage = `Usage:
  kubectl-portcullis replay --local DIR [--session ID] [--summary] [--json]

Shows what a standalone sidecar recorded in DIR/${WAL_FILE} (DIR is the sidecar's --records directory; the file
itself may be given too).
  --session ID  only this session (a unique prefix of its id is enough)
  --summary     one line per session, without the commands
  --json        machine-readable output: {file, sessions, problems}
Lines that cannot be read (a torn last line after a crash, corruption) are reported on stderr and skipped.
Replaying sessions from the cluster's audit store is not available yet: use --local.
Exit status: 0 on success, 1 on errors (file unreadable, no such session), 2 for bad usage.`;

export interface ReplayIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

class ReplayUsageError extends Error {}

/** Problems printed one per line; beyond this many, only a count (a corrupt file must not flood the terminal). */
const MAX_PROBLEM_LINES = 20;

async function walPath(location: string): Promise<string> {
  const info = await stat(location).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? `${location} does not exist` : `cannot read ${location}: ${error.message}`);
  });
  const path = info.isDirectory() ? join(location, WAL_FILE) : location;
  if (info.isDirectory()) {
    await stat(path).catch(() => {
      throw new Error(`${path} not found: is ${location} a sidecar's --records directory?`);
    });
  }
  return path;
}

function selectSession(all: SessionTranscript[], wanted: string): SessionTranscript {
  const exact = all.find((s) => s.id === wanted);
  if (exact) return exact;
  const matches = all.filter((s) => s.id.startsWith(wanted));
  if (matches.length === 1) return matches[0] as SessionTranscript;
  if (matches.length === 0) throw new Error(`no session ${JSON.stringify(wanted)} in the records`);
  throw new Error(`${JSON.stringify(wanted)} matches ${matches.length} sessions: ${matches.map((s) => s.id).join(', ')}`);
}

const clock = (iso: string): string => (/^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(iso)?.[1] ?? iso);
const span = (from: string, to: string): string => shortDuration(Date.parse(to) - Date.parse(from));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function who(t: SessionTranscript): string {
  const s = t.start;
  if (!s) return `session ${printable(t.id)}  (unknown subject and resource)`;
  return `session ${printable(t.id)}  ${printable(s.subject)} → ${printable(s.resource)} (${printable(s.protocol)})`;
}

function countsLine(t: SessionTranscript): string {
  const c = t.counts;
  const text = `${plural(c.commands, 'command')}: ${c.allowed} allowed, ${c.denied} denied, ${c.approved} approved; ${plural(c.masked, 'value')} masked`;
  return t.countsFrom === 'end' ? text : `${text} (counted from the records: no session.end)`;
}

function endLine(t: SessionTranscript): string {
  if (!t.end) return `no end record (still open, or the sidecar stopped); last event ${t.lastTime}`;
  const started = t.start?.time ?? t.firstTime;
  return `${t.end.time} after ${span(started, t.end.time)} (${printable(t.end.reason)})`;
}

function decisionLabel(e: CommandEvent): string {
  if (e.action !== 'approve') return e.action.toUpperCase();
  const outcome = e.approval?.outcome;
  return outcome ? `HELD→${outcome.toUpperCase()}` : 'HELD';
}

function commandBlock(entry: CommandEntry): string[] {
  const e = entry.event;
  const rule = e.rule ? `rule ${printable(e.rule)}${e.policy ? ` (policy ${printable(e.policy)})` : ''}` : 'no rule (default action or analysis)';
  const lines = [`  #${e.seq}  ${clock(e.time)}  ${decisionLabel(e).padEnd(14)} ${rule}`];
  for (const line of printableLines(e.command)) lines.push(`      ${line}`);
  for (const reason of e.reasons ?? []) lines.push(`      reason: ${printable(reason)}`);
  if (e.approval) {
    const a = e.approval;
    const outcome = a.outcome === undefined ? 'no outcome recorded' : a.outcome === 'expired' ? 'expired (nobody decided in time)' : a.outcome;
    const by = a.by ? ` by ${printable(a.by)}` : '';
    const why = a.reason ? ` — ${JSON.stringify(printable(a.reason))}` : '';
    lines.push(`      approval ${printable(a.id)}: ${outcome}${by}${why}`);
  }
  const shouldForward = e.action === 'allow' || (e.action === 'approve' && e.approval?.outcome === 'approved');
  if (shouldForward && !e.forwarded) lines.push('      (not forwarded)');
  if (!shouldForward && e.forwarded) lines.push('      (forwarded to the server)');
  const r = entry.result;
  if (r) {
    const parts = [plural(r.rows, 'row'), bytes(r.bytes), shortDuration(r.durationMs)];
    if (r.masked > 0) parts.push(`${plural(r.masked, 'value')} masked`);
    lines.push(`      → ${parts.join(', ')}${r.error ? `; error: ${printable(r.error)}` : ''}`);
  }
  return lines;
}

function sessionHeader(t: SessionTranscript): string[] {
  const s = t.start;
  const lines = [who(t)];
  if (s) {
    if (s.groups.length > 0) lines.push(`  groups    ${s.groups.map(printable).join(', ')}`);
    if (s.pod) lines.push(`  pod       ${s.namespace ? `${printable(s.namespace)}/` : ''}${printable(s.pod)}`);
    const client = Object.entries(s.client ?? {}).map(([k, v]) => `${printable(k)}=${printable(String(v))}`);
    if (client.length > 0) lines.push(`  client    ${client.join(' ')}`);
    lines.push(`  issuer    ${printable(s.issuer)}`);
    lines.push(`  bundle    ${printable(s.bundle)}`);
  }
  lines.push(`  started   ${s?.time ?? `${t.firstTime} (first event)`}`);
  lines.push(`  ended     ${endLine(t)}`);
  lines.push(`  ${countsLine(t)}`);
  for (const note of t.notes) lines.push(`  note: ${note}`);
  return lines;
}

function summaryLine(t: SessionTranscript): string {
  const c = t.counts;
  const subject = t.start ? `${printable(t.start.subject)} → ${printable(t.start.resource)}` : '(no start record)';
  const state = t.end ? span(t.start?.time ?? t.firstTime, t.end.time) : 'open';
  return `${printable(t.id)}  ${t.start?.time ?? t.firstTime}  ${state.padEnd(8)} ${subject}  commands ${c.commands} (allow ${c.allowed}, deny ${c.denied}, approved ${c.approved}), masked ${c.masked}`;
}

function toJson(t: SessionTranscript) {
  const s = t.start;
  return {
    id: t.id,
    ...(s
      ? { subject: s.subject, groups: s.groups, issuer: s.issuer, resource: s.resource, protocol: s.protocol, pod: s.pod, namespace: s.namespace, client: s.client, bundle: s.bundle }
      : {}),
    startedAt: s?.time ?? t.firstTime,
    endedAt: t.end?.time,
    endReason: t.end?.reason,
    counts: t.counts,
    countsFrom: t.countsFrom,
    commands: t.commands.map(({ event, result }) => ({
      seq: event.seq,
      time: event.time,
      command: event.command,
      action: event.action,
      rule: event.rule,
      policy: event.policy,
      reasons: event.reasons,
      approval: event.approval,
      forwarded: event.forwarded,
      result: result && { rows: result.rows, bytes: result.bytes, durationMs: result.durationMs, masked: result.masked, error: result.error },
    })),
    notes: t.notes,
  };
}

function reportProblems(io: ReplayIo, path: string, problems: readonly WalProblem[]): void {
  for (const p of problems.slice(0, MAX_PROBLEM_LINES)) io.stderr.write(`warning: ${path} line ${p.line}: ${printable(p.message)}\n`);
  if (problems.length > MAX_PROBLEM_LINES) io.stderr.write(`warning: ${path}: ${problems.length - MAX_PROBLEM_LINES} more unreadable lines\n`);
}

async function run(argv: readonly string[], io: ReplayIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      local: { type: 'string' },
      session: { type: 'string' },
      summary: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(`${replayUsage}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new ReplayUsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.local === undefined || values.local === '') throw new ReplayUsageError('--local DIR is required (replay from the cluster is not available yet)');
  if (values.summary && values.json) throw new ReplayUsageError('--summary and --json cannot be combined');

  const path = await walPath(values.local);
  const { events, problems } = await readWal(path);
  reportProblems(io, path, problems);
  let sessions = buildTranscripts(events);
  if (values.session !== undefined) sessions = [selectSession(sessions, values.session)];

  if (values.json) {
    io.stdout.write(`${JSON.stringify({ file: path, sessions: sessions.map(toJson), problems }, null, 2)}\n`);
    return 0;
  }
  if (sessions.length === 0) {
    io.stdout.write(`no sessions recorded in ${path}\n`);
    return 0;
  }
  if (values.summary) {
    for (const t of sessions) io.stdout.write(`${summaryLine(t)}\n`);
    return 0;
  }
  const blocks = sessions.map((t) => [...sessionHeader(t), ...(t.commands.length > 0 ? [''] : []), ...t.commands.flatMap(commandBlock)].join('\n'));
  io.stdout.write(`${blocks.join('\n\n')}\n`);
  return 0;
}

/** `kubectl-portcullis replay …`: returns the exit code. */
export async function replayCommand(argv: readonly string[], io: ReplayIo = process): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof ReplayUsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`kubectl-portcullis replay: ${(error as Error).message}\n${replayUsage}\n`);
      return 2;
    }
    io.stderr.write(`kubectl-portcullis replay: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
