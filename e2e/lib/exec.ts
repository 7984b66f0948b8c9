// Runs a command to completion with optional stdin, capturing its output. The e2e helpers drive kubectl and helm
// through this; a failure carries the command line and stderr so a red test says what the tool said.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Written to the command's stdin, then closed. */
  readonly input?: string;
  /** Merged over process.env. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Kill the command after this long (default 120 s): a hung tool must fail the test, not stall the run. */
  readonly timeoutMs?: number;
  /** Return a failed result instead of throwing (for tests that expect a rejection). */
  readonly allowFailure?: boolean;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(command: string, result: RunResult) {
    super(`${command} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'CommandError';
    this.result = result;
  }
}

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (timedOut ? `\n(killed after ${timeoutMs} ms)` : '');
      const result: RunResult = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr };
      if (result.code !== 0 && !options.allowFailure) {
        reject(new CommandError([file, ...args].join(' '), result));
        return;
      }
      resolve(result);
    });
    // A tool that exits before reading its stdin must not crash the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
