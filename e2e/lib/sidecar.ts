// Runs the standalone sidecar as its own process, as a user would: policy files in a temp dir, a dev signing key
// (kubectl-portcullis token init), records in a temp dir. Stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { initKeys, mintToken } from '../../cli/token.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const node = join(repoRoot, 'node_modules/.bin/node');
export const issuer = 'https://issuer.portcullis.test';

export interface Sidecar {
  readonly dir: string;
  readonly policyDir: string;
  readonly records: string;
  readonly admin: { url: string; token: string };
  readonly child: ChildProcess;
  readonly stderr: () => string;
  token(subject?: string, opts?: { groups?: string[]; ttl?: string }): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes `manifests` (YAML text by file name) and starts the sidecar; resolves once it says it is ready. */
export async function startSidecar(manifests: Readonly<Record<string, string>>, extraArgs: string[] = []): Promise<Sidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-sidecar-'));
  const policyDir = join(dir, 'policies');
  const keys = join(dir, 'keys');
  const records = join(dir, 'records');
  await initKeys(keys);
  rmSync(policyDir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(policyDir, { recursive: true });
  for (const [name, text] of Object.entries(manifests)) writeFileSync(join(policyDir, name), text);
  const child = spawn(join(repoRoot, 'bin/portcullis-sidecar'), ['-f', policyDir, '--jwks', join(keys, 'jwks.json'), '--issuer', issuer, '--records', records, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = await new Promise<boolean>((resolveReady) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      if (l.startsWith('portcullis-sidecar ready')) resolveReady(true);
    });
    void exited.then(() => resolveReady(false));
  });
  if (!ready) throw new Error(`sidecar did not start:\n${err}`);
  const admin = JSON.parse(readFileSync(join(records, 'admin.json'), 'utf8')) as { url: string };
  const token = readFileSync(join(records, 'admin-token'), 'utf8').trim();
  return {
    dir,
    policyDir,
    records,
    admin: { url: admin.url, token },
    child,
    stderr: () => err,
    token: (subject = 'agent-1', o = {}) => mintToken({ dir: keys, issuer, subject, ...(o.groups ? { groups: o.groups } : {}), ttl: o.ttl ?? '10m' }),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      return code;
    },
  };
}

export function readEvents(records: string): Array<Record<string, unknown>> {
  const text = readFileSync(join(records, 'events.wal.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}
