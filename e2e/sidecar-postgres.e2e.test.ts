// The standalone sidecar in front of a real PostgreSQL, driven by psql, node-postgres and a raw protocol client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startPostgres, freePort, type PgServer } from './lib/postgres.ts';
import { createShop, shopManifests } from './lib/shop-fixture.ts';
import { readEvents, startSidecar, type Sidecar } from './lib/sidecar.ts';
import { RawSession, pgClient, psql, psqlAsync, sendCancel } from './lib/pg-clients.ts';
import { buildBind, buildExecute, buildParse, buildQuery, buildSync } from '../sidecar/protocols/postgres/codec/index.ts';
import { decideApproval, listApprovals } from '../sidecar/admin/client.ts';
import type { QueryConfig } from 'pg';

let pg: PgServer;
let sc: Sidecar;
let port: number;
let token: string;

const rawCards = ['4111111111111111', '5500000000000004', '378282246310005', '4012888888881881'];
const rawEmails = ['ada@example.com', 'alan@example.org', 'grace@example.net'];
/** No raw card number (whatever its separators) and no e-mail address may appear in `text`. */
function assertNothingSensitive(text: string, what: string): void {
  const digits = text.replace(/[\s-]/g, '');
  for (const c of rawCards) assert.ok(!digits.includes(c), `${what}: card ${c} leaked:\n${text}`);
  for (const e of rawEmails) assert.ok(!text.includes(e), `${what}: e-mail ${e} leaked:\n${text}`);
}

before(async () => {
  pg = await startPostgres();
  createShop(pg);
  port = await freePort();
  sc = await startSidecar(shopManifests({ port, pg, approvalTimeout: '4s', grantWindow: '1m' }));
  token = await sc.token('agent-1');
});

after(async () => {
  await sc?.stop();
  pg?.stop();
});

const direct = (sql: string) => pg.psql(sql, { database: 'shop' });

describe('allowed statements', () => {
  test('reads return exactly what the server returns (psql, simple protocol)', () => {
    const sql = 'SELECT id, customer_id, total, status FROM orders ORDER BY id';
    const via = psql(port, token, sql);
    assert.equal(via.status, 0, via.stderr);
    assert.equal(via.stdout, direct(sql));
    assert.equal(via.stdout.trim().split('\n').length, 20);
  });

  test('reads through the extended protocol with parameters (node-postgres)', async () => {
    const c = await pgClient(port, token);
    try {
      const r = await c.query('SELECT id, total::text AS total FROM orders WHERE id = $1 OR id = $2 ORDER BY id', [3, 4]);
      assert.deepEqual(r.rows, [{ id: 3, total: '31.50' }, { id: 4, total: '42.00' }]);
      const named = await c.query({ name: 'by-status', text: 'SELECT count(*)::int AS n FROM orders WHERE status = $1', values: ['open'] });
      assert.equal(named.rows[0].n, 10);
      const again = await c.query({ name: 'by-status', text: 'SELECT count(*)::int AS n FROM orders WHERE status = $1', values: ['shipped'] });
      assert.equal(again.rows[0].n, 10);
    } finally {
      await c.end();
    }
  });

  test('a prepared statement keeps the search_path it was prepared under, as PostgreSQL does', async () => {
    const c = await pgClient(port, token);
    try {
      const q = { name: 'count-orders', text: 'SELECT count(*)::int AS n FROM orders' };
      assert.equal((await c.query(q)).rows[0].n, 20);
      await c.query('SET search_path = vault, public');
      // Unqualified names now resolve in vault first (denied), but the prepared statement still means public.orders.
      await assert.rejects(c.query('SELECT count(*) FROM keys'), { code: '42501' });
      assert.equal((await c.query(q)).rows[0].n, 20);
    } finally {
      await c.end();
    }
  });

  test('allowed writes run (a table the policy lets the agent write)', () => {
    const r = psql(port, token, "INSERT INTO notes (body) VALUES ('hello') RETURNING body");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n')[0], 'hello');
  });

  test('pgbench select-only runs through the sidecar in both protocols', () => {
    const { spawnSync } = require_child();
    const init = spawnSync('pgbench', ['-i', '-s', '1', '-q', '-h', pg.host, '-p', String(pg.port), '-U', 'shop_agent', 'shop'], {
      encoding: 'utf8', env: { ...process.env, PGPASSWORD: 'real-credential-the-agent-never-sees' },
    });
    assert.equal(init.status, 0, init.stderr);
    for (const mode of ['simple', 'extended', 'prepared']) {
      const r = spawnSync('pgbench', ['-n', '-S', '-t', '200', '-M', mode, '-h', '127.0.0.1', '-p', String(port), '-U', 'agent', 'shop'], {
        encoding: 'utf8', env: { ...process.env, PGPASSWORD: token },
      });
      assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
      assert.match(r.stdout, /number of transactions actually processed: 200\/200/);
    }
  });
});

