// Against a real PostgreSQL 15 (Debian's packages), started here in a temporary directory on a free loopback port:
// the OIDs PostgreSQL puts in RowDescription, the catalog resolver on its own connection, view definitions as the
// server prints them, and the planner masking real rows and real COPY output.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analysePostgres, initPostgresParser } from '../../../../core/analysis/postgres/analyse.ts';
import { lastFour, REDACTED_MARKER } from '../../../../core/masking/strategies.ts';
import {
  BackendType,
  NO_MESSAGE,
  buildQuery,
  parseCopyResponse,
  parseDataRow,
  parseErrorFields,
  parseRowDescription,
  type FieldDescription,
} from '../codec/index.ts';
import { newCommandContext } from '../command-context.ts';
import { connectUpstream, type UpstreamConnection } from '../upstream.ts';
import { Catalog, Missing } from './catalog.ts';
import { CatalogClient } from './catalog-client.ts';
import { compileClasses } from './classify.ts';
import { ColumnPlanner } from './column-planner.ts';
import { hashKey, resource, sessionState } from './fixtures.ts';
import { harness } from './fixtures.ts';

const bin = '/usr/lib/postgresql/15/bin';
const password = 'catalog-test-pw';
const CARD = '4111111111111111';

interface Server {
  readonly port: number;
  readonly dir: string;
  readonly child: ChildProcess;
}

