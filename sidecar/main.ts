// portcullis-sidecar: the per-pod proxy. Standalone mode reads the same manifests a cluster would hold from files
// (ProtectedResources, AgentPolicies, the Secrets they name), verifies agent tokens against a JWKS file, keeps its
// records in a directory and decides approvals through its admin API.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { FileBundleSource } from './bundle/file-source.ts';
import { createEngine } from '../core/policy/engine.ts';
import { parseLabels } from '../core/policy/selector.ts';
import type { OfflineBundle } from '../core/manifests/offline-bundle.ts';
import { initPostgresParser } from '../core/analysis/postgres/analyse.ts';
import { createVerifier, type Verifier } from './auth/jwt-verifier.ts';
import { Recorder } from './recorder/wal.ts';
import { LocalApprovals } from './approvals/local.ts';
import { createMetrics } from './metrics.ts';
import { CancelRegistry } from './protocols/postgres/cancel-registry.ts';
import { listenPostgres, type PgListener } from './protocols/postgres/listener.ts';
import { buildPgResourceState } from './protocols/postgres/resource-state.ts';
import type { PgResourceState } from './protocols/postgres/runtime.ts';
import { startStandaloneAdmin } from './admin/standalone.ts';
import { columnPlanner } from './protocols/postgres/masking/column-planner.ts';

const usage = `Usage: portcullis-sidecar -f FILE_OR_DIR... --jwks FILE --issuer URL --records DIR
                          [--labels k=v,...] [--namespace NS] [--admin-port N] [--log-level LEVEL]

Standalone mode: the files hold ProtectedResources, AgentPolicies and the Secrets their credentials name.
Agent tokens must be signed by a key of --jwks, carry iss=--issuer and aud=portcullis.`;

export async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        labels: { type: 'string', short: 'l' },
        namespace: { type: 'string', short: 'n' },
        jwks: { type: 'string' },
        issuer: { type: 'string' },
        records: { type: 'string' },
        'admin-port': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`portcullis-sidecar: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (!values.filename?.length || !values.jwks || !values.issuer || !values.records) {
    process.stderr.write(`portcullis-sidecar: -f, --jwks, --issuer and --records are required\n${usage}\n`);
    return 2;
  }
  const log = pino({ level: values['log-level'] ?? 'info', base: { component: 'portcullis-sidecar' } }, pino.destination(2));
  const records = resolve(values.records);
  mkdirSync(records, { recursive: true, mode: 0o700 });
  const hashKey = loadOrCreateKey(join(records, 'masking-key'));
  const metrics = createMetrics();
  const recorder = new Recorder({ dir: records });
  const approvals = new LocalApprovals();
  const cancels = new CancelRegistry();
  await initPostgresParser();

  const verifier: Verifier = createVerifier({
    issuers: [{ issuer: values.issuer, audiences: ['portcullis'], jwks: { file: resolve(values.jwks) } }],
  });
  const source = new FileBundleSource({
    paths: values.filename,
    ...(values.labels ? { labels: parseLabels(values.labels) } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
  });

  const states = new Map<string, PgResourceState>();
  const listeners = new Map<string, { port: number; listener: PgListener }>();
  let bundleHash: string | undefined;

  const apply = async (loaded: OfflineBundle) => {
    const engine = createEngine(loaded.bundle);
    const next = new Map<string, PgResourceState>();
    for (const r of loaded.bundle.resources) {
      if (r.protocol !== 'postgres') {
        log.warn({ resource: r.name, protocol: r.protocol }, 'protocol not served by this sidecar yet; resource ignored');
        continue;
      }
      next.set(r.name, buildPgResourceState(r.name, loaded, engine, verifier, hashKey, columnPlanner));
    }
    // All resources built without error: switch atomically. Open sessions pick the new state up per statement.
    for (const [name, st] of states) if (!next.has(name)) st.planner.close?.();
    states.clear();
    for (const [k, v] of next) states.set(k, v);
    bundleHash = loaded.bundle.hash;
    for (const [name, st] of next) {
      const port = st.resource.expose.port;
      if (port === undefined) continue;
      const existing = listeners.get(name);
      if (existing?.port === port) continue;
      await existing?.listener.close();
      const listener = await listenPostgres({
        resourceName: name,
        current: () => states.get(name),
        recorder,
        approvals,
        metrics,
        cancels,
        log: log.child({ resource: name }),
        approvalHint: (id) => `approve with: kubectl portcullis approve --local ${id} --records ${records}`,
      }, port);
      listeners.set(name, { port, listener });
      log.info({ resource: name, port: listener.port }, 'listening');
    }
    for (const [name, l] of listeners) {
      if (!next.has(name)) {
        await l.listener.close();
        listeners.delete(name);
      }
    }
    metrics.bundleLoads.inc({ result: 'ok' });
    log.info({ bundle: loaded.bundle.hash, policies: loaded.bundle.key }, 'bundle loaded');
  };

  try {
    await apply(source.load());
  } catch (e) {
    log.error({ err: (e as Error).message }, 'no valid bundle');
    process.stderr.write(`portcullis-sidecar: ${(e as Error).message}\n`);
    return 1;
  }
  let chain = Promise.resolve();
  source.on('bundle', (b) => {
    chain = chain.then(() => apply(b)).catch((e: unknown) => {
      metrics.bundleLoads.inc({ result: 'error' });
      log.error({ err: (e as Error).message }, 'new bundle refused; the previous one stays in force');
    });
  });
  source.on('error', (e) => {
    metrics.bundleLoads.inc({ result: 'error' });
    log.error({ err: e.message }, 'policy files invalid; the previous bundle stays in force');
  });
  source.watch();

  const admin = await startStandaloneAdmin({
    recordsDir: records,
    port: Number(values['admin-port'] ?? 0),
    metrics: metrics.registry,
    ready: () => (bundleHash ? true : 'no valid bundle loaded'),
    approvals,
    log,
  });
  log.info({ port: admin.port }, 'admin API listening');
  process.stdout.write(`portcullis-sidecar ready: ${[...listeners].map(([n, l]) => `${n} on 127.0.0.1:${l.listener.port}`).join(', ')}; admin on 127.0.0.1:${admin.port}\n`);

  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'shutting down');
      done();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  source.close();
  // Held commands are denied (never left to run after a restart), then the admin files go.
  approvals.close();
  await admin.close();
  for (const l of listeners.values()) await l.listener.close();
  for (const st of states.values()) st.planner.close?.();
  recorder.close();
  return 0;
}

/** The installation's masking HMAC key: generated once, kept beside the records, never readable by the agent. */
function loadOrCreateKey(path: string): Buffer {
  if (existsSync(path)) return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64'), { mode: 0o600 });
  return key;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