const denied: Array<[string, string]> = [
  ['DROP TABLE orders', 'drop_table'],
  ['SELECT 1; DROP TABLE orders', 'multi-statement'],
  ['select 1; DrOp/**/TABLE orders', 'comment trick'],
  ['DELETE FROM orders', 'unbounded delete'],
  ['UPDATE notes SET body = 1::text WHERE 1 = 1', 'unbounded update disguised'],
  ['WITH d AS (DELETE FROM customers WHERE id = 1 RETURNING *) SELECT * FROM d', 'CTE with DML'],
  ["COPY orders TO PROGRAM 'cat > /tmp/portcullis-pwned'", 'COPY TO PROGRAM'],
  ["COPY orders FROM '/etc/passwd'", 'COPY FROM file'],
  ['DO $$ BEGIN DELETE FROM customers; END $$', 'DO block'],
  ["SELECT pg_terminate_backend(pg_backend_pid())", 'side-effect function'],
  ["SELECT pg_read_file('/etc/passwd')", 'file read function'],
  ['SET ROLE postgres', 'SET ROLE'],
  ['SET SESSION AUTHORIZATION postgres', 'SET SESSION AUTHORIZATION'],
  ['SELECT * INTO orders_copy FROM orders', 'SELECT INTO'],
  ['CREATE TABLE t AS SELECT * FROM customers', 'CREATE TABLE AS'],
  ['EXPLAIN ANALYZE DELETE FROM customers WHERE id = 1', 'EXPLAIN ANALYZE of a write'],
  ['SELECT * FROM vault.keys', 'a denied schema'],
  ['SET search_path = vault, public; SELECT * FROM keys', 'search_path trick'],
  ["SELECT query_to_xml('DELETE FROM customers RETURNING 1', true, true, '')", 'dynamic SQL function'],
  ['TRUNCATE orders', 'TRUNCATE'],
  ["ALTER SYSTEM SET work_mem = '64MB'", 'ALTER SYSTEM'],
  ['GRANT ALL ON customers TO PUBLIC', 'GRANT'],
  ["SET client_encoding = 'LATIN1'", 'encoding change'],
  ['SELEC * FROM orders', 'unparseable'],
  [`SELECT ${'abs('.repeat(3000)}1${')'.repeat(3000)}`, 'deep nesting'],
  ["$$;DROP TABLE orders;$$", 'dollar-quoting trick'],
];

