import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initPostgresParser } from '../../../../core/analysis/postgres/analyse.ts';
import { hashValue, lastFour, REDACTED_MARKER } from '../../../../core/masking/strategies.ts';
import { buildDataRow, buildRowDescription, type FieldDescription } from '../codec/index.ts';
import type { RowMasker } from '../result-masking.ts';
import { columnPlanner } from './column-planner.ts';
import { ColumnRowMasker } from './row-masker.ts';
import { catalogData, command, defaultMasking, field, harness, hashKey, maskRow, OID, resource, sessionState, T } from './fixtures.ts';

before(async () => {
  await initPostgresParser();
});

const CARD = '4111111111111111';
const R = REDACTED_MARKER;

async function plan(h: ReturnType<typeof harness>, text: string, fields: FieldDescription[], statementIndex = 0): Promise<RowMasker> {
  return await h.planner.plan(fields, { command: command(text), statementIndex });
}

interface Case {
  readonly name: string;
  readonly sql: string;
  readonly fields: FieldDescription[];
  readonly row: (string | null)[];
  readonly want: (string | null)[];
  readonly masked: number;
}

const c = (name: string, attr: number, type: number, format: 0 | 1 = 0) => field(name, OID.customers, attr, type, format);

const cases: Case[] = [
  {
    name: 'a classified column by OID is masked with its strategy; others untouched',
    sql: 'SELECT id, name, card FROM customers',
    fields: [c('id', 1, T.int4), c('name', 2, T.text), c('card', 4, T.text)],
    row: ['1', 'Ann', CARD],
    want: ['1', 'Ann', lastFour(CARD)],
    masked: 1,
  },
  {
    name: 'aliased column keeps its OID',
    sql: 'SELECT card AS x FROM customers',
    fields: [c('x', 4, T.text)],
    row: [CARD],
    want: [lastFour(CARD)],
    masked: 1,
  },
  {
    name: 'NULL stays NULL and is not counted',
    sql: 'SELECT card FROM customers',
    fields: [c('card', 4, T.text)],
    row: [null],
    want: [null],
    masked: 0,
  },
  {
    name: 'varchar with redact; bpchar padding is not revealed',
    sql: 'SELECT email, note FROM customers',
    fields: [c('email', 5, T.varchar), c('note', 6, T.bpchar)],
    row: ['a@example.com', 'x'],
    want: [R, 'x'],
    masked: 1,
  },
  {
    name: 'a non-text type becomes NULL whatever the strategy',
    sql: 'SELECT born FROM customers',
    fields: [c('born', 8, T.date)],
    row: ['1990-01-01'],
    want: [null],
    masked: 1,
  },
  {
    name: 'binary format becomes NULL',
    sql: 'SELECT card FROM customers',
    fields: [c('card', 4, T.text, 1)],
    row: [CARD],
    want: [null],
    masked: 1,
  },
  {
    name: 'a string-category extension type (citext) is masked as text; the pattern was folded',
    sql: 'SELECT nick FROM customers',
    fields: [c('nick', 9, T.citext)],
    row: ['annie'],
    want: [R],
    masked: 1,
  },
  {
    name: 'a view column resolves to its base column',
    sql: 'SELECT cc, rc, name FROM v',
    fields: [field('cc', OID.v, 3, T.text), field('rc', OID.v, 4, T.text), field('name', OID.v, 2, T.text)],
    row: [CARD, '1111111111111114', 'Ann'],
    want: [lastFour(CARD), lastFour('1111111111111114'), 'Ann'],
    masked: 2,
  },
  {
    name: 'a view over a view',
    sql: 'SELECT x, name FROM vv',
    fields: [field('x', OID.vv, 1, T.text), field('name', OID.vv, 2, T.text)],
    row: ['1111111111111114', 'Ann'],
    want: [lastFour('1111111111111114'), 'Ann'],
    masked: 1,
  },
  {
    name: 'a materialized view',
    sql: 'SELECT card FROM mv',
    fields: [field('card', OID.mv, 1, T.text)],
    row: [CARD],
    want: [lastFour(CARD)],
    masked: 1,
  },
  {
    name: 'a partition (inheritance child) inherits its parent classification',
    sql: 'SELECT card, name FROM customers_2024',
    fields: [field('card', OID.child, 3, T.text), field('name', OID.child, 2, T.text)],
    row: [CARD, 'Ann'],
    want: [lastFour(CARD), 'Ann'],
    masked: 1,
  },
  {
    name: 'an expression of a classified column is masked whole',
    sql: 'SELECT reverse(card), lower(name) FROM customers',
    fields: [field('reverse', 0, 0, T.text), field('lower', 0, 0, T.text)],
    row: ['1111111111111114', 'ann'],
    want: [lastFour('1111111111111114'), 'ann'],
    masked: 1,
  },
  {
    name: 'substr(card, 1, 4) || … through a sub-select',
    sql: "SELECT p FROM (SELECT substr(card, 1, 4) || '-xx' AS p FROM customers) s",
    fields: [field('p', 0, 0, T.text)],
    row: ['4111-xx'],
    want: ['***1-xx'],
    masked: 1,
  },
  {
    name: 'row_to_json carries every column: json masked as a JSON string',
    sql: 'SELECT row_to_json(c) FROM customers c',
    fields: [field('row_to_json', 0, 0, T.json)],
    row: ['{"id":1,"card":"4111111111111111"}'],
    // the strictest strategy of the classifications involved (card last4, contact redact, born hash)
    want: [JSON.stringify(R)],
    masked: 1,
  },
  {
    name: 'the strictest strategy wins where classifications meet',
    sql: 'SELECT card || k.secret FROM customers, vault.keys k',
    fields: [field('?column?', 0, 0, T.text)],
    row: ['x'],
    want: [null],
    masked: 1,
  },
  {
    name: 'a user-defined function is opaque: masked whole',
    sql: 'SELECT my_fn(id) FROM orders',
    fields: [field('my_fn', 0, 0, T.text)],
    row: ['whatever'],
    want: [null],
    masked: 1,
  },
  {
    name: 'expressions over unclassified relations stay clear',
    sql: 'SELECT total * 2, upper(body) FROM orders, notes',
    fields: [field('?column?', 0, 0, T.numeric), field('upper', 0, 0, T.text)],
    row: ['10', 'HELLO'],
    want: ['10', 'HELLO'],
    masked: 0,
  },
  {
    name: 'lineage that cannot be aligned masks whole when a classified relation is read',
    sql: 'SELECT * FROM customers c, LATERAL generate_subscripts(ARRAY[1], 1) g, jsonb_to_record(c.doc) AS r(a text)',
    fields: [field('x', 0, 0, T.text), field('y', 0, 0, T.text)],
    row: ['a', 'b'],
    // customers has card (last4), contact (redact) and born (hash) columns: the strictest is redact
    want: [R, R],
    masked: 2,
  },
  {
    name: 'RETURNING names the target but the value came from a classified column',
    sql: 'UPDATE notes SET body = c.card FROM customers c WHERE c.id = notes.id RETURNING notes.body',
    fields: [field('body', OID.notes, 2, T.text)],
    row: [CARD],
    want: [lastFour(CARD)],
    masked: 1,
  },
  {
    name: 'an OID the catalog does not know is masked (it may be a new view over anything)',
    sql: 'SELECT x FROM brand_new',
    fields: [field('x', 99999, 1, T.text)],
    row: ['v'],
    want: [null],
    masked: 1,
  },
  {
    name: 'a column number the catalog does not know is masked',
    sql: 'SELECT x FROM customers',
    fields: [field('x', OID.customers, 42, T.text)],
    row: ['v'],
    want: [null],
    masked: 1,
  },
  {
    name: 'system columns are row metadata, not data',
    sql: 'SELECT ctid, xmin, card FROM customers',
    fields: [c('ctid', -1, 27), c('xmin', -3, 28), c('card', 4, T.text)],
    row: ['(0,1)', '731', CARD],
    want: ['(0,1)', '731', lastFour(CARD)],
    masked: 1,
  },
  {
    name: 'the detector backstop still runs on clear columns',
    sql: 'SELECT name, card FROM customers',
    fields: [c('name', 2, T.text), c('card', 4, T.text)],
    row: [`note ${CARD}`, CARD],
    want: [`note ${lastFour(CARD)}`, lastFour(CARD)],
    masked: 2,
  },
  {
    name: 'hash keeps equal values joinable',
    sql: 'SELECT card, card FROM customers',
    fields: [c('card', 4, T.text), c('card', 4, T.text)],
    row: ['x1', 'x1'],
    want: [lastFour('x1'), lastFour('x1')],
    masked: 2,
  },
];

