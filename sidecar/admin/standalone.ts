// The standalone sidecar's admin side in one call: a fresh admin token, the admin server (health, readiness,
// metrics, approvals) and the admin.json/admin-token files the CLI reads. Closing removes the files first, so the
// CLI reports "not running" rather than a refused connection.
import type { Registry } from 'prom-client';
import type { LocalApprovals } from '../approvals/local.ts';
import { generateAdminToken, removeAdminInfo, writeAdminInfo } from './admin-info.ts';
import type { DecisionLog } from './approvals-api.ts';
import { startAdminServer, type AdminServer } from './server.ts';

export interface StandaloneAdminOptions {
  /** The sidecar's --records directory. */
  readonly recordsDir: string;
  readonly approvals: LocalApprovals;
  readonly metrics: Registry;
  readonly ready: () => boolean | string;
  /** Default 0: any free port (the CLI finds it through admin.json). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly log?: DecisionLog;
}

export async function startStandaloneAdmin(options: StandaloneAdminOptions): Promise<AdminServer> {
  const token = generateAdminToken();
  const server = await startAdminServer({
    port: options.port ?? 0,
    ...(options.host === undefined ? {} : { host: options.host }),
    metrics: options.metrics,
    ready: options.ready,
    mode: 'standalone',
    approvals: options.approvals,
    adminToken: token,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  try {
    await writeAdminInfo(options.recordsDir, { url: server.url, token });
  } catch (error) {
    await server.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    url: server.url,
    close: () =>
      (closing ??= (async () => {
        await removeAdminInfo(options.recordsDir);
        await server.close();
      })()),
  };
}
