// Checks that a parsed WAL line is an audit event this version understands. Readers (replay, shipping) must never
// crash on a bad line, so this returns a reason instead of throwing; only the fields readers rely on are checked.
import type { AuditEvent } from '../../core/audit/events.ts';

type Check = (e: Record<string, unknown>) => string | undefined;

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every(isString);

function need(e: Record<string, unknown>, fields: readonly string[], test: (v: unknown) => boolean, what: string): string | undefined {
  for (const f of fields) if (!test(e[f])) return `"${f}" must be ${what}`;
  return undefined;
}

const BY_TYPE: Readonly<Record<AuditEvent['type'], Check>> = {
  'session.start': (e) =>
    need(e, ['resource', 'protocol', 'subject'], isString, 'a string') ??
    (e.groups === undefined || isStringArray(e.groups) ? undefined : '"groups" must be a list of strings'),
  command: (e) =>
    need(e, ['command'], isString, 'a string') ??
    (e.action === 'allow' || e.action === 'deny' || e.action === 'approve' ? undefined : '"action" must be allow, deny or approve') ??
    (typeof e.forwarded === 'boolean' ? undefined : '"forwarded" must be true or false') ??
    (e.reasons === undefined || isStringArray(e.reasons) ? undefined : '"reasons" must be a list of strings') ??
    (e.approval === undefined || (typeof e.approval === 'object' && e.approval !== null && isString((e.approval as { id?: unknown }).id))
      ? undefined
      : '"approval" must be an object with an id'),
  result: (e) => need(e, ['command', 'rows', 'bytes', 'masked'], isCount, 'a non-negative integer'),
  'session.end': (e) =>
    need(e, ['reason'], isString, 'a string') ??
    (typeof e.counts === 'object' && e.counts !== null ? need(e.counts as Record<string, unknown>, ['commands', 'allowed', 'denied', 'approved', 'masked'], isCount, 'a count') : '"counts" must be an object'),
};

/** The event, or why the value is not one. */
export function checkEvent(value: unknown): { event: AuditEvent } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const e = value as Record<string, unknown>;
  if (!isString(e.type)) return { problem: 'no event "type"' };
  const check = Object.hasOwn(BY_TYPE, e.type) ? BY_TYPE[e.type as AuditEvent['type']] : undefined;
  if (!check) return { problem: `unknown event type ${JSON.stringify(e.type)}` };
  if (!isString(e.session) || e.session === '') return { problem: '"session" must be a non-empty string' };
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1) return { problem: '"seq" must be a positive integer' };
  if (!isString(e.time) || Number.isNaN(Date.parse(e.time))) return { problem: '"time" must be a timestamp' };
  const problem = check(e);
  return problem === undefined ? { event: value as AuditEvent } : { problem: `${e.type}: ${problem}` };
}