describe('denied statements never reach the server', () => {
  for (const [sql, family] of denied) {
    test(`simple protocol: ${family}`, () => {
      const r = psql(port, token, sql);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /(42501|syntax error).*portcullis|portcullis/s, r.stderr);
      assert.match(r.stderr, /42501/);
    });
  }

  test('extended protocol: every family is refused with SQLSTATE 42501', async () => {
    const c = await pgClient(port, token);
    try {
      let i = 0;
      for (const [sql, family] of denied) {
        await assert.rejects(c.query({ name: `denied-${i++}`, text: sql }), (e: { code?: string; message: string }) => {
          assert.ok(e.code !== undefined, `${family}: ${e.message}`);
          assert.equal(e.code, '42501', `${family}: ${e.message}`);
          assert.match(e.message, /^portcullis: /);
          return true;
        });
      }
      // The session stays usable.
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await c.end();
    }
  });

  test('the server is untouched', () => {
    assert.equal(direct('SELECT count(*) FROM orders').trim(), '20');
    assert.equal(direct('SELECT count(*) FROM customers').trim(), '3');
    assert.equal(direct("SELECT count(*) FROM pg_tables WHERE tablename IN ('orders_copy', 't')").trim(), '0');
    assert.equal(direct("SELECT rolname FROM pg_roles WHERE rolname = 'postgres'").trim(), 'postgres');
  });

  test('a denial inside a transaction aborts it, as PostgreSQL would: COMMIT rolls back', async () => {
    const before = Number(direct('SELECT count(*) FROM notes').trim());
    const c = await pgClient(port, token);
    try {
      await c.query('BEGIN');
      await c.query("INSERT INTO notes (body) VALUES ('inside a transaction')");
      await assert.rejects(c.query('DROP TABLE orders'), { code: '42501' });
      await assert.rejects(c.query('SELECT 1'), { code: '25P02' }); // current transaction is aborted
      const commit = await c.query('COMMIT');
      assert.equal(commit.command, 'ROLLBACK');
    } finally {
      await c.end();
    }
    assert.equal(Number(direct('SELECT count(*) FROM notes').trim()), before);
  });

  test('a pipeline with one denied statement forwards none of it', async () => {
    const before = Number(direct('SELECT count(*) FROM notes').trim());
    const raw = await RawSession.open(port, token);
    try {
      raw.send(
        buildParse('', "INSERT INTO notes (body) VALUES ('pipelined')"), buildBind({ portal: '', statement: '' }), buildExecute(),
        buildParse('', 'DROP TABLE orders'), buildBind({ portal: '', statement: '' }), buildExecute(),
        buildSync(),
      );
      const got = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.deepEqual(got.map((m) => m.kind), ['ErrorResponse', 'ReadyForQuery']);
      assert.equal((got[0] as { code: string }).code, '42501');
      // The session continues with the next pipeline.
      raw.send(buildParse('', "INSERT INTO notes (body) VALUES ('after')"), buildBind({ portal: '', statement: '' }), buildExecute(), buildSync());
      const next = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.deepEqual(next.map((m) => m.kind), ['ParseComplete', 'BindComplete', 'CommandComplete', 'ReadyForQuery']);
    } finally {
      raw.close();
    }
    assert.equal(Number(direct('SELECT count(*) FROM notes').trim()), before + 1);
    assert.equal(direct("SELECT count(*) FROM notes WHERE body = 'pipelined'").trim(), '0');
  });

  test('an empty statement in the extended protocol runs nothing and is not refused', async () => {
    const raw = await RawSession.open(port, token);
    try {
      raw.send(buildParse('', ''), buildBind({ portal: '', statement: '' }), buildExecute(), buildSync());
      const got = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.deepEqual(got.map((m) => m.kind), ['ParseComplete', 'BindComplete', 'EmptyQueryResponse', 'ReadyForQuery']);
    } finally {
      raw.close();
    }
  });

  test('an endless pipeline without Sync is cut off with a protocol error, not buffered without bound', async () => {
    const raw = await RawSession.open(port, token);
    try {
      const one = Buffer.concat([buildParse('', 'SELECT 1'), buildBind({ portal: '', statement: '' }), buildExecute()]);
      raw.send(Buffer.concat(Array.from({ length: 4000 }, () => one)));
      const got = await raw.until((m) => m.kind === 'ErrorResponse');
      assert.match((got.at(-1) as { message: string }).message, /without Sync or Flush/);
    } finally {
      raw.close();
    }
    assert.equal(psql(port, token, 'SELECT 5').stdout.trim(), '5');
  });

  test('Bind of a statement the sidecar never saw is refused', async () => {
    const raw = await RawSession.open(port, token);
    try {
      raw.send(buildBind({ portal: '', statement: 'never-parsed' }), buildExecute(), buildSync());
      const got = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.equal(got[0]!.kind, 'ErrorResponse');
      assert.equal((got[0] as { code: string }).code, '42501');
    } finally {
      raw.close();
    }
  });

  test('FunctionCall messages are refused', async () => {
    const raw = await RawSession.open(port, token);
    try {
      // FunctionCall 'F': function oid 1 (none), 0 arg formats, 0 args, result format 0.
      const body = Buffer.alloc(4 + 2 + 2 + 2);
      body.writeInt32BE(1, 0);
      const frame = Buffer.concat([Buffer.from([0x46]), Buffer.from([0, 0, 0, body.length + 4]), body]);
      raw.send(frame);
      const got = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.equal(got[0]!.kind, 'ErrorResponse');
      raw.send(buildQuery('SELECT 1'));
      const ok = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.ok(ok.some((m) => m.kind === 'DataRow'));
    } finally {
      raw.close();
    }
  });

  test('a prepared statement is re-decided at Bind against the current bundle', async () => {
    const c = await pgClient(port, token);
    try {
      await c.query({ name: 'notes-insert', text: 'INSERT INTO notes (body) VALUES ($1)', values: ['before'] });
      const { readFileSync, writeFileSync } = await import('node:fs');
      const file = `${sc.policyDir}/support-agent.yaml`;
      const original = readFileSync(file, 'utf8');
      writeFileSync(file, original.replace('name: note-writes\n          action: allow', 'name: note-writes\n          action: deny'));
      try {
        // Hot reload is asynchronous: wait until the new bundle applies (observable through a fresh decision).
        await waitFor(async () => {
          const r = psql(port, token, "INSERT INTO notes (body) VALUES ('probe')");
          return r.status !== 0;
        });
        await assert.rejects(c.query({ name: 'notes-insert', text: 'INSERT INTO notes (body) VALUES ($1)', values: ['after'] }), { code: '42501' });
      } finally {
        writeFileSync(file, original);
        await waitFor(async () => psql(port, token, "INSERT INTO notes (body) VALUES ('probe-back')").status === 0);
      }
    } finally {
      await c.end();
    }
  });
});

