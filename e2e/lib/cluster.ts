// A ready Kubernetes API server for the e2e suites, shared by every test file of a run.
//
// `make e2e` (e2e/run.sh) starts the cluster once and exports KUBECONFIG before `node --test` forks one process
// per file, so each process mostly just reads the environment:
//   - KUBECONFIG names the cluster e2e/cluster/up.sh wrote  → 'local' mode: its PKI, per-user client certificates;
//   - KUBECONFIG names any other cluster (kind, k3d, real)  → 'external' mode: test users are impersonated;
//   - no KUBECONFIG (a developer running one file)          → start the local cluster, or join the one running, with
//     a lease: a cluster started this way stops when the last process holding a lease exits.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, type RunResult } from './exec.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const SCRIPTS = join(REPO_ROOT, 'e2e', 'cluster');

export interface ClusterVersions {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly kwok: string;
  readonly helm: string;
}

export interface ClusterPki {
  /** Serving CA: trusts the apiserver's certificate and webhookCert. */
  readonly caCert: string;
  readonly clientCaCert: string;
  /** A serving certificate for 127.0.0.1/localhost signed by caCert, for webhook servers run as local processes. */
  readonly webhookCert: string;
  readonly webhookKey: string;
  readonly serviceAccountPublicKey: string;
}

export interface ClusterInfo {
  readonly mode: 'local' | 'external';
  /** The admin kubeconfig (system:masters in local mode). */
  readonly kubeconfig: string;
  readonly binDir: string;
  readonly kubectlPath: string;
  readonly helmPath: string;
  /** Pinned versions of the built tools (and, in local mode, of the running control plane). */
  readonly versions: ClusterVersions;
  /** local mode only: */
  readonly apiServer?: string;
  readonly serviceAccountIssuer?: string;
  readonly pki?: ClusterPki;
  readonly stateDir?: string;
  readonly ports?: Readonly<Record<string, number>>;
  readonly userKubeconfigs?: Readonly<Record<string, string>>;
}

/** Test users and their groups, from e2e/cluster/users (the same file pki.sh issues certificates from). */
export const TEST_USERS: ReadonlyMap<string, readonly string[]> = readTestUsers();

function readTestUsers(): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const raw of readFileSync(join(SCRIPTS, 'users'), 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [name, groups] = line.split(/\s+/);
    if (name) users.set(name, groups ? groups.split(',') : []);
  }
  return users;
}

function clusterDir(): string {
  return process.env.PORTCULLIS_CLUSTER_DIR || '/tmp/portcullis-cluster';
}

let ready: Promise<ClusterInfo> | undefined;

/** The cluster for this test process; the first call starts or joins it, later calls share the result. */
export function ensureCluster(): Promise<ClusterInfo> {
  ready ??= resolveCluster();
  return ready;
}

