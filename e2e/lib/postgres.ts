// A throwaway PostgreSQL server for e2e tests and the demo: Debian's binaries, a temp data dir owned by the
// postgres OS user (PostgreSQL refuses to run as root), loopback only, a free port, SCRAM password auth.
// Stopped by pid (pg_ctl stop), data dir removed.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Superuser connection URL (password auth over TCP). */
  readonly adminUrl: string;
  readonly superuser: { user: string; password: string };
  psql(sql: string, opts?: { database?: string; user?: string; password?: string }): string;
  stop(): void;
}

export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) throw new Error('PostgreSQL server binaries not found: apt-get install postgresql');
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return join(base, versions[0]!, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function asPostgres(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', input: opts.input, env: { ...process.env, ...opts.env }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export interface StartOptions {
  /** Extra postgresql.conf lines (e.g. ssl = on). */
  readonly config?: readonly string[];
  /** Files to place in the data dir before start (e.g. server.crt/server.key), relative name → contents. */
  readonly files?: Readonly<Record<string, string>>;
}

export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const bin = postgresBinDir();
  const root = mkdtempSync(join(tmpdir(), 'portcullis-pg-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const sockDir = join(root, 'sock');
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  asPostgres('mkdir', ['-p', sockDir]);
  const password = 'portcullis-test-superuser';
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (isRoot) chownSync(pwfile, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
  asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  rmSync(pwfile);
  const port = await freePort();
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${sockDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 200',
    `password_encryption = 'scram-sha-256'`,
    ...(opts.config ?? []),
  ];
  asPostgres('sh', ['-c', `cat >> '${dataDir}/postgresql.conf'`], { input: `${conf.join('\n')}\n` });
  for (const [name, contents] of Object.entries(opts.files ?? {})) {
    asPostgres('sh', ['-c', `umask 077; cat > '${dataDir}/${name}'`], { input: contents });
  }
  asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
  const host = '127.0.0.1';
  const server: PgServer = {
    host,
    port,
    dataDir,
    adminUrl: `postgresql://postgres:${password}@${host}:${port}/postgres`,
    superuser: { user: 'postgres', password },
    psql(sql, o = {}) {
      const r = spawnSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', o.user ?? 'postgres', '-d', o.database ?? 'postgres', '-c', sql], {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: o.password ?? password, PGCONNECT_TIMEOUT: '10' },
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout;
    },
    stop() {
      try {
        asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return server;
}
