// portcullis-sidecar: the per-pod proxy.
// - Standalone mode (flags): the manifests a cluster would hold, from files; agent tokens verified against a JWKS
//   file; records in a directory; approvals decided through the token-protected admin API.
// - Cluster mode (PORTCULLIS_MODE=cluster, the environment the operator's injector sets): the bundle from the
//   operator's sidecar API, credentials from the mounted Secrets, agent tokens verified against the cluster issuer's
//   keys carried in the bundle and bound to this pod; the admin port serves only health and metrics.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import { FileBundleSource } from './bundle/file-source.ts';
import { OperatorBundleSource } from './bundle/operator-source.ts';
import { createEngine } from '../core/policy/engine.ts';
import { parseLabels } from '../core/policy/selector.ts';
import type { Bundle } from '../core/policy/bundle.ts';
import type { OfflineBundle } from '../core/manifests/offline-bundle.ts';
import { initPostgresParser } from '../core/analysis/postgres/analyse.ts';
import { createVerifier, type IssuerConfig, type PodBinding, type Verifier } from './auth/jwt-verifier.ts';
import { Recorder } from './recorder/wal.ts';
import { LocalApprovals } from './approvals/local.ts';
import { unavailableApprovals } from './approvals/unavailable.ts';
import { GrantWindow } from './approvals/grants.ts';
import type { ApprovalBackend } from './approvals/backend.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { CancelRegistry } from './protocols/postgres/cancel-registry.ts';
import { listenPostgres, type PgListener } from './protocols/postgres/listener.ts';
import { buildPgResourceState } from './protocols/postgres/resource-state.ts';
import type { PgResourceState } from './protocols/postgres/runtime.ts';
import { startStandaloneAdmin } from './admin/standalone.ts';
import { startAdminServer } from './admin/server.ts';
import { columnPlanner } from './protocols/postgres/masking/column-planner.ts';

const usage = `Usage: portcullis-sidecar -f FILE_OR_DIR... --jwks FILE --issuer URL --records DIR
                          [--labels k=v,...] [--namespace NS] [--admin-port N] [--log-level LEVEL]
                          [--records-max-bytes N]

--records-max-bytes (cluster mode: PORTCULLIS_RECORDS_MAX_BYTES): bound of the write-ahead file, default 256 MiB;
beyond it commands are refused, never run unrecorded.

Standalone mode: the files hold ProtectedResources, AgentPolicies and the Secrets their credentials name.
Agent tokens must be signed by a key of --jwks, carry iss=--issuer and aud=portcullis.
Cluster mode: PORTCULLIS_MODE=cluster and the PORTCULLIS_* environment the operator's injector sets.`;

interface BundleSource extends EventEmitter<{ bundle: [OfflineBundle]; error: [Error] }> {
  watch(): void;
  close(): void;
}