describe('column planner: what is masked how', () => {
  for (const k of cases) {
    test(k.name, async () => {
      const h = harness();
      const m = await plan(h, k.sql, k.fields);
      assert.deepEqual(maskRow(m, k.row), k.want);
      assert.equal(m.lastMasked, k.masked);
    });
  }

  test('hash strategy output is the keyed HMAC', async () => {
    const h = harness();
    const m = await plan(h, 'SELECT born::text FROM customers', [field('born', 0, 0, T.text)]);
    assert.deepEqual(maskRow(m, ['1990-01-01']), [hashValue('1990-01-01', hashKey)]);
  });

  test('a row with nothing to mask is forwarded as is', async () => {
    const h = harness(catalogData, resource([{ classification: 'card', strategy: 'redact', strict: false, policy: 'p' }].map((x) => ({ ...x, strategy: 'redact' as const }))));
    const m = await plan(h, 'SELECT name, card FROM customers', [c('name', 2, T.text), c('card', 4, T.text)]);
    const row = buildDataRow(['Ann', null]);
    assert.equal(m.maskRow(row, 5, row.length), undefined);
    assert.equal(m.lastMasked, 0);
  });

  test('a result set without classified columns gets the backstop alone', async () => {
    const h = harness();
    const m = await plan(h, 'SELECT id, body FROM notes', [field('id', OID.notes, 1, T.int4), field('body', OID.notes, 2, T.text)]);
    assert.ok(!(m instanceof ColumnRowMasker));
    assert.deepEqual(maskRow(m, ['1', `call ${CARD}`]), ['1', `call ${lastFour(CARD)}`]);
  });

  test('the statement index picks the statement of a multi-statement query', async () => {
    const h = harness();
    const text = 'SELECT lower(name) FROM customers; SELECT reverse(card) FROM customers';
    const first = await plan(h, text, [field('lower', 0, 0, T.text)], 0);
    const second = await plan(h, text, [field('reverse', 0, 0, T.text)], 1);
    assert.deepEqual(maskRow(first, ['ann']), ['ann']);
    assert.deepEqual(maskRow(second, ['abc']), [lastFour('abc')]);
  });
});

