// The masking catalog's own connection to the server: simple queries, one at a time, text results. Connected on
// first use, dropped after a while without use, and reconnected after any failure (a query on a connection that
// turns out to be dead is retried once on a fresh one). It never carries agent traffic.
import {
  BackendType,
  NO_MESSAGE,
  buildQuery,
  parseDataRow,
  parseErrorFields,
  type BackendReader,
} from '../codec/index.ts';
import type { UpstreamConnection } from '../upstream.ts';

export type Connect = () => Promise<UpstreamConnection>;

/** One result set: rows of text values (null for SQL NULL). */
export type ResultRows = Array<Array<string | null>>;

export class CatalogQueryError extends Error {}

/** What the catalog needs of a connection (a fake in tests). */
export interface CatalogQueries {
  query(sql: string): Promise<ResultRows[]>;
  close(): void;
}

/**
 * Settings for every catalog session: view definitions come back fully qualified (only pg_catalog is searched),
 * literals are read the standard way, nothing is written, and nothing hangs for long.
 */
const sessionSetup =
  "SET search_path = pg_catalog; SET standard_conforming_strings = on; SET client_encoding = 'UTF8'; " +
  "SET default_transaction_read_only = on; SET statement_timeout = '10s'";

export interface CatalogClientOptions {
  /** How long one query may take before the connection is dropped (ms). */
  readonly timeoutMs?: number;
  /** Close the connection after this long without a query (ms). */
  readonly idleMs?: number;
}

export class CatalogClient implements CatalogQueries {
  readonly #connect: Connect;
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  #conn: UpstreamConnection | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(connect: Connect, options: CatalogClientOptions = {}) {
    this.#connect = connect;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#idleMs = options.idleMs ?? 60_000;
  }

  /** Runs `sql` (one simple Query, possibly several statements) after every earlier query; its result sets. */
  query(sql: string): Promise<ResultRows[]> {
    const run = this.#chain.then(() => this.#runWithRetry(sql));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.#closed = true;
    this.#drop();
  }

  async #runWithRetry(sql: string): Promise<ResultRows[]> {
    if (this.#closed) throw new CatalogQueryError('the masking catalog is closed');
    if (this.#idle) clearTimeout(this.#idle);
    const reused = this.#conn !== undefined;
    try {
      return await this.#run(sql);
    } catch (e) {
      // A connection that sat idle may have been closed by the server: one retry on a fresh one.
      if (!reused || e instanceof CatalogQueryError) throw e;
      return await this.#run(sql);
    } finally {
      this.#armIdle();
    }
  }

  async #run(sql: string): Promise<ResultRows[]> {
    let conn = this.#conn;
    if (conn === undefined) {
      conn = await this.#connect();
      if (this.#closed) {
        conn.socket.destroy();
        throw new CatalogQueryError('the masking catalog is closed');
      }
      this.#conn = conn;
      try {
        await exchange(conn, sessionSetup, this.#timeoutMs);
      } catch (e) {
        this.#drop();
        throw e;
      }
    }
    try {
      return await exchange(conn, sql, this.#timeoutMs);
    } catch (e) {
      // A server error leaves the connection usable; anything else (close, timeout, garbage) does not.
      if (!(e instanceof CatalogQueryError)) this.#drop();
      throw e;
    }
  }

  #armIdle(): void {
    if (this.#closed || this.#conn === undefined) return;
    this.#idle = setTimeout(() => this.#drop(), this.#idleMs);
    this.#idle.unref();
  }

  #drop(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    const c = this.#conn;
    this.#conn = undefined;
    c?.socket.destroy();
  }
}

/** What an exchange is told: the socket delivered data, or went away. */
interface Waiter {
  readonly wake: () => void;
  readonly fail: (e: Error) => void;
}

const waiters = new WeakMap<UpstreamConnection, { current: Waiter | undefined; dead: Error | undefined }>();

/**
 * Listens on the connection for its whole life, so no byte is lost between queries (a socket without a 'data'
 * listener would drop what arrives); each exchange registers to be woken.
 */
function watch(conn: UpstreamConnection): { current: Waiter | undefined; dead: Error | undefined } {
  let w = waiters.get(conn);
  if (w !== undefined) return w;
  const state: { current: Waiter | undefined; dead: Error | undefined } = { current: undefined, dead: undefined };
  w = state;
  waiters.set(conn, state);
  const die = (e: Error) => {
    state.dead ??= e;
    state.current?.fail(state.dead);
  };
  conn.socket.on('data', (chunk: Buffer) => {
    conn.reader.push(chunk);
    state.current?.wake();
  });
  conn.socket.on('close', () => die(new Error('the catalog connection closed')));
  conn.socket.on('error', (e: Error) => die(e));
  if (conn.socket.destroyed) die(new Error('the catalog connection closed'));
  return state;
}

/** Sends one Query and collects its result sets until ReadyForQuery. */
function exchange(conn: UpstreamConnection, sql: string, timeoutMs: number): Promise<ResultRows[]> {
  const w = watch(conn);
  return new Promise((resolve, reject) => {
    const reader = conn.reader;
    const sets: ResultRows[] = [];
    let current: ResultRows | undefined;
    let serverError: string | undefined;
    let done = false;
    const finish = (err: Error | undefined, value?: ResultRows[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      w.current = undefined;
      if (err) reject(err);
      else resolve(value ?? []);
    };
    const handle = (t: number, r: BackendReader): boolean => {
      switch (t) {
        case BackendType.RowDescription:
          current = [];
          sets.push(current);
          return false;
        case BackendType.DataRow: {
          const row = parseDataRow(r.body).values.map((v) => (v === null ? null : v.toString('utf8')));
          if (current === undefined) {
            current = [];
            sets.push(current);
          }
          current.push(row);
          return false;
        }
        case BackendType.CommandComplete:
        case BackendType.EmptyQueryResponse:
          current = undefined;
          return false;
        case BackendType.ErrorResponse:
          serverError ??= parseErrorFields(r.body, 'ErrorResponse').message;
          return false;
        case BackendType.ReadyForQuery:
          if (serverError !== undefined) finish(new CatalogQueryError(`catalog query failed: ${serverError}`));
          else finish(undefined, sets);
          return true;
        case BackendType.NoticeResponse:
        case BackendType.ParameterStatus:
        case BackendType.NotificationResponse:
          return false;
        default:
          finish(new Error(`unexpected message ${String.fromCharCode(t)} on the catalog connection`));
          return true;
      }
    };
    const wake = () => {
      try {
        for (let t = reader.next(); t !== NO_MESSAGE; t = reader.next()) {
          if (handle(t, reader)) return;
        }
      } catch (e) {
        finish(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const timer = setTimeout(() => finish(new Error(`the catalog query took longer than ${timeoutMs} ms`)), timeoutMs);
    if (w.dead) return finish(w.dead);
    w.current = { wake, fail: (e) => finish(e) };
    conn.socket.write(buildQuery(sql));
    wake(); // anything already buffered
  });
}

/** A SQL string literal (standard_conforming_strings is on for the catalog session). */
export function sqlLiteral(s: string): string {
  if (s.includes('\0')) throw new CatalogQueryError('a name with a NUL byte cannot be looked up');
  return `'${s.replaceAll("'", "''")}'`;
}
