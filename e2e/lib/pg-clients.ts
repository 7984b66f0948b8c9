// The real clients the e2e suites drive the sidecar with: psql (simple protocol), node-postgres (extended protocol),
// and a raw protocol client for what drivers never send (pipelines, malformed messages, CancelRequest).
import { spawn, spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import {
  BackendReader,
  NO_MESSAGE,
  buildCancelRequest,
  buildPasswordMessage,
  buildStartupMessage,
  parseBackendMessage,
  type BackendMessage,
} from '../../sidecar/protocols/postgres/codec/index.ts';

export interface PsqlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** psql -c (or a script on stdin), unaligned and tuples-only unless `pretty`. */
export function psql(port: number, token: string, sql: string, opts: { pretty?: boolean; stdin?: boolean; database?: string } = {}): PsqlResult {
  const args = ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'agent', '-d', opts.database ?? 'shop', '-v', 'VERBOSITY=verbose'];
  if (!opts.pretty) args.push('-A', '-t');
  if (!opts.stdin) args.push('-c', sql);
  const r = spawnSync('psql', args, {
    encoding: 'utf8',
    input: opts.stdin ? sql : undefined,
    env: { ...process.env, PGPASSWORD: token, PGCONNECT_TIMEOUT: '10', PGSSLMODE: 'prefer' },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** psql in the background (for held statements), resolved when it exits. */
export function psqlAsync(port: number, token: string, sql: string): Promise<PsqlResult> {
  return new Promise((resolve) => {
    const child = spawn('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(port), '-U', 'agent', '-d', 'shop', '-v', 'VERBOSITY=verbose', '-c', sql], {
      env: { ...process.env, PGPASSWORD: token },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

export async function pgClient(port: number, token: string): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'agent', database: 'shop', password: token });
  await c.connect();
  return c;
}

/** A raw protocol session: startup + token login done; send frames, collect backend messages. */
export class RawSession {
  readonly socket: Socket;
  readonly #reader = new BackendReader();
  readonly #messages: BackendMessage[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#reader.push(d);
      for (;;) {
        const t = this.#reader.next();
        if (t === NO_MESSAGE) break;
        this.#messages.push(parseBackendMessage(t, Buffer.from(this.#reader.body)));
      }
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, token: string): Promise<RawSession> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const raw = new RawSession(socket);
    socket.write(buildStartupMessage({ user: 'agent', database: 'shop' }));
    await raw.until((m) => m.kind === 'AuthenticationCleartextPassword');
    socket.write(buildPasswordMessage(token));
    await raw.until((m) => m.kind === 'ReadyForQuery');
    return raw;
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Resolves with every message received up to and including the first that matches. */
  async until(pred: (m: BackendMessage) => boolean, timeoutMs = 15_000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#messages.findIndex(pred);
      if (i >= 0) return this.#messages.splice(0, i + 1);
      if (this.#closed) throw new Error(`connection closed; got ${this.#messages.map((m) => m.kind).join(', ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.#messages.map((m) => m.kind).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          this.#waiter = undefined;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends a CancelRequest for (pid, key) to `port`, as libpq does: a fresh connection, one packet. */
export function sendCancel(port: number, pid: number, key: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const k = Buffer.alloc(4);
    k.writeInt32BE(key);
    const s = connect({ host: '127.0.0.1', port }, () => s.end(buildCancelRequest(pid, k)));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}