describe('column planner: catalog use and caching', () => {
  // Without strict classifications the catalog is read on demand only (strict loads it all up front).
  const lazy = () => harness(catalogData, resource(defaultMasking.map((m) => ({ ...m, strict: false }))));

  test('one round trip for all unknown OIDs of a RowDescription; a repeat is planned synchronously', async () => {
    const h = lazy();
    const fields = [c('card', 4, T.text), field('total', OID.orders, 3, T.numeric)];
    const first = h.planner.plan(fields, { command: command('SELECT card, total FROM customers, orders'), statementIndex: 0 });
    assert.ok(first instanceof Promise);
    await first;
    const oidQueries = h.server.queries.filter((q) => q.includes('c.oid IN'));
    assert.equal(oidQueries.length, 1);
    assert.match(oidQueries[0]!, new RegExp(`c\\.oid IN \\(${OID.customers},${OID.orders}\\)`));
    const n = h.server.queries.length;
    const again = h.planner.plan(fields, { command: command('SELECT card, total FROM customers, orders'), statementIndex: 0 });
    assert.ok(!(again instanceof Promise));
    // Another statement over the same OIDs needs no catalog query either.
    const other = h.planner.plan([c('card', 4, T.text)], { command: command('SELECT card FROM customers WHERE id = 1'), statementIndex: 0 });
    await other;
    assert.equal(h.server.queries.length, n);
  });

  test('concurrent plans missing the same facts ask for them once', async () => {
    const h = lazy();
    const fields = [c('card', 4, T.text)];
    await Promise.all([plan(h, 'SELECT card FROM customers', fields), plan(h, 'SELECT card FROM customers WHERE id = 2', fields)]);
    assert.equal(h.server.queries.filter((q) => q.includes('c.oid IN')).length, 1);
  });

  test('invalidate() forgets: the next plan asks the catalog again', async () => {
    const h = lazy();
    const fields = [c('card', 4, T.text)];
    await plan(h, 'SELECT card FROM customers', fields);
    const n = h.server.queries.length;
    h.planner.invalidate();
    const again = h.planner.plan(fields, { command: command('SELECT card FROM customers'), statementIndex: 0 });
    assert.ok(again instanceof Promise);
    await again;
    assert.ok(h.server.queries.length > n);
  });

  test('the catalog unreachable: the plan is rejected (the session ends rather than reveal)', async () => {
    const h = lazy();
    h.server.failWith = new Error('connection refused');
    await assert.rejects(plan(h, 'SELECT card FROM customers', [c('card', 4, T.text)]), /connection refused/);
  });

  test('without a catalog connection the planner is the backstop alone', () => {
    const h = harness();
    assert.equal(columnPlanner(h.base, { resource: resource(), hashKey }), h.base);
    const noColumns = resource([{ classification: 'card', strategy: 'last4', strict: false, policy: 'p' }]);
    const detectorsOnly = { ...noColumns, classifications: noColumns.classifications.map((x) => ({ ...x, columns: [] })) };
    assert.equal(columnPlanner(h.base, { resource: detectorsOnly, hashKey, connect: () => Promise.reject(new Error('unused')) }), h.base);
  });
});

