// The standalone approvals API (behind the admin token):
//   GET  /v1/approvals[?phase=Pending]      → {items: ApprovalJson[]}
//   GET  /v1/approvals/:id                  → ApprovalJson
//   POST /v1/approvals/:id/approve|deny     {approver: {user, groups}, reason?} → ApprovalJson
// Refusals by the admission rules keep their message: 403 for who may not decide, 409 for what can no longer be
// decided, 404 for an unknown id.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApprovalRefused, type ApprovalPhase, type LocalApprovals, type RefusalKind } from '../approvals/local.ts';
import { APPROVAL_PHASES, parseDecisionBody, toApprovalJson } from './approval-json.ts';
import { HttpError, readJsonBody, sendJson } from './http-io.ts';

export interface DecisionLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  'not-found': 404,
  'self-approval': 403,
  'not-approver': 403,
  invalid: 400,
  expired: 409,
  'already-decided': 409,
};

const ITEM = /^\/v1\/approvals\/([A-Za-z0-9][A-Za-z0-9-]{0,63})(?:\/(approve|deny))?$/;

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, `method not allowed; use ${allow}`, { allow });
}

/** Handles a request under /v1/ that already passed the token check. */
export async function handleApprovals(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  approvals: LocalApprovals,
  log?: DecisionLog,
): Promise<void> {
  const method = request.method ?? '';
  if (url.pathname === '/v1/approvals') {
    if (method !== 'GET') throw methodNotAllowed('GET');
    const phase = url.searchParams.get('phase');
    if (phase !== null && !APPROVAL_PHASES.includes(phase as ApprovalPhase)) {
      throw new HttpError(400, `phase must be one of ${APPROVAL_PHASES.join(', ')}`);
    }
    const items = approvals.list().filter((a) => phase === null || a.phase === phase).map(toApprovalJson);
    sendJson(response, 200, { items });
    return;
  }
  const match = ITEM.exec(url.pathname);
  if (!match) throw new HttpError(404, 'not found');
  const id = match[1] as string;
  const verb = match[2] as 'approve' | 'deny' | undefined;
  if (verb === undefined) {
    if (method !== 'GET') throw methodNotAllowed('GET');
    const item = approvals.get(id);
    if (!item) throw new HttpError(404, `approval request ${id} not found`);
    sendJson(response, 200, toApprovalJson(item));
    return;
  }
  if (method !== 'POST') throw methodNotAllowed('POST');
  let body;
  try {
    body = parseDecisionBody(await readJsonBody(request));
  } catch (error) {
    if (error instanceof TypeError) throw new HttpError(400, error.message);
    throw error;
  }
  try {
    const item = approvals.decide(id, verb, body.approver, body.reason);
    log?.info({ approval: id, decision: verb, by: body.approver.user, groups: body.approver.groups }, 'approval decided through the admin API');
    sendJson(response, 200, toApprovalJson(item));
  } catch (error) {
    if (!(error instanceof ApprovalRefused)) throw error;
    log?.warn({ approval: id, decision: verb, by: body.approver.user, refusal: error.kind }, error.message);
    throw new HttpError(REFUSAL_STATUS[error.kind], error.message);
  }
}