let server: Server;

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startPostgres(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'pgmask-'));
  chmodSync(dir, 0o700);
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  const data = join(dir, 'data');
  execFileSync('runuser', ['-u', 'postgres', '--', `${bin}/initdb`, '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'], { stdio: 'ignore' });
  const port = await freePort();
  const child = spawn('runuser', ['-u', 'postgres', '--', `${bin}/postgres`, '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await connect(port);
      c.socket.destroy();
      return { port, dir, child };
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Stops the server by the postmaster's own pid (runuser is only its parent). */
async function stopPostgres(s: Server): Promise<void> {
  const pid = Number(readFileSync(join(s.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGINT'); // fast shutdown
  await new Promise<void>((resolve) => {
    if (s.child.exitCode !== null) resolve();
    else s.child.once('exit', () => resolve());
  });
}

function connect(port: number): Promise<UpstreamConnection> {
  return connectUpstream(
    { host: '127.0.0.1', port, tls: { mode: 'disable' } },
    { username: 'postgres', password, database: 'postgres' },
    new Map([['client_encoding', 'UTF8']]),
    5_000,
  );
}

interface Result {
  fields: FieldDescription[];
  rows: (string | null)[][];
  /** DataRow message frames, as the session would see them. */
  frames: Buffer[];
  copy: Buffer[];
  copyColumns: number;
  copyBinary: boolean;
}

/** One simple Query on a raw connection, with the codec: its last result set's fields, rows and COPY data. */
function run(conn: UpstreamConnection, sql: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const r: Result = { fields: [], rows: [], frames: [], copy: [], copyColumns: 0, copyBinary: false };
    let error: string | undefined;
    const reader = conn.reader;
    const onData = (chunk: Buffer) => {
      reader.push(chunk);
      for (let t = reader.next(); t !== NO_MESSAGE; t = reader.next()) {
        switch (t) {
          case BackendType.RowDescription:
            r.fields = parseRowDescription(reader.body).fields;
            r.rows = [];
            r.frames = [];
            break;
          case BackendType.DataRow:
            r.frames.push(Buffer.from(reader.frame));
            r.rows.push(parseDataRow(reader.body).values.map((v) => (v === null ? null : v.toString('utf8'))));
            break;
          case BackendType.CopyOutResponse: {
            const c = parseCopyResponse(reader.body, 'CopyOutResponse');
            r.copyColumns = c.columnFormats.length;
            r.copyBinary = c.overallFormat === 1;
            break;
          }
          case BackendType.CopyData:
            r.copy.push(Buffer.from(reader.body));
            break;
          case BackendType.ErrorResponse:
            error ??= parseErrorFields(reader.body, 'ErrorResponse').message;
            break;
          case BackendType.ReadyForQuery:
            conn.socket.off('data', onData);
            if (error) reject(new Error(error));
            else resolve(r);
            return;
          default:
            break;
        }
      }
    };
    conn.socket.on('data', onData);
    conn.socket.write(buildQuery(sql));
  });
}

const setup = `
CREATE TABLE customers (id int PRIMARY KEY, name text, card text, email varchar(100), born date);
INSERT INTO customers VALUES (1, 'Ann', '${CARD}', 'ann@example.com', '1990-01-01'), (2, 'Bob', NULL, NULL, NULL);
CREATE VIEW v AS SELECT id, name, card AS cc, reverse(card) AS rc FROM customers;
CREATE VIEW vv AS SELECT rc AS x, name FROM v;
CREATE TABLE customers_archive () INHERITS (customers);
INSERT INTO customers_archive VALUES (3, 'Cy', '5555555555554444', NULL, NULL);
CREATE MATERIALIZED VIEW mv AS SELECT id, card FROM customers;
CREATE TABLE orders (id int, customer_id int, total numeric);
INSERT INTO orders VALUES (10, 1, 9.5);
`;

let admin: UpstreamConnection;
let oids: Record<string, number>;

before(async () => {
  await initPostgresParser();
  server = await startPostgres();
  admin = await connect(server.port);
  await run(admin, setup);
  const r = await run(admin, "SELECT c.relname, c.oid FROM pg_class c WHERE c.relname IN ('customers', 'v', 'vv', 'customers_archive', 'mv', 'orders')");
  oids = Object.fromEntries(r.rows.map(([n, o]) => [n as string, Number(o)]));
});

after(async () => {
  admin?.socket.destroy();
  if (server) {
    if (server.child.exitCode === null) await stopPostgres(server);
    rmSync(server.dir, { recursive: true, force: true });
  }
});

function planner(): ColumnPlanner {
  const h = harness();
  return new ColumnPlanner(h.base, compileClasses(resource()), new Catalog(() => connect(server.port)), hashKey);
}

describe('PostgreSQL 15: RowDescription OIDs', () => {
  test('direct references carry the table OID and attnum; expressions carry 0; views carry the view', async () => {
    const r = await run(admin, 'SELECT card, c.name AS n, reverse(card) FROM customers c');
    assert.deepEqual(r.fields.map((f) => [f.tableOid, f.columnAttr]), [[oids.customers, 3], [oids.customers, 2], [0, 0]]);
    const v = await run(admin, 'SELECT cc, rc FROM v');
    assert.deepEqual(v.fields.map((f) => [f.tableOid, f.columnAttr]), [[oids.v, 3], [oids.v, 4]]);
    const cte = await run(admin, 'WITH x AS (SELECT card FROM customers) SELECT card FROM (SELECT card FROM x) s');
    assert.deepEqual(cte.fields.map((f) => f.tableOid), [oids.customers]);
    const u = await run(admin, 'SELECT card FROM customers UNION SELECT name FROM customers');
    assert.deepEqual(u.fields.map((f) => f.tableOid), [0]);
    const ret = await run(admin, "UPDATE orders SET total = total RETURNING id");
    assert.deepEqual(ret.fields.map((f) => f.tableOid), [oids.orders]);
  });
});

describe('PostgreSQL 15: catalog resolver', () => {
  test('relations by OID and by name, columns, view definitions fully qualified, parents', async () => {
    const client = new CatalogClient(() => connect(server.port));
    const catalog = new Catalog(client);
    const missing = new Missing();
    const facts = catalog.facts(missing);
    assert.equal(facts.relationByOid(oids.customers!), undefined);
    facts.relationByOid(oids.v!);
    facts.relationByName('public.customers_archive');
    facts.relationByName('public.nope');
    facts.functionOpaque({ name: 'reverse' });
    await catalog.fetch(missing);
    const after = catalog.facts(new Missing());
    const customers = after.relationByOid(oids.customers!);
    assert.deepEqual(customers?.columns.map((c) => [c.attnum, c.name, c.typeOid]), [[1, 'id', 23], [2, 'name', 25], [3, 'card', 25], [4, 'email', 1043], [5, 'born', 1082]]);
    const v = after.relationByOid(oids.v!);
    assert.equal(v?.relkind, 'v');
    assert.match(v?.viewDef ?? '', /FROM public\.customers/);
    assert.deepEqual(after.relationByName('public.customers_archive')?.parents, [oids.customers]);
    assert.equal(after.relationByName('public.nope'), null);
    assert.equal(after.functionOpaque({ name: 'reverse' }), false);
    client.close();
  });

  test('the catalog connection: read-only, reconnected after the server dropped it, closed when idle', async () => {
    const client = new CatalogClient(() => connect(server.port), { idleMs: 100 });
    const pid = (await client.query('SELECT pg_backend_pid(), current_setting(\'transaction_read_only\'), current_setting(\'search_path\')'))[0]?.[0];
    assert.equal(pid?.[1], 'on');
    assert.equal(pid?.[2], 'pg_catalog');
    await assert.rejects(client.query('CREATE TABLE nope (x int)'), /read-only/);
    await run(admin, `SELECT pg_terminate_backend(${Number(pid?.[0])})`);
    const again = (await client.query('SELECT pg_backend_pid()'))[0]?.[0]?.[0];
    assert.notEqual(again, pid?.[0]);
    await new Promise((r) => setTimeout(r, 250));
    const fresh = (await client.query('SELECT pg_backend_pid()'))[0]?.[0]?.[0];
    assert.notEqual(fresh, again);
    client.close();
    await assert.rejects(client.query('SELECT 1'), /closed/);
  });
});

describe('PostgreSQL 15: masking real rows', () => {
  async function masked(p: ColumnPlanner, sql: string): Promise<(string | null)[][]> {
    const r = await run(admin, sql);
    const m = await p.plan(r.fields, { command: newCommandContext(1, sql, analysePostgres(sql, sessionState)), statementIndex: 0 });
    return r.frames.map((f) => {
      const out = m.maskRow(f, 5, f.length) ?? f;
      return parseDataRow(out.subarray(5)).values.map((v) => (v === null ? null : v.toString('utf8')));
    });
  }

  test('columns by OID, expressions by lineage, views of views, inheritance children, materialized views', async () => {
    const p = planner();
    assert.deepEqual(await masked(p, 'SELECT id, card, reverse(card) AS r, email FROM customers ORDER BY id'), [
      ['1', lastFour(CARD), lastFour(CARD.split('').reverse().join('')), REDACTED_MARKER],
      ['2', null, null, null],
      ['3', lastFour('5555555555554444'), lastFour('4444555555555555'), null],
    ]);
    assert.deepEqual(await masked(p, 'SELECT x, name FROM vv WHERE name = \'Ann\''), [[lastFour(CARD.split('').reverse().join('')), 'Ann']]);
    assert.deepEqual(await masked(p, 'SELECT card FROM ONLY customers_archive'), [[lastFour('5555555555554444')]]);
    assert.deepEqual(await masked(p, 'SELECT card FROM mv WHERE id = 1'), [[lastFour(CARD)]]);
    assert.deepEqual(await masked(p, 'SELECT born FROM customers WHERE id = 1'), [[null]]);
    p.close();
  });

  test('information_schema is metadata: exploring the schema stays readable', async () => {
    const p = planner();
    const rows = await masked(p, "SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns WHERE table_name = 'customers' AND column_name IN ('card', 'email') ORDER BY ordinal_position");
    assert.deepEqual(rows, [['card', 'text', null, 'YES'], ['email', 'character varying', '100', 'YES']]);
    p.close();
  });

  test('planner statistics hold copies of values: pg_stats value columns are masked', async () => {
    const p = planner();
    await run(admin, `INSERT INTO customers SELECT g, 'n', '${CARD}' FROM generate_series(100, 150) g; ANALYZE customers; DELETE FROM customers WHERE id >= 100`);
    const sql = "SELECT attname, most_common_vals::text AS v, most_common_vals FROM pg_stats WHERE tablename = 'customers' AND attname = 'card' AND NOT inherited";
    const clear = await run(admin, sql);
    assert.match(String(clear.rows[0]?.[1]), /4111111111111111/); // what the server would reveal
    assert.deepEqual(await masked(p, sql), [['card', null, null]]);
    p.close();
  });

  test('DDL then invalidate(): a replaced view is resolved again', async () => {
    const p = planner();
    await run(admin, 'CREATE VIEW w AS SELECT id, name AS label FROM customers');
    assert.deepEqual(await masked(p, 'SELECT label FROM w WHERE id = 1'), [['Ann']]);
    await run(admin, 'CREATE OR REPLACE VIEW w AS SELECT id, card AS label FROM customers');
    p.invalidate();
    assert.deepEqual(await masked(p, 'SELECT label FROM w WHERE id = 1'), [[lastFour(CARD)]]);
    p.close();
  });

  test('COPY … TO STDOUT, text and CSV', async () => {
    const p = planner();
    for (const [sql, want] of [
      ['COPY (SELECT id, card FROM customers ORDER BY id) TO STDOUT', [`1\t${lastFour(CARD)}\n`, '2\t\\N\n', `3\t${lastFour('5555555555554444')}\n`]],
      ['COPY customers TO STDOUT WITH (FORMAT csv, HEADER)', ['id,name,card,email,born\n', `1,Ann,"${lastFour(CARD)}","${REDACTED_MARKER}",\n`, '2,Bob,,,\n']],
    ] as const) {
      const r = await run(admin, sql);
      const m = await p.planCopy({ command: newCommandContext(1, sql, analysePostgres(sql, sessionState)), statementIndex: 0 }, r.copyColumns, r.copyBinary);
      const out = r.copy.map((d) => (m.maskCopyData?.(d)?.subarray(5) ?? d).toString('utf8'));
      assert.deepEqual(out, want);
    }
    p.close();
  });

  test('strict masking with the real catalog: a view column based on a strict one', async () => {
    await run(admin, 'CREATE VIEW contacts AS SELECT id, email AS mail FROM customers');
    const p = planner();
    await new Promise((r) => setTimeout(r, 300)); // the full catalog load strict masking starts with
    const cmd = (sql: string) => ({ command: newCommandContext(1, sql, analysePostgres(sql, sessionState)) });
    assert.match(p.strictViolation?.(cmd("SELECT id FROM contacts WHERE mail LIKE '%@example.com'")) ?? '', /public\.contacts\.mail \(classification contact\)/);
    assert.equal(p.strictViolation?.(cmd('SELECT mail FROM contacts WHERE id = 1')), undefined);
    p.close();
  });

  test('the server gone: a plan that needs the catalog is rejected', async () => {
    const p = planner();
    const r = await run(admin, 'SELECT card FROM customers WHERE id = 1');
    await stopPostgres(server);
    await assert.rejects(
      Promise.resolve(p.plan(r.fields, { command: newCommandContext(1, 'SELECT card FROM customers WHERE id = 1', analysePostgres('SELECT card FROM customers WHERE id = 1', sessionState)), statementIndex: 0 })),
    );
    p.close();
  });
});