async function resolveCluster(): Promise<ClusterInfo> {
  const fromEnv = process.env.KUBECONFIG;
  if (fromEnv) {
    const state = readState();
    if (state && resolve(state.kubeconfig) === resolve(fromEnv)) {
      const status = await run(join(SCRIPTS, 'status.sh'), ['--quiet'], { allowFailure: true });
      if (status.code !== 0) {
        throw new Error(`KUBECONFIG points at the e2e cluster in ${state.stateDir}, which is not running: run 'make cluster-up'`);
      }
      return state;
    }
    return externalCluster(fromEnv);
  }
  // Progress of a (possibly cold) build and of the start goes to our stderr; stdout's last line is the export.
  const up = spawnSync(join(SCRIPTS, 'up.sh'), [], {
    env: { ...process.env, PORTCULLIS_LEASE_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  registerLeaseRelease();
  if (up.status !== 0) throw new Error(`e2e/cluster/up.sh failed (exit ${up.status}); see its messages above`);
  const state = readState();
  if (!state) throw new Error(`e2e/cluster/up.sh succeeded but ${clusterDir()}/cluster.json is missing`);
  process.env.KUBECONFIG = state.kubeconfig;
  return state;
}

/** Drops this process's lease when it exits; the last leaseholder of a lease-started cluster stops it. */
function registerLeaseRelease(): void {
  const release = (): void => {
    spawnSync(join(SCRIPTS, 'down.sh'), ['--release', String(process.pid)], { stdio: 'inherit' });
  };
  process.once('exit', release);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => process.exit(code));
  }
}

interface StateFile {
  stateDir: string;
  kubeconfig: string;
  apiServer: string;
  serviceAccountIssuer: string;
  binDir: string;
  versions: ClusterVersions;
  ports: Record<string, number>;
  pki: ClusterPki;
  userKubeconfigs: Record<string, string>;
}

function readState(): ClusterInfo | undefined {
  const file = join(clusterDir(), 'cluster.json');
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
  return {
    mode: 'local',
    kubeconfig: s.kubeconfig,
    binDir: s.binDir,
    kubectlPath: join(s.binDir, 'kubectl'),
    helmPath: join(s.binDir, 'helm'),
    versions: s.versions,
    apiServer: s.apiServer,
    serviceAccountIssuer: s.serviceAccountIssuer,
    pki: s.pki,
    stateDir: s.stateDir,
    ports: s.ports,
    userKubeconfigs: s.userKubeconfigs,
  };
}

async function externalCluster(kubeconfig: string): Promise<ClusterInfo> {
  // The suites use the pinned kubectl and helm whatever the cluster; a warm build.sh only checks its stamps.
  const build = spawnSync(join(SCRIPTS, 'build.sh'), ['--print-env'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`e2e/cluster/build.sh failed (exit ${build.status}); see its messages above`);
  const env = new Map<string, string>();
  for (const line of build.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const binDir = env.get('BIN_DIR');
  if (!binDir) throw new Error('e2e/cluster/build.sh --print-env printed no BIN_DIR');
  return {
    mode: 'external',
    kubeconfig: resolve(kubeconfig),
    binDir,
    kubectlPath: join(binDir, 'kubectl'),
    helmPath: join(binDir, 'helm'),
    versions: {
      kubernetes: env.get('K8S_VERSION') ?? '',
      etcd: env.get('ETCD_VERSION') ?? '',
      kwok: env.get('KWOK_VERSION') ?? '',
      helm: env.get('HELM_VERSION') ?? '',
    },
  };
}

export interface KubectlOptions {
  readonly input?: string;
  /** A test user from TEST_USERS; default: the admin. */
  readonly as?: string;
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
}

// kubectl's discovery cache lives in a per-process temp dir: a CRD applied a moment ago must not be hidden by a
// cache another run wrote, and tests must not write into the developer's ~/.kube.
let cacheDir: string | undefined;
function kubectlCacheDir(): string {
  if (!cacheDir) {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-kubectl-'));
    cacheDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return cacheDir;
}

/** Runs the pinned kubectl against the cluster; throws on a non-zero exit unless allowFailure. */
export async function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<RunResult> {
  const cluster = await ensureCluster();
  const kubeconfig = options.as ? await userKubeconfig(options.as) : cluster.kubeconfig;
  return run(cluster.kubectlPath, ['--kubeconfig', kubeconfig, ...args], {
    input: options.input,
    allowFailure: options.allowFailure,
    timeoutMs: options.timeoutMs,
    env: { KUBECACHEDIR: kubectlCacheDir() },
  });
}

/** kubectl … -o json, parsed. */
export async function kubectlJson<T = unknown>(args: readonly string[], options: KubectlOptions = {}): Promise<T> {
  const result = await kubectl([...args, '-o', 'json'], options);
  return JSON.parse(result.stdout) as T;
}

const externalUserKubeconfigs = new Map<string, string>();

/**
 * A kubeconfig that authenticates as a test user: in local mode the user's own client certificate (CN = user,
 * O = groups); against an external cluster, the admin credentials impersonating the user and groups.
 */
export async function userKubeconfig(user: string): Promise<string> {
  const groups = TEST_USERS.get(user);
  if (!groups) throw new Error(`unknown test user '${user}'; known: ${[...TEST_USERS.keys()].join(', ')}`);
  const cluster = await ensureCluster();
  if (cluster.mode === 'local') {
    const path = cluster.userKubeconfigs?.[user];
    if (!path) throw new Error(`the local cluster has no kubeconfig for '${user}'`);
    return path;
  }
  const cached = externalUserKubeconfigs.get(user);
  if (cached) return cached;
  const view = await run(cluster.kubectlPath, ['--kubeconfig', cluster.kubeconfig, 'config', 'view', '--raw', '--minify', '--flatten', '-o', 'json']);
  const config = JSON.parse(view.stdout) as { users?: { user?: Record<string, unknown> }[] };
  const entry = config.users?.[0]?.user;
  if (!entry) throw new Error(`${cluster.kubeconfig} has no user for its current context`);
  entry['as'] = user;
  if (groups.length > 0) entry['as-groups'] = [...groups];
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-user-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, `${user}.kubeconfig`);
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  externalUserKubeconfigs.set(user, path);
  return path;
}

/** Applies crds/ (server-side, so large schemas never hit the last-applied annotation limit) and waits for Established. */
export async function applyCrds(): Promise<void> {
  const dir = join(REPO_ROOT, 'crds');
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=portcullis-e2e', '-f', dir]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
}

/** Creates (or updates the labels of) a namespace and returns its name. */
export async function createNamespace(name: string, labels: Readonly<Record<string, string>> = {}): Promise<string> {
  const manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
  await kubectl(['apply', '--server-side', '--field-manager=portcullis-e2e', '-f', '-'], { input: JSON.stringify(manifest) });
  return name;
}

/** Starts deleting a namespace without waiting for its finalizers. */
export async function deleteNamespace(name: string): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=false']);
}

/** A DNS-label name unique to this run, for namespaces and objects that tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