interface Mode {
  readonly kind: 'standalone' | 'cluster';
  readonly records: string;
  /** Bound of the write-ahead file (undefined: the recorder's default). */
  readonly recordsMaxBytes: number | undefined;
  readonly hashKey: Buffer;
  readonly source: BundleSource;
  readonly load: () => Promise<OfflineBundle>;
  readonly verifierFor: (bundle: Bundle) => Verifier;
  readonly approvals: ApprovalBackend & { close?(): void };
  readonly pod?: { name: string; namespace: string };
  readonly adminPort: number;
  readonly adminHost: string;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
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
        'records-max-bytes': { type: 'string' },
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
  const log = pino({ level: values['log-level'] ?? env.PORTCULLIS_LOG_LEVEL ?? 'info', base: { component: 'portcullis-sidecar' } }, pino.destination(2));
  let mode: Mode;
  try {
    mode = env.PORTCULLIS_MODE === 'cluster' ? clusterMode(env) : standaloneMode(values);
  } catch (e) {
    process.stderr.write(`portcullis-sidecar: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  return run(mode, log);
}

/** A byte count given on the command line or in the environment; undefined when absent. */
function byteBound(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1024) throw new Error(`${what} must be a whole number of bytes, at least 1024 (got ${JSON.stringify(value)})`);
  return n;
}

function standaloneMode(values: {
  filename?: string[];
  labels?: string;
  namespace?: string;
  jwks?: string;
  issuer?: string;
  records?: string;
  'records-max-bytes'?: string;
  'admin-port'?: string;
}): Mode {
  if (!values.filename?.length || !values.jwks || !values.issuer || !values.records) {
    throw new Error('-f, --jwks, --issuer and --records are required');
  }
  const records = resolve(values.records);
  mkdirSync(records, { recursive: true, mode: 0o700 });
  const verifier = createVerifier({
    issuers: [{ issuer: values.issuer, audiences: ['portcullis'], jwks: { file: resolve(values.jwks) } }],
  });
  const source = new FileBundleSource({
    paths: values.filename,
    ...(values.labels ? { labels: parseLabels(values.labels) } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
  });
  return {
    kind: 'standalone',
    records,
    recordsMaxBytes: byteBound(values['records-max-bytes'], '--records-max-bytes'),
    // The installation's masking key in standalone mode: generated once, kept beside the records.
    hashKey: loadOrCreateKey(join(records, 'masking-key')),
    source,
    load: async () => source.load(),
    verifierFor: () => verifier,
    approvals: new LocalApprovals(),
    adminPort: Number(values['admin-port'] ?? 0),
    adminHost: '127.0.0.1',
  };
}

function clusterMode(env: NodeJS.ProcessEnv): Mode {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`cluster mode needs ${name}`);
    return v;
  };
  const records = resolve(env.PORTCULLIS_RECORDS ?? '/var/lib/portcullis');
  mkdirSync(records, { recursive: true, mode: 0o700 });
  const caFile = join(records, 'operator-ca.crt');
  writeFileSync(caFile, need('PORTCULLIS_OPERATOR_CA'), { mode: 0o600 });
  const pod = { name: need('PORTCULLIS_POD_NAME'), namespace: need('PORTCULLIS_POD_NAMESPACE') };
  const binding: PodBinding = { name: pod.name, namespace: pod.namespace, ...(env.PORTCULLIS_POD_UID ? { uid: env.PORTCULLIS_POD_UID } : {}) };
  if (env.PORTCULLIS_AGENT_KUBECONFIG && env.PORTCULLIS_AGENT_KUBECONFIG_FILE) {
    mkdirSync(dirname(env.PORTCULLIS_AGENT_KUBECONFIG_FILE), { recursive: true });
    writeFileSync(env.PORTCULLIS_AGENT_KUBECONFIG_FILE, env.PORTCULLIS_AGENT_KUBECONFIG, { mode: 0o644 });
  }
  const source = new OperatorBundleSource({
    url: need('PORTCULLIS_OPERATOR_URL'),
    tokenFile: need('PORTCULLIS_SIDECAR_TOKEN_FILE'),
    caFile,
    credentialsDir: need('PORTCULLIS_CREDENTIALS_DIR'),
  });
  const verifiers = new Map<string, Verifier>();
  return {
    kind: 'cluster',
    records,
    recordsMaxBytes: byteBound(env.PORTCULLIS_RECORDS_MAX_BYTES, 'PORTCULLIS_RECORDS_MAX_BYTES'),
    // TODO(audit issue): the installation-wide key from the operator's Secret; until then per pod.
    hashKey: loadOrCreateKey(join(records, 'masking-key')),
    source,
    load: () => source.load(),
    verifierFor: (bundle) => {
      const key = JSON.stringify([bundle.jwks ?? {}, bundle.policies.map((p) => p.subjects)]);
      let v = verifiers.get(key);
      if (!v) {
        v = clusterVerifier(bundle, binding);
        verifiers.clear();
        verifiers.set(key, v);
      }
      return v;
    },
    approvals: unavailableApprovals,
    pod,
    adminPort: Number(env.PORTCULLIS_ADMIN_PORT ?? 15000),
    adminHost: env.PORTCULLIS_ADMIN_ADDRESS ?? '0.0.0.0',
  };
}

/**
 * Cluster mode: the cluster's service-account issuer with the keys the operator put in the bundle (no API access
 * needed), plus the issuers the policies name (an agent acting for a person may present that person's OIDC token),
 * each with its audiences; service-account tokens must be bound to this pod.
 */
function clusterVerifier(bundle: Bundle, podBinding: PodBinding): Verifier {
  const issuers = new Map<string, IssuerConfig>();
  const jwks = (bundle.jwks ?? {}) as Record<string, { keys: unknown[] }>;
  for (const [issuer, set] of Object.entries(jwks)) {
    issuers.set(issuer, { issuer, audiences: ['portcullis'], jwks: { keys: set as never } });
  }
  const claims: Record<string, string[]> = {};
  for (const p of bundle.policies) {
    for (const i of p.subjects?.issuers ?? []) {
      const known = issuers.get(i.issuer);
      const audiences = [...new Set([...(known?.audiences ?? []), ...i.audiences])];
      issuers.set(i.issuer, {
        issuer: i.issuer,
        audiences,
        ...(known?.jwks ? { jwks: known.jwks } : i.jwksUri ? { jwks: { uri: i.jwksUri } } : {}),
      });
    }
    for (const [k, v] of Object.entries(p.subjects?.claims ?? {})) claims[k] = [...new Set([...(claims[k] ?? []), ...v])];
  }
  return createVerifier({ issuers: [...issuers.values()], podBinding, ...(Object.keys(claims).length ? { claims } : {}) });
}

async function run(mode: Mode, log: Logger): Promise<number> {
  const metrics = createMetrics();
  const recorder = new Recorder({ dir: mode.records, ...(mode.recordsMaxBytes !== undefined ? { maxBytes: mode.recordsMaxBytes } : {}) });
  const cancels = new CancelRegistry();
  await initPostgresParser();

  const states = new Map<string, PgResourceState>();
  const listeners = new Map<string, { port: number; listener: PgListener }>();
  let bundleHash: string | undefined;

  const apply = async (loaded: OfflineBundle) => {
    const engine = createEngine(loaded.bundle);
    const verifier = mode.verifierFor(loaded.bundle);
    const next = new Map<string, PgResourceState>();
    for (const r of loaded.bundle.resources) {
      if (r.protocol !== 'postgres') {
        log.warn({ resource: r.name, protocol: r.protocol }, 'protocol not served by this sidecar yet; resource ignored');
        continue;
      }
      next.set(r.name, buildPgResourceState(r.name, loaded, engine, verifier, mode.hashKey, columnPlanner));
    }
    // Every resource built without error: switch at once. Open sessions pick the new state up per statement.
    for (const [name, st] of states) if (next.get(name)?.planner !== st.planner) st.planner.close?.();
    states.clear();
    for (const [k, v] of next) states.set(k, v);
    bundleHash = loaded.bundle.hash;
    for (const [name, st] of next) {
      const port = st.resource.expose.port;
      if (port === undefined) continue;
      const existing = listeners.get(name);
      if (existing?.port === port) continue;
      await existing?.listener.close();
      const listener = await listenPostgres(pgRuntime(name, states, recorder, mode, metrics, cancels, log), port);
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
    await apply(await mode.load());
  } catch (e) {
    log.error({ err: (e as Error).message }, 'no valid bundle');
    process.stderr.write(`portcullis-sidecar: ${(e as Error).message}\n`);
    recorder.close();
    return 1;
  }
  let chain = Promise.resolve();
  mode.source.on('bundle', (b) => {
    chain = chain.then(() => apply(b)).catch((e: unknown) => {
      metrics.bundleLoads.inc({ result: 'error' });
      log.error({ err: (e as Error).message }, 'new bundle refused; the previous one stays in force');
    });
  });
  mode.source.on('error', (e) => {
    metrics.bundleLoads.inc({ result: 'error' });
    log.error({ err: e.message }, 'bundle source error; the previous bundle stays in force');
  });
  mode.source.watch();

  const ready = () => (bundleHash ? true : 'no valid bundle loaded');
  const admin = mode.kind === 'standalone'
    ? await startStandaloneAdmin({ recordsDir: mode.records, port: mode.adminPort, metrics: metrics.registry, ready, approvals: mode.approvals as LocalApprovals, log })
    : await startAdminServer({ port: mode.adminPort, host: mode.adminHost, metrics: metrics.registry, ready, mode: 'cluster', log });
  log.info({ port: admin.port }, 'admin API listening');
  process.stdout.write(`portcullis-sidecar ready: ${[...listeners].map(([n, l]) => `${n} on 127.0.0.1:${l.listener.port}`).join(', ')}; admin on ${mode.adminHost}:${admin.port}\n`);

  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'shutting down');
      done();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  mode.source.close();
  // Held commands are denied (never left to run after a restart), then the admin files go.
  mode.approvals.close?.();
  await admin.close();
  for (const l of listeners.values()) await l.listener.close();
  for (const st of states.values()) st.planner.close?.();
  recorder.close();
  return 0;
}

function pgRuntime(
  name: string,
  states: Map<string, PgResourceState>,
  recorder: Recorder,
  mode: Mode,
  metrics: Metrics,
  cancels: CancelRegistry,
  log: Logger,
) {
  return {
    resourceName: name,
    current: () => states.get(name),
    grants: new GrantWindow(),
    recorder,
    approvals: mode.approvals,
    metrics,
    cancels,
    log: log.child({ resource: name }),
    ...(mode.pod ? { pod: mode.pod } : {}),
    approvalHint: (id: string) => mode.kind === 'standalone'
      ? `approve with: kubectl portcullis approve --local ${id} --records ${mode.records}`
      : `approve with: kubectl portcullis approve ${id}`,
  };
}

/** A masking HMAC key kept in a file (0600), generated on first use. */
function loadOrCreateKey(path: string): Buffer {
  if (existsSync(path)) return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64'), { mode: 0o600 });
  return key;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