describe('approvals', () => {
  const adminEndpoint = () => ({ url: sc.admin.url, token: sc.admin.token });
  /** The id of the first pending approval request, once there is one. */
  const pendingApprovalId = async (): Promise<string> => {
    let id: string | undefined;
    await waitFor(async () => {
      id = (await listApprovals(adminEndpoint(), { phase: 'Pending' }))[0]?.id;
      return id !== undefined;
    });
    return id!;
  };

  test('a held write runs after approval', async () => {
    const pending = psqlAsync(port, token, "UPDATE orders SET status = 'refunded' WHERE id = 7");
    const endpoint = adminEndpoint();
    const id = await pendingApprovalId();
    await assert.rejects(decideApproval(endpoint, id, 'approve', { user: 'agent-1', groups: ['sre'] }), /cannot decide its own|requester/);
    await assert.rejects(decideApproval(endpoint, id, 'approve', { user: 'mallory', groups: ['dev'] }), /not an approver/);
    await decideApproval(endpoint, id, 'approve', { user: 'alice', groups: ['sre'] }, 'refund ok');
    const r = await pending;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`held for approval ${id}`));
    assert.equal(direct('SELECT status FROM orders WHERE id = 7').trim(), 'refunded');
  });

  test('within the grant window the same statement from the same subject runs without asking again', async () => {
    const again = psql(port, token, "UPDATE orders SET status = 'refunded' WHERE id = 7");
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /held for approval/);
    const last = readEvents(sc.records).filter((e) => e.type === 'command').at(-1)!;
    assert.equal(last.action, 'approve');
    assert.match(String((last.approval as { reason?: string }).reason), /within the grant window/);
    // Another subject is asked again (and this one is left to expire).
    const other = await psqlAsync(port, await sc.token('agent-2'), "UPDATE orders SET status = 'refunded' WHERE id = 7");
    assert.match(other.stderr, /held for approval/);
  });

  test('a held write fails after the timeout and never runs', async () => {
    const r = await psqlAsync(port, token, "UPDATE orders SET status = 'cancelled' WHERE id = 8");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /expired without a decision/);
    assert.notEqual(direct('SELECT status FROM orders WHERE id = 8').trim(), 'cancelled');
  });

  test('extended protocol: a held prepared write runs after approval, and its statement stays prepared', async () => {
    const c = await pgClient(port, token);
    try {
      const refund = { name: 'refund-order', text: 'UPDATE orders SET status = $1 WHERE id = $2', values: ['refunded', 6] };
      const pending = c.query(refund);
      const endpoint = adminEndpoint();
      const id = await pendingApprovalId();
      await decideApproval(endpoint, id, 'approve', { user: 'alice', groups: ['sre'] }, 'ok');
      assert.equal((await pending).rowCount, 1);
      assert.equal(direct('SELECT status FROM orders WHERE id = 6').trim(), 'refunded');
      // node-postgres now sends only Bind/Execute for the name: the sidecar must know the statement the held batch
      // prepared (it is asked again or runs within the grant window — never refused as unknown).
      const again = c.query({ ...refund, values: ['refunded', 6] });
      let asked: string | undefined;
      await Promise.race([again, pendingApprovalId().then((x) => (asked = x))]);
      if (asked) await decideApproval(endpoint, asked, 'approve', { user: 'alice', groups: ['sre'] }, 'ok');
      assert.equal((await again).rowCount, 1);
    } finally {
      await c.end();
    }
  });

  test('extended protocol: a denied batch leaves no prepared statement behind', async () => {
    const raw = await RawSession.open(port, token);
    try {
      raw.send(buildParse('evil', 'DROP TABLE orders'), buildSync());
      const first = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.equal((first[0] as { code: string }).code, '42501');
      raw.send(buildBind({ portal: '', statement: 'evil' }), buildExecute(), buildSync());
      const second = await raw.until((m) => m.kind === 'ReadyForQuery');
      assert.equal(second[0]!.kind, 'ErrorResponse');
      // Refused as unknown (its detail says why), not run: the denied Parse never registered the name.
      assert.match(String((second[0] as { fields: Map<string, string> }).fields.get('D')), /"evil" is unknown to portcullis/);
    } finally {
      raw.close();
    }
    assert.equal(direct("SELECT count(*) FROM pg_tables WHERE tablename = 'orders'").trim(), '1');
  });

  test('a denied approval refuses the statement', async () => {
    const pending = psqlAsync(port, token, 'DELETE FROM orders WHERE id = 9');
    const endpoint = adminEndpoint();
    const id = await pendingApprovalId();
    await decideApproval(endpoint, id, 'deny', { user: 'bob', groups: ['sre'] }, 'no');
    const r = await pending;
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /denied by bob/);
    assert.equal(direct('SELECT count(*) FROM orders WHERE id = 9').trim(), '1');
  });
});