describe('column planner: EXECUTE and FETCH', () => {
  test('with the forwarded hook, EXECUTE of an earlier PREPARE has lineage', async () => {
    const h = harness();
    const session = {};
    h.planner.forwarded(session, command('PREPARE p AS SELECT lower(name), reverse(card) FROM customers'), sessionState);
    const exec = command('EXECUTE p');
    h.planner.forwarded(session, exec, sessionState);
    const m = await h.planner.plan([field('lower', 0, 0, T.text), field('reverse', 0, 0, T.text)], { command: exec, statementIndex: 0 });
    assert.deepEqual(maskRow(m, ['ann', 'xyz1']), ['ann', lastFour('xyz1')]);
  });

  test('with the forwarded hook, FETCH from an earlier cursor has lineage', async () => {
    const h = harness();
    const session = {};
    h.planner.forwarded(session, command('BEGIN; DECLARE c CURSOR FOR SELECT lower(name), reverse(card) FROM customers'), sessionState);
    const fetch = command('FETCH 10 FROM c');
    h.planner.forwarded(session, fetch, sessionState);
    const m = await h.planner.plan([field('lower', 0, 0, T.text), field('reverse', 0, 0, T.text)], { command: fetch, statementIndex: 0 });
    assert.deepEqual(maskRow(m, ['ann', 'xyz1']), ['ann', lastFour('xyz1')]);
  });

  test('without the hook, computed columns of a FETCH are masked whole; OID-named ones stay exact', async () => {
    const h = harness();
    const m = await plan(h, 'FETCH 10 FROM c', [field('lower', 0, 0, T.text), c('name', 2, T.text)]);
    assert.deepEqual(maskRow(m, ['ann', 'Ann']), [null, 'Ann']);
  });

  test('sessions do not see each other\'s cursors', async () => {
    const h = harness();
    h.planner.forwarded({ id: 1 }, command('DECLARE c CURSOR FOR SELECT lower(name) FROM customers'), sessionState);
    const other = command('FETCH c');
    h.planner.forwarded({ id: 2 }, other, sessionState);
    const m = await h.planner.plan([field('lower', 0, 0, T.text)], { command: other, statementIndex: 0 });
    assert.deepEqual(maskRow(m, ['ann']), [null]);
  });
});

describe('remembered plans (a repeated statement skips parsing its RowDescription)', () => {
  const text = 'SELECT id, card FROM customers';
  const fields = [c('id', 1, T.int4), c('card', 4, T.text)];
  const description = buildRowDescription(fields).subarray(5);

  test('the same statement and description in another session (equal state, other object) reuses the masker', async () => {
    const h = harness();
    const first = command(text);
    const m = await h.planner.plan(fields, { command: first, statementIndex: 0 }, description);
    const again = command(text, { ...sessionState });
    assert.equal(h.planner.planned(Buffer.from(description), { command: again, statementIndex: 0 }), m);
    assert.deepEqual(maskRow(m, ['1', CARD]), ['1', lastFour(CARD)]);
  });

  test('other bytes, another statement index, another search_path, or an invalidated catalog: no reuse', async () => {
    const h = harness();
    await h.planner.plan(fields, { command: command(text), statementIndex: 0 }, description);
    const other = buildRowDescription([c('id', 1, T.int4), c('card', 4, T.varchar)]).subarray(5);
    assert.equal(h.planner.planned(other, { command: command(text), statementIndex: 0 }), undefined);
    assert.equal(h.planner.planned(description, { command: command(text), statementIndex: 1 }), undefined);
    assert.equal(h.planner.planned(description, { command: command(text, { ...sessionState, searchPath: ['vault', 'public'] }), statementIndex: 0 }), undefined);
    h.planner.invalidate();
    assert.equal(h.planner.planned(description, { command: command(text), statementIndex: 0 }), undefined);
  });
});
