// What the PostgreSQL benchmarks share: pgbench select-only runs with per-transaction latency logs, rounds in
// rotated order, and the bare Node pipe (bench/node-pipe.ts) as a process of its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './stats.ts';

export interface Target {
  name: string;
  port: number;
  user: string;
  password: () => string;
}

export interface RunResult {
  tps: number;
  p50: number;
  p99: number;
}

/** The round with the median TPS (its latencies with it). */
function medianRun(runs: readonly RunResult[]): RunResult {
  const sorted = [...runs].sort((a, b) => a.tps - b.tps);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** pgbench -S against `t` for `seconds`; TPS and latency percentiles from the per-transaction log. */
export async function pgbench(t: Target, mode: string, clients: number, seconds: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-'));
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('pgbench', ['-n', '-S', '-M', mode, '-c', String(clients), '-j', String(clients), '-T', String(seconds), '-l', '--log-prefix', join(dir, 'tx'), '-h', '127.0.0.1', '-p', String(t.port), '-U', t.user, 'shop'], {
      env: { ...process.env, PGPASSWORD: t.password() },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
  if (r.status !== 0) throw new Error(`pgbench ${t.name} ${mode} -c${clients}: status ${r.status}\n${r.stdout}\n${r.stderr}`);
  const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1]);
  // Per-transaction log: "client tx latency_us script epoch epoch_us"; latency is the third field.
  const lat: number[] = [];
  for (const f of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (Number.isFinite(us) && line) lat.push(us);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { tps, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/** Every target `rounds` times, in a rotated order each round (a busy moment of a shared VM hits each in turn). */
async function roundRobin(targets: readonly Target[], rounds: number, run: (t: Target) => Promise<RunResult>): Promise<Map<string, RunResult>> {
  const runs = new Map<string, RunResult[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r) % targets.length]!;
      runs.get(t.name)!.push(await run(t));
    }
  }
  return new Map([...runs].map(([name, rs]) => [name, medianRun(rs)]));
}

/**
 * pgbench -S in simple and extended protocol with 1 and 8 clients against every target (which must include `direct`
 * and `node pipe`), printed as a Markdown table of median rounds with ratios to both.
 */
export async function printRatioTable(targets: readonly Target[], rounds: number, seconds: number, withP99: boolean): Promise<void> {
  console.log(`| protocol | clients | target | TPS | × direct | × node pipe | p50 µs |${withP99 ? ' p99 µs |' : ''} added p50 µs |`);
  console.log(`|---|---|---|---|---|---|---|${withP99 ? '---|' : ''}---|`);
  for (const mode of ['simple', 'extended']) {
    for (const clients of [1, 8]) {
      const results = await roundRobin(targets, rounds, (t) => pgbench(t, mode, clients, seconds));
      const d = results.get('direct')!;
      const p = results.get('node pipe')!;
      for (const t of targets) {
        const r = results.get(t.name)!;
        const p99 = withP99 ? ` ${Math.round(r.p99)} |` : '';
        console.log(`| ${mode} | ${clients} | ${t.name} | ${Math.round(r.tps)} | ${(r.tps / d.tps).toFixed(2)} | ${(r.tps / p.tps).toFixed(2)} | ${Math.round(r.p50)} |${p99} ${t.name === 'direct' ? '' : Math.round(r.p50 - d.p50)} |`);
      }
    }
  }
}

/** Starts bench/node-pipe.ts in its own process in front of `upstreamPort`; `options` as its command line takes. */
export async function startNodePipe(upstreamPort: number, options: readonly string[] = []): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'node-pipe.ts'), String(upstreamPort), ...options], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node-pipe exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  child.removeAllListeners('exit');
  return { port, stop: () => child.kill('SIGTERM') };
}