describe('masking', () => {
  const queries: Array<[string, string]> = [
    ['direct columns', 'SELECT id, name, email, card_number, phone FROM customers'],
    ['star', 'SELECT * FROM customers'],
    ['aliases', 'SELECT card_number AS c, email AS e FROM customers'],
    ['expressions', "SELECT reverse(card_number), substr(card_number, 1, 4) || '-' || substr(card_number, 5), upper(email) FROM customers"],
    ['casts', 'SELECT card_number::varchar(40), email::bytea::text FROM customers'],
    ['sub-select and CTE', 'WITH c AS (SELECT card_number AS x FROM customers) SELECT (SELECT max(x) FROM c), y FROM (SELECT email AS y FROM customers) s'],
    ['row_to_json', 'SELECT row_to_json(c) FROM customers c'],
    ['json_agg', 'SELECT json_agg(c) FROM customers c'],
    ['arrays', 'SELECT array_agg(card_number), array_agg(email) FROM customers'],
    ['a view', 'SELECT * FROM customer_cards'],
    ['free text with a card number', 'SELECT notes FROM customers'],
  ];
  for (const [what, sql] of queries) {
    test(`psql: ${what}`, () => {
      const r = psql(port, token, sql);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.trim().length > 0);
      assertNothingSensitive(r.stdout, what);
    });
  }

  test('values quoted in server errors and notifications are masked too', async () => {
    const cast = psql(port, token, 'SELECT card_number::bigint FROM customers');
    assert.notEqual(cast.status, 0);
    assert.match(cast.stderr, /invalid input syntax/);
    assertNothingSensitive(cast.stderr, 'error message');
    const c = await pgClient(port, token);
    try {
      await c.query('LISTEN portcullis_e2e');
      const got = new Promise<{ payload: string; pid: number }>((resolve) => c.on('notification', (n) => resolve({ payload: n.payload ?? '', pid: n.processId })));
      await c.query("SELECT pg_notify('portcullis_e2e', 'card 4111 1111 1111 1111 for ada@example.com')");
      const { payload, pid } = await got;
      // Its own notification carries the pid the client was given, not the server backend's.
      assert.equal(pid, (c as unknown as { processID: number }).processID);
      assert.match(payload, /^card .*1111 for \[REDACTED\]$/);
      assertNothingSensitive(payload, 'notification');
    } finally {
      await c.end();
    }
  });

  test('direct columns keep their shape: last4 and redact', () => {
    const r = psql(port, token, 'SELECT card_number, email FROM customers WHERE id = 1');
    assert.equal(r.stdout.trim(), '***************1111|[REDACTED]');
  });

  test('COPY … TO STDOUT', () => {
    const r = psql(port, token, 'COPY customers TO STDOUT');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 3);
    assertNothingSensitive(r.stdout, 'COPY');
  });

  test('cursors', () => {
    const r = psql(port, token, 'BEGIN;\nDECLARE c CURSOR FOR SELECT name, card_number, email FROM customers;\nFETCH 2 FROM c;\nFETCH ALL FROM c;\nCOMMIT;', { stdin: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Grace Hopper/);
    assertNothingSensitive(r.stdout, 'cursor');
  });

  test('extended protocol, text and binary results', async () => {
    const c = await pgClient(port, token);
    try {
      const text = await c.query({ text: 'SELECT id, card_number, email FROM customers WHERE id = $1', values: [2] });
      assertNothingSensitive(JSON.stringify(text.rows), 'extended text');
      assert.equal(text.rows[0].id, 2);
      const binary = await c.query({ text: 'SELECT card_number, email, id FROM customers WHERE id > $1 ORDER BY id', values: [0], binary: true } as QueryConfig);
      assert.equal(binary.fields[0]!.format, 'binary');
      assert.equal(binary.rows.length, 3);
      assertNothingSensitive(JSON.stringify(binary.rows.map((r: Record<string, unknown>) => String(r.card_number) + String(r.email))), 'binary');
    } finally {
      await c.end();
    }
  });

  test('masked values are counted in the record', () => {
    const events = readEvents(sc.records);
    const masked = events.filter((e) => e.type === 'result').reduce((n, e) => n + Number(e.masked), 0);
    assert.ok(masked >= 6, `masked ${masked}`);
  });
});

