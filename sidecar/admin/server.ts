// The sidecar's admin port (loopback by default):
//   GET /healthz   200 while the process runs
//   GET /readyz    200 once a valid bundle is loaded, else 503 with the reason
//   GET /metrics   Prometheus text
// and, in standalone mode only, the token-protected approvals API (approvals-api.ts). In cluster mode the /v1/
// routes do not exist (404): approvals are ApprovalRequest objects decided through the API server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { LocalApprovals } from '../approvals/local.ts';
import { MIN_ADMIN_TOKEN_LENGTH } from './admin-info.ts';
import { handleApprovals, type DecisionLog } from './approvals-api.ts';
import { bearerChecker } from './bearer.ts';
import { HttpError, sendJson, sendText } from './http-io.ts';

export interface AdminServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly metrics: Registry;
  /** true when ready; false or a reason string when not. */
  readonly ready: () => boolean | string;
  readonly mode: 'standalone' | 'cluster';
  /** Standalone mode: serves /v1/approvals. Requires adminToken. */
  readonly approvals?: LocalApprovals;
  readonly adminToken?: string;
  /** pino-compatible; decisions and refusals are logged. */
  readonly log?: DecisionLog;
}

export interface AdminServer {
  readonly port: number;
  /** http://host:port — what writeAdminInfo records. */
  readonly url: string;
  close(): Promise<void>;
}

function readiness(ready: () => boolean | string): { ok: boolean; reason: string } {
  try {
    const r = ready();
    if (r === true) return { ok: true, reason: 'ready' };
    return { ok: false, reason: typeof r === 'string' && r !== '' ? r : 'not ready' };
  } catch (error) {
    return { ok: false, reason: `readiness check failed: ${(error as Error).message}` };
  }
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const approvals = options.mode === 'standalone' ? options.approvals : undefined;
  let authorized: ((header: string | undefined) => boolean) | undefined;
  if (approvals) {
    // Fail closed at start rather than serve approvals to anyone.
    if (typeof options.adminToken !== 'string' || options.adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
      throw new Error(`the approvals API needs an admin token of at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
    }
    authorized = bearerChecker(options.adminToken);
  }

  async function route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? '';
    const probe = method === 'GET' || method === 'HEAD';
    switch (url.pathname) {
      case '/healthz':
        if (!probe) throw new HttpError(405, 'method not allowed; use GET', { allow: 'GET, HEAD' });
        sendText(response, 200, 'ok\n');
        return;
      case '/readyz': {
        if (!probe) throw new HttpError(405, 'method not allowed; use GET', { allow: 'GET, HEAD' });
        const { ok, reason } = readiness(options.ready);
        sendText(response, ok ? 200 : 503, `${reason}\n`);
        return;
      }
      case '/metrics':
        if (!probe) throw new HttpError(405, 'method not allowed; use GET', { allow: 'GET, HEAD' });
        sendText(response, 200, await options.metrics.metrics(), options.metrics.contentType);
        return;
    }
    if (approvals && authorized && (url.pathname === '/v1' || url.pathname.startsWith('/v1/'))) {
      // The token is checked before the path, so an unauthenticated caller learns nothing about ids.
      if (!authorized(request.headers.authorization)) {
        throw new HttpError(401, 'a valid admin token is required (Authorization: Bearer …)', { 'www-authenticate': 'Bearer realm="portcullis-admin"' });
      }
      await handleApprovals(request, response, url, approvals, options.log);
      return;
    }
    throw new HttpError(404, 'not found');
  }

  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 15_000, headersTimeout: 10_000 }, (request, response) => {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://admin.invalid');
    } catch {
      sendJson(response, 400, { error: 'bad request target' });
      return;
    }
    route(request, response, url).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(response, error.status, { error: error.message }, error.headers);
        return;
      }
      options.log?.warn({ err: error, path: url.pathname }, 'admin request failed');
      sendJson(response, 500, { error: 'internal error' });
    });
  });
  // The admin port serves a handful of operators and probes, not the agents' traffic.
  server.maxConnections = 64;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${hostPart}:${port}`,
    // Idempotent: shutdown paths may call it more than once.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      })),
  };
}
