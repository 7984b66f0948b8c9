// Starts `operator/main.ts --local` as a child process for benchmarks and waits for its ready line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

export interface OperatorChild {
  readonly child: ChildProcess;
  readonly port: number;
  readonly metricsPort: number;
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function spawnOperator(args: readonly string[], env: Readonly<Record<string, string>>): Promise<OperatorChild> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), [join(ROOT, 'operator', 'main.ts'), '--local', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  createInterface({ input: child.stderr! }).on('line', (l) => logs.push(l));
  const ready = await new Promise<{ port: number; metricsPort: number }>((resolveReady, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const m = JSON.parse(line) as { event?: string; port?: number; metricsPort?: number };
        if (m.event === 'ready' && m.port && m.metricsPort) resolveReady({ port: m.port, metricsPort: m.metricsPort });
      } catch { /* a log line */ }
    });
    void exited.then(() => reject(new Error(`operator exited before ready:\n${logs.slice(-20).join('\n')}`)));
  });
  return {
    child,
    ...ready,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