describe('protocol behaviour', () => {
  test('CancelRequest is mapped to the server backend', async () => {
    const c = await pgClient(port, token);
    try {
      const started = Date.now();
      const q = c.query('SELECT pg_sleep(30)').then(() => undefined, (e: { code?: string }) => e);
      // Cancel once the server is really running the statement.
      await waitFor(async () => direct("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'").trim() === '1');
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      await sendCancel(port, processID, secretKey);
      assert.equal((await q)?.code, '57014');
      assert.ok(Date.now() - started < 20_000);
      assert.equal((await c.query('SELECT 2 AS two')).rows[0].two, 2);
    } finally {
      await c.end();
    }
  });

  test('a client asking for protocol 3.2 and protocol options is told the session speaks 3.0 without them', async () => {
    const { connect } = await import('node:net');
    const { BackendReader, NO_MESSAGE, buildStartupMessage, buildPasswordMessage, parseBackendMessage } = await import('../sidecar/protocols/postgres/codec/index.ts');
    const s = connect({ host: '127.0.0.1', port });
    const reader = new BackendReader();
    const kinds: string[] = [];
    const done = new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        reader.push(d);
        for (let t = reader.next(); t !== NO_MESSAGE; t = reader.next()) {
          const m = parseBackendMessage(t, Buffer.from(reader.body));
          kinds.push(m.kind === 'NegotiateProtocolVersion' ? `${m.kind}:${m.newestMinor}:${m.unrecognizedOptions.join(',')}` : m.kind);
          if (m.kind === 'AuthenticationCleartextPassword') s.write(buildPasswordMessage(token));
          if (m.kind === 'ReadyForQuery') resolve();
        }
      });
    });
    s.write(buildStartupMessage({ user: 'agent', database: 'shop', '_pq_.x': '1' }, 196610));
    await done;
    s.destroy();
    assert.equal(kinds[0], 'NegotiateProtocolVersion:0:_pq_.x');
    assert.ok(kinds.includes('ReadyForQuery'));
  });

  test('a bad token is refused with a clear error', () => {
    for (const bad of ['not-a-jwt', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      const r = psql(port, bad, 'SELECT 1');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /portcullis: authentication failed/);
    }
  });

  test('the agent never holds the real credentials: a psql login with them is refused', () => {
    const r = psql(port, 'real-credential-the-agent-never-sees', 'SELECT 1');
    assert.match(r.stderr, /authentication failed/);
  });

  test('1000 malformed or truncated messages: clear errors, the sidecar stays up, other sessions unaffected', async () => {
    const c = await pgClient(port, token);
    try {
      let seed = 42;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        const garbage = randomBytes(1 + (rnd() % 64));
        // Every third message claims an absurd length.
        if (i % 3 === 0 && garbage.length >= 4) garbage.writeInt32BE(rnd(), 0);
        jobs.push(new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port }, () => {
            // Half the clients send a valid startup first, then garbage; the rest garbage from the first byte.
            if (i % 2 === 0) s.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]));
            s.end(garbage);
          });
          s.on('data', () => undefined);
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.setTimeout(20_000, () => s.destroy());
        }));
        if (jobs.length >= 50) await Promise.all(jobs.splice(0));
      }
      await Promise.all(jobs);
      assert.equal(sc.child.exitCode, null);
      assert.equal((await c.query('SELECT 3 AS three')).rows[0].three, 3);
    } finally {
      await c.end();
    }
    const r = psql(port, token, 'SELECT 4');
    assert.equal(r.stdout.trim(), '4');
  });
});

