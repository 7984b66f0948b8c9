// A client of the standalone admin API, used by `kubectl-portcullis approvals|approve|deny --local`.
import type { Approver, ApprovalPhase } from '../approvals/local.ts';
import type { ApprovalJson } from './approval-json.ts';

export interface AdminEndpoint {
  readonly url: string;
  readonly token: string;
}

/** The server answered with an error; `message` is its explanation. */
export class AdminApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The server could not be reached at all. */
export class AdminUnreachableError extends Error {}

const TIMEOUT_MS = 10_000;

async function call(endpoint: AdminEndpoint, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const url = new URL(path, endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${endpoint.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'error', // never replay the token to wherever a redirect points
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new AdminUnreachableError(`cannot reach the sidecar's admin API at ${endpoint.url} (${why}): is the sidecar running?`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message = (parsed as { error?: unknown } | undefined)?.error;
    throw new AdminApiError(response.status, typeof message === 'string' ? message : `HTTP ${response.status}`);
  }
  if (parsed === undefined) throw new AdminApiError(response.status, 'the admin API answered with something that is not JSON');
  return parsed;
}

function isApproval(v: unknown): v is ApprovalJson {
  const a = v as Partial<ApprovalJson> | null;
  return typeof a === 'object' && a !== null && typeof a.id === 'string' && typeof a.phase === 'string' && typeof a.command === 'string';
}

function approval(v: unknown): ApprovalJson {
  if (!isApproval(v)) throw new AdminApiError(200, 'the admin API answered with something that is not an approval request');
  return v;
}

export async function listApprovals(endpoint: AdminEndpoint, filter: { phase?: ApprovalPhase } = {}): Promise<ApprovalJson[]> {
  const query = filter.phase === undefined ? '' : `?phase=${encodeURIComponent(filter.phase)}`;
  const body = (await call(endpoint, 'GET', `v1/approvals${query}`)) as { items?: unknown };
  if (!Array.isArray(body.items)) throw new AdminApiError(200, 'the admin API answered without "items"');
  return body.items.map(approval);
}

export async function getApproval(endpoint: AdminEndpoint, id: string): Promise<ApprovalJson> {
  return approval(await call(endpoint, 'GET', `v1/approvals/${encodeURIComponent(id)}`));
}

export async function decideApproval(
  endpoint: AdminEndpoint,
  id: string,
  decision: 'approve' | 'deny',
  approver: Approver,
  reason?: string,
): Promise<ApprovalJson> {
  const body = { approver: { user: approver.user, groups: [...approver.groups] }, ...(reason === undefined ? {} : { reason }) };
  return approval(await call(endpoint, 'POST', `v1/approvals/${encodeURIComponent(id)}/${decision}`, body));
}
