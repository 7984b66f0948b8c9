// The operator as a local child process (operator/main.ts --local …), as the e2e suites and benchmarks run it:
// ready once it prints its {"event":"ready","port":…} line; stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './cluster.ts';

const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');

export interface OperatorProcess {
  readonly child: ChildProcess;
  /** The HTTPS port of the webhooks and the sidecar API. */
  readonly port: number;
  readonly logs: string[];
  readonly exited: Promise<number | null>;
}

/** Starts `operator/main.ts --local` with `args`; resolves once it is ready, rejects (with its logs) if it exits first. */
export async function startOperatorProcess(args: readonly string[], kubeconfig: string, label = 'operator'): Promise<OperatorProcess> {
  const child = spawn(NODE, [join(REPO_ROOT, 'operator', 'main.ts'), '--local', ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (l) => logs.push(l));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
        if (msg.event === 'ready' && msg.port) resolve(msg.port);
      } catch { /* a log line */ }
    });
    void exited.then((code) => reject(new Error(`${label} exited ${code} before ready:\n${logs.join('\n')}`)));
  });
  return { child, port, logs, exited };
}

export async function stopOperatorProcess(op: OperatorProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (op.child.exitCode === null && op.child.signalCode === null) op.child.kill(signal);
  await op.exited;
}