describe('recording', () => {
  test('every decision is recorded, secrets in statements are redacted', () => {
    psql(port, token, "ALTER ROLE shop_agent PASSWORD 'hunter2-secret'");
    const events = readEvents(sc.records);
    const commands = events.filter((e) => e.type === 'command');
    assert.ok(commands.some((e) => e.action === 'deny' && String(e.command).includes('DROP TABLE orders')));
    assert.ok(commands.some((e) => e.action === 'allow'));
    assert.ok(commands.some((e) => e.action === 'approve' && (e.approval as { by?: string })?.by === 'alice'));
    const alter = commands.find((e) => String(e.command).startsWith('ALTER ROLE'));
    assert.ok(alter, 'ALTER ROLE recorded');
    assert.ok(!JSON.stringify(events).includes('hunter2-secret'));
    assert.ok(!JSON.stringify(events).includes(token));
    assert.ok(events.some((e) => e.type === 'session.start' && e.subject === 'agent-1'));
  });
});

describe('recording results', () => {
  test('each command\'s result follows it with its row count and duration; a session\'s last line is its end', async () => {
    const sql = 'SELECT id FROM orders WHERE id <= 12 ORDER BY id';
    const r = psql(port, token, sql);
    assert.equal(r.status, 0, r.stderr);
    const c = await pgClient(port, token);
    try {
      assert.equal((await c.query('SELECT id FROM orders WHERE id <= $1', [5])).rowCount, 5);
    } finally {
      await c.end();
    }
    await waitFor(async () => readEvents(sc.records).filter((e) => e.type === 'session.end').length >= 2);
    const events = readEvents(sc.records);
    for (const [text, rows] of [[sql, 12], ['SELECT id FROM orders WHERE id <= $1', 5]] as const) {
      const at = events.findLastIndex((e) => e.type === 'command' && e.command === text);
      assert.ok(at >= 0, text);
      const cmd = events[at]!;
      const resultAt = events.findIndex((e) => e.type === 'result' && e.session === cmd.session && e.command === cmd.seq);
      assert.ok(resultAt > at, `${text}: the result comes after its command`);
      assert.equal(events[resultAt]!.rows, rows);
      assert.ok(typeof events[resultAt]!.durationMs === 'number' && (events[resultAt]!.durationMs as number) >= 0);
      const session = events.filter((e) => e.session === cmd.session);
      assert.equal(session.at(-1)!.type, 'session.end', `${text}: the session ends with session.end`);
      assert.deepEqual(session.map((e) => e.seq), session.map((_, i) => i + 1), `${text}: numbered without gaps`);
    }
  });
});

