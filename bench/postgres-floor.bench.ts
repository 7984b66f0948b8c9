// Where the PostgreSQL targets sit on this machine: pgbench select-only, 1 and 8 clients, against the server
// directly, through the bare Node pipe, through the pipe plus the write-ahead record the sidecar must make before
// forwarding, through the pipe plus N µs of CPU per socket read (what any per-message work costs when the proxy shares
// two cores with PostgreSQL and pgbench), and through the sidecar. Run: make bench-postgres-floor
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startPostgres, freePort } from '../e2e/lib/postgres.ts';
import { agentRole, createShop, shopManifests } from '../e2e/lib/shop-fixture.ts';
import { startSidecar, type Sidecar } from '../e2e/lib/sidecar.ts';
import { pgbench, printRatioTable, startNodePipe, type Target } from './pgbench-runner.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const workUs = (process.env.BENCH_WORK_US ?? '3,6,12').split(',').map(Number);

const pg = await startPostgres({ config: ['shared_buffers = 128MB'] });
const dir = mkdtempSync(join(tmpdir(), 'portcullis-floor-'));
const pipes: Array<{ stop: () => void }> = [];
let sc: Sidecar | undefined;
try {
  createShop(pg);
  const init = spawnSync('pgbench', ['-i', '-q', '-s', '5', '-h', pg.host, '-p', String(pg.port), '-U', agentRole.user, 'shop'], {
    encoding: 'utf8', env: { ...process.env, PGPASSWORD: agentRole.password },
  });
  if (init.status !== 0) throw new Error(init.stderr);
  const asAgent = (name: string, port: number): Target => ({ name, port, user: agentRole.user, password: () => agentRole.password });
  const pipe = async (name: string, options: string[]): Promise<Target> => {
    const p = await startNodePipe(pg.port, options);
    pipes.push(p);
    return asAgent(name, p.port);
  };
  const targets: Target[] = [asAgent('direct', pg.port), await pipe('node pipe', []), await pipe('node pipe + record', ['--record', join(dir, 'records.jsonl')])];
  for (const w of workUs) targets.push(await pipe(`node pipe + ${w} µs per read`, ['--work-us', String(w)]));
  const port = await freePort();
  sc = await startSidecar(shopManifests({ port, pg }), ['--log-level', 'warn', '--records-max-bytes', String(16 * 2 ** 30)]);
  const token = await sc.token('bench-agent', { ttl: '1h' });
  targets.push({ name: 'sidecar', port, user: 'agent', password: () => token });

  // Steady state: every Node process JIT-compiles its path before it is measured.
  for (const t of targets.slice(1)) for (const mode of ['simple', 'extended']) await pgbench(t, mode, 2, 2);
  console.log(`# machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; pgbench -S -T ${seconds}; median of ${rounds} rounds, targets in rotated order\n`);
  await printRatioTable(targets, rounds, seconds, false);
} finally {
  await sc?.stop();
  for (const p of pipes) p.stop();
  pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