describe('a full write-ahead file', () => {
  test('a pipeline that cannot be recorded whole is refused whole: nothing runs, nothing is on record as forwarded', async () => {
    const p2 = await freePort();
    const small = await startSidecar(shopManifests({ port: p2, pg }), ['--records-max-bytes', '6144']);
    try {
      const t2 = await small.token('agent-full');
      const raw = await RawSession.open(p2, t2);
      try {
        // Two inserts in one batch; each record is ≈ 3 KiB, so the file (session start already in it) takes one but
        // not both.
        const pad = 'x'.repeat(3000);
        const one = `INSERT INTO notes (body) VALUES ('full-1 ${pad}')`;
        const two = `INSERT INTO notes (body) VALUES ('full-2 ${pad}')`;
        raw.send(
          buildParse('', one), buildBind({ portal: '', statement: '' }), buildExecute(),
          buildParse('', two), buildBind({ portal: '', statement: '' }), buildExecute(),
          buildSync(),
        );
        const got = await raw.until((m) => m.kind === 'ReadyForQuery');
        const err = got.find((m) => m.kind === 'ErrorResponse') as { code: string; message: string } | undefined;
        assert.equal(err?.code, '53400', JSON.stringify(got));
        assert.match(err!.message, /audit buffer full/);
        // The session is still usable and still refuses rather than run unrecorded.
        raw.send(buildQuery(`SELECT '${pad}${pad}${pad}'`));
        const again = await raw.until((m) => m.kind === 'ReadyForQuery');
        assert.equal((again.find((m) => m.kind === 'ErrorResponse') as { code?: string } | undefined)?.code, '53400');
      } finally {
        raw.close();
      }
      assert.equal(direct("SELECT count(*) FROM notes WHERE body LIKE 'full-%'").trim(), '0');
      const forwarded = readEvents(small.records).filter((e) => e.type === 'command' && e.forwarded === true);
      assert.deepEqual(forwarded.filter((e) => String(e.command).includes('full-')), []);
    } finally {
      await small.stop();
    }
  });

  test('a bound below 1 KiB or not a number is refused at start-up', async () => {
    await assert.rejects(startSidecar(shopManifests({ port: await freePort(), pg }), ['--records-max-bytes', '12x']), /--records-max-bytes must be a whole number of bytes/);
  });
});

describe('kill -9', () => {
  test('a command the server saw is in the write-ahead file even when the sidecar is killed', async () => {
    const p2 = await freePort();
    const victim = await startSidecar(shopManifests({ port: p2, pg }));
    const t = await victim.token('agent-kill');
    const c = await pgClient(p2, t);
    const marker = `kill-marker-${Date.now()}`;
    await c.query(`INSERT INTO notes (body) VALUES ('${marker}')`);
    c.on('error', () => undefined);
    await victim.stop('SIGKILL');
    assert.equal(direct(`SELECT count(*) FROM notes WHERE body = '${marker}'`).trim(), '1');
    const events = readEvents(victim.records);
    assert.ok(events.some((e) => e.type === 'command' && String(e.command).includes(marker)));
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Polling an observable condition (not sleeping for a guessed duration).
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function require_child(): typeof import('node:child_process') {
  return childProcess;
}
import * as childProcess from 'node:child_process';
