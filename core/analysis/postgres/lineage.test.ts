import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initPostgresParser } from './analyse.ts';
import {
  ANYTHING,
  alignShape,
  emptyLineageSession,
  lineage,
  READS,
  type Col,
  type LineageCatalog,
  type LineageSession,
  type StatementLineage,
} from './lineage.ts';
import type { PgTrackedState } from './session-tracker.ts';

before(async () => {
  await initPostgresParser();
});

const state: PgTrackedState = { searchPath: ['$user', 'public'], prepared: new Map() };

const tables: Record<string, string[]> = {
  'public.customers': ['id', 'name', 'card', 'email'],
  'public.orders': ['id', 'customer_id', 'total'],
  'vault.keys': ['id', 'secret'],
};
const withCatalog: LineageCatalog = { columns: (r) => tables[r] };
const opaque: LineageCatalog = { columns: (r) => tables[r], opaqueFunction: (f) => f.schema === 'app' || f.name.startsWith('my_') };

/** `name:source,source` (sorted), `?reads` / `?any` for unknown, `!` for a plain column; `*each` for a run. */
function render(c: Col): string {
  const u = c.unknown === ANYTHING ? '?any' : c.unknown === READS ? '?reads' : '';
  return `${c.name}:${[...c.sources].sort().join(',')}${u}${c.direct ? '!' : ''}`;
}

function shapeOf(s: StatementLineage): string[] {
  const out = s.shape.head.map(render);
  if (s.shape.rest) out.push(`*${render(s.shape.rest.each)}`, ...s.shape.rest.tail.map(render));
  return out;
}

function last(sql: string, catalog?: LineageCatalog, st: PgTrackedState = state, session?: LineageSession): StatementLineage {
  const r = lineage(sql, st, { ...(catalog ? { catalog } : {}), ...(session ? { session } : {}) });
  assert.equal(r.error, undefined);
  const s = r.statements[r.statements.length - 1];
  assert.ok(s, 'a statement');
  return s;
}

interface Case {
  readonly name: string;
  readonly sql: string;
  readonly catalog?: LineageCatalog;
  readonly state?: PgTrackedState;
  readonly want: readonly string[];
  readonly kind?: StatementLineage['kind'];
}

const C = 'public.customers';
const O = 'public.orders';

const cases: Case[] = [
  // direct references and aliases
  { name: 'plain column', sql: 'SELECT card FROM customers', want: [`card:${C}.card!`] },
  { name: 'column alias and table alias', sql: 'SELECT c.card AS x FROM customers c', want: [`x:${C}.card!`] },
  { name: 'schema-qualified column reference', sql: 'SELECT public.customers.card FROM customers', want: [`card:${C}.card!`] },
  { name: 'schema-qualified table', sql: 'SELECT k.secret FROM vault.keys k', want: ['secret:vault.keys.secret!'] },
  { name: 'pg_catalog relation', sql: 'SELECT relname FROM pg_class', want: ['relname:pg_catalog.pg_class.relname!'] },
  { name: 'system columns carry no data', sql: 'SELECT ctid::text, c.xmin, tableoid FROM customers c', catalog: withCatalog, want: ['ctid:', 'xmin:', 'tableoid:'] },
  { name: 'constant and parameter', sql: 'SELECT 1 AS one, $1::text AS p', want: ['one:', 'p:'] },
  // expressions
  { name: 'function of a column', sql: 'SELECT reverse(card) FROM customers', want: [`reverse:${C}.card`] },
  { name: 'substr and concatenation', sql: "SELECT substr(card, 1, 4) || '-' || name AS m FROM customers", want: [`m:${C}.card,${C}.name`] },
  { name: 'cast', sql: 'SELECT card::varchar(4) FROM customers', want: [`card:${C}.card`] },
  { name: 'cast of a constant is named after the type', sql: "SELECT '1'::int", want: ['int4:'] },
  { name: 'CASE reads its conditions', sql: "SELECT CASE WHEN card LIKE '4%' THEN 'visa' ELSE name END AS brand FROM customers", want: [`brand:${C}.card,${C}.name`] },
  { name: 'COALESCE and NULLIF', sql: 'SELECT coalesce(email, card), nullif(name, card) FROM customers', want: [`coalesce:${C}.card,${C}.email`, `nullif:${C}.card,${C}.name`] },
  { name: 'aggregates', sql: 'SELECT count(*), max(card), string_agg(name, \',\' ORDER BY email) FROM customers', want: ['count:', `max:${C}.card`, `string_agg:${C}.email,${C}.name`] },
  { name: 'window function', sql: 'SELECT lag(card) OVER (PARTITION BY name ORDER BY id) FROM customers', want: [`lag:${C}.card,${C}.id,${C}.name`] },
  { name: 'array and row constructors', sql: 'SELECT ARRAY[card, name], ROW(id, email) FROM customers', want: [`array:${C}.card,${C}.name`, `row:${C}.email,${C}.id`] },
  { name: 'set-returning function in the target list', sql: 'SELECT unnest(ARRAY[card]) FROM customers', want: [`unnest:${C}.card`] },
  // sub-selects
  { name: 'scalar sub-select (its filter is not a source)', sql: 'SELECT (SELECT c.card FROM customers c WHERE c.id = o.customer_id) AS card FROM orders o', want: [`card:${C}.card`] },
  { name: 'sub-select in FROM', sql: 'SELECT s.x FROM (SELECT card AS x FROM customers) s', want: [`x:${C}.card!`] },
  { name: 'expression in a sub-select in FROM', sql: "SELECT * FROM (SELECT substr(card, 1, 4) || 'x' AS p, name FROM customers) s", want: [`p:${C}.card`, `name:${C}.name!`] },
  { name: 'LATERAL sub-select', sql: 'SELECT l.y FROM customers c, LATERAL (SELECT upper(c.card) AS y) l', want: [`y:${C}.card`] },
  { name: 'correlated reference to the outer query', sql: 'SELECT (SELECT max(o.total) FROM orders o WHERE o.customer_id = c.id) AS t, c.name FROM customers c', want: [`t:${O}.total`, `name:${C}.name!`] },
  { name: 'EXISTS and IN', sql: 'SELECT EXISTS (SELECT 1 FROM orders), id IN (SELECT customer_id FROM orders) FROM customers', catalog: withCatalog, want: ['exists:', `?column?:${C}.id,${O}.customer_id`] },
  { name: 'ARRAY sub-select', sql: 'SELECT ARRAY(SELECT card FROM customers)', want: [`array:${C}.card`] },
  // CTEs
  { name: 'CTE', sql: 'WITH x AS (SELECT card AS k FROM customers) SELECT upper(k) FROM x', want: [`upper:${C}.card`] },
  { name: 'CTE chain', sql: 'WITH a AS (SELECT card FROM customers), b AS (SELECT card AS z FROM a) SELECT z FROM b', want: [`z:${C}.card!`] },
  { name: 'CTE column aliases', sql: 'WITH a(k, n) AS (SELECT card, name FROM customers) SELECT n, k FROM a', want: [`n:${C}.name!`, `k:${C}.card!`] },
  { name: 'CTE shadows a table', sql: "WITH customers AS (SELECT 'x' AS card) SELECT card FROM customers", want: ['card:'] },
  {
    name: 'recursive CTE',
    sql: 'WITH RECURSIVE t(n, c) AS (SELECT 1, card FROM customers UNION ALL SELECT n + 1, c FROM t WHERE n < 3) SELECT n, c FROM t',
    want: ['n:', `c:${C}.card`],
  },
  {
    name: 'recursive CTE whose recursive term brings a new source',
    sql: 'WITH RECURSIVE t(x) AS (SELECT name FROM customers UNION SELECT c.card FROM customers c JOIN t ON true) SELECT x FROM t',
    want: [`x:${C}.card,${C}.name`],
  },
  {
    name: 'SEARCH and CYCLE add columns to a recursive CTE',
    sql: 'WITH RECURSIVE t(id, c) AS (SELECT id, card FROM customers UNION ALL SELECT id + 1, c FROM t) SEARCH DEPTH FIRST BY c SET ord CYCLE id SET cyc USING pth SELECT * FROM t',
    want: [`id:${C}.id`, `c:${C}.card`, `ord:${C}.card`, 'cyc:', `pth:${C}.id`],
  },
  { name: 'data-modifying CTE', sql: 'WITH d AS (DELETE FROM customers WHERE id = 1 RETURNING card) SELECT * FROM d', want: [`card:${C}.card!`] },
  // set operations and VALUES
  { name: 'UNION: column i from every branch', sql: 'SELECT card, id FROM customers UNION SELECT name, total FROM orders, customers', catalog: withCatalog, want: [`card:${C}.card,${C}.name`, `id:${C}.id,${O}.total`] },
  { name: 'EXCEPT', sql: 'SELECT name FROM customers EXCEPT SELECT email FROM customers', want: [`name:${C}.email,${C}.name`] },
  { name: 'UNION with VALUES', sql: "SELECT name FROM customers UNION ALL VALUES ('x')", want: [`name:${C}.name`] },
  { name: 'VALUES', sql: "VALUES (1, 'a'), (2, 'b')", want: ['column1:', 'column2:'] },
  { name: 'UNION of * without a catalog aligns to the known branch', sql: "SELECT * FROM customers UNION SELECT 'a', 'b'", want: [`?column?:${C}.*`, `?column?:${C}.*`] },
  // * expansion and whole rows
  { name: '* with catalog columns', sql: 'SELECT * FROM customers', catalog: withCatalog, want: [`id:${C}.id!`, `name:${C}.name!`, `card:${C}.card!`, `email:${C}.email!`] },
  { name: '* without a catalog is a run of unknown length', sql: 'SELECT *, 1 AS one FROM customers', want: [`*?column?:${C}.*`, 'one:'] },
  { name: 't.* and a column', sql: 'SELECT o.*, c.name FROM orders o JOIN customers c ON c.id = o.customer_id', catalog: withCatalog, want: [`id:${O}.id!`, `customer_id:${O}.customer_id!`, `total:${O}.total!`, `name:${C}.name!`] },
  { name: '* over a sub-select expands to its columns', sql: 'SELECT * FROM (SELECT reverse(card) AS r, name FROM customers) s', want: [`r:${C}.card`, `name:${C}.name!`] },
  { name: '* over a CTE', sql: 'WITH w AS (SELECT card || name AS cn FROM customers) SELECT * FROM w', want: [`cn:${C}.card,${C}.name`] },
  { name: 'a bare name without a catalog may be a column or the whole row', sql: 'SELECT c FROM customers c', want: [`c:${C}.*,${C}.c`] },
  { name: 'whole-row reference with catalog', sql: 'SELECT c FROM customers c', catalog: withCatalog, want: [`c:${C}.card,${C}.email,${C}.id,${C}.name`] },
  { name: 'row_to_json, to_jsonb(c.*), json_agg', sql: 'SELECT row_to_json(c), to_jsonb(c.*), json_agg(c) FROM customers c', want: [`row_to_json:${C}.*,${C}.c`, `to_jsonb:${C}.*`, `json_agg:${C}.*,${C}.c`] },
  { name: 'field of a whole row', sql: 'SELECT (c).card FROM customers c', catalog: withCatalog, want: [`card:${C}.card,${C}.email,${C}.id,${C}.name`] },
  { name: '(c).* expands the row', sql: 'SELECT (c).* FROM customers c', catalog: withCatalog, want: [`id:${C}.id!`, `name:${C}.name!`, `card:${C}.card!`, `email:${C}.email!`] },
  // joins
  { name: 'JOIN USING merges the column', sql: 'SELECT * FROM customers JOIN orders USING (id)', catalog: withCatalog, want: [`id:${C}.id,${O}.id`, `name:${C}.name!`, `card:${C}.card!`, `email:${C}.email!`, `customer_id:${O}.customer_id!`, `total:${O}.total!`] },
  { name: 'NATURAL JOIN', sql: 'SELECT * FROM customers NATURAL JOIN orders', catalog: withCatalog, want: [`id:${C}.id,${O}.id`, `name:${C}.name!`, `card:${C}.card!`, `email:${C}.email!`, `customer_id:${O}.customer_id!`, `total:${O}.total!`] },
  { name: 'JOIN USING without a catalog: one run', sql: 'SELECT * FROM customers JOIN orders USING (id)', want: [`*?column?:${C}.*,${O}.*`] },
  { name: 'aliased join', sql: 'SELECT j.card FROM (customers c JOIN orders o ON o.customer_id = c.id) AS j', catalog: withCatalog, want: [`card:${C}.card!`] },
  { name: 'ambiguous name without a catalog keeps both candidates', sql: 'SELECT total FROM customers, orders', want: [`total:${C}.total,${O}.total`] },
  { name: 'table alias column list', sql: 'SELECT a FROM customers AS c(a, b)', catalog: withCatalog, want: [`a:${C}.id!`] },
  { name: 'table alias column list without a catalog', sql: 'SELECT a FROM customers AS c(a, b)', want: [`a:${C}.*`] },
  // functions in FROM
  { name: 'built-in set-returning function', sql: 'SELECT g FROM generate_series(1, 3) g', want: ['g:'] },
  { name: 'function over a sub-select', sql: 'SELECT * FROM unnest(ARRAY(SELECT card FROM customers)) u', want: [`*?column?:${C}.card`] },
  { name: 'json_each has key and value', sql: 'SELECT key, value FROM customers c, json_each(row_to_json(c))', catalog: withCatalog, want: [`key:${C}.card,${C}.email,${C}.id,${C}.name`, `value:${C}.card,${C}.email,${C}.id,${C}.name`] },
  { name: 'user-defined function is opaque', sql: 'SELECT my_fn(id) FROM customers', catalog: opaque, want: [`my_fn:${C}.id?any`] },
  { name: 'user-defined set-returning function in FROM', sql: 'SELECT * FROM app.rows()', catalog: opaque, want: ['*?column?:?any'] },
  { name: 'JSON_TABLE is unknown but keeps its input', sql: "SELECT * FROM customers c, JSON_TABLE(to_jsonb(c), '$' COLUMNS (x text PATH '$.card')) jt", catalog: withCatalog, want: [`id:${C}.id!`, `name:${C}.name!`, `card:${C}.card!`, `email:${C}.email!`, `*?column?:${C}.card,${C}.email,${C}.id,${C}.name?reads`] },
  // DML … RETURNING
  { name: 'INSERT … SELECT RETURNING', sql: 'INSERT INTO orders (id, customer_id, total) SELECT id, id, card FROM customers RETURNING total', want: [`total:${C}.card,${O}.total`], kind: 'rows' },
  { name: 'INSERT without a column list maps through the catalog', sql: 'INSERT INTO orders SELECT id, id, card FROM customers RETURNING total, id', catalog: withCatalog, want: [`total:${C}.card,${O}.total`, `id:${C}.id,${O}.id`] },
  { name: 'UPDATE SET returns the assigned value', sql: 'UPDATE customers SET name = card WHERE id = 2 RETURNING name', want: [`name:${C}.card,${C}.name`] },
  { name: 'DELETE RETURNING *', sql: 'DELETE FROM orders WHERE id = 1 RETURNING *', catalog: withCatalog, want: [`id:${O}.id!`, `customer_id:${O}.customer_id!`, `total:${O}.total!`] },
  { name: 'ON CONFLICT DO UPDATE SET from excluded', sql: "INSERT INTO customers (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name || customers.card RETURNING name", want: [`name:${C}.card,${C}.name`] },
  { name: 'INSERT without RETURNING returns no rows', sql: 'INSERT INTO orders VALUES (1, 2, 3)', want: ['*?column?:?any'], kind: 'none' },
  // other statements
  { name: 'EXPLAIN returns the plan only', sql: 'EXPLAIN ANALYZE SELECT card FROM customers', want: ['QUERY PLAN:'] },
  { name: 'SHOW', sql: 'SHOW search_path', want: ['search_path:'] },
  { name: 'SHOW ALL', sql: 'SHOW ALL', want: ['name:', 'setting:', 'description:'] },
  { name: 'SELECT INTO returns no rows', sql: 'SELECT card INTO t FROM customers', want: ['*?column?:?any'], kind: 'none' },
  { name: 'CALL: whatever the procedure computes', sql: 'CALL p(1)', want: ['*?column?:?any'] },
  { name: 'search_path set earlier in the command', sql: 'SET search_path = vault; SELECT secret FROM keys', want: ['secret:vault.keys.secret!'] },
  { name: 'unknown search_path: the relation cannot be named', sql: 'SELECT card FROM customers', state: { searchPath: [], searchPathUnknown: 'x', prepared: new Map() }, want: ['card:?any'] },
  { name: 'a possibly dropped temporary table yields both candidates', sql: 'SELECT card FROM customers', state: { ...state, tempRelations: new Set(['customers']) }, want: [`card:pg_temp.customers.card,${C}.card`] },
  { name: 'filters are not sources', sql: "SELECT name FROM customers WHERE card = 'x' GROUP BY name HAVING count(card) > 0 ORDER BY max(card)", want: [`name:${C}.name!`] },
];

describe('lineage: output columns and their sources', () => {
  for (const c of cases) {
    test(c.name, () => {
      const s = last(c.sql, c.catalog, c.state ?? state);
      assert.deepEqual(shapeOf(s), c.want);
      if (c.kind) assert.equal(s.kind, c.kind);
    });
  }
});

describe('lineage: statements, sessions and alignment', () => {
  test('every top-level statement has its own lineage, in order', () => {
    const r = lineage('SELECT 1; SET x = 1; SELECT card FROM customers', state);
    assert.deepEqual(r.statements.map((s) => s.kind), ['rows', 'none', 'rows']);
    assert.deepEqual(shapeOf(r.statements[2]!), [`card:${C}.card!`]);
  });

  test('relations read anywhere in the statement are listed', () => {
    const s = last('SELECT (SELECT 1 FROM orders LIMIT 1), x.k FROM (SELECT id AS k FROM vault.keys) x WHERE EXISTS (SELECT 1 FROM customers)');
    assert.deepEqual([...s.relations].sort(), ['public.orders', 'vault.keys']);
  });

  test('PREPARE and EXECUTE in one command', () => {
    const r = lineage('PREPARE p AS SELECT reverse(card) FROM customers; EXECUTE p', state);
    assert.deepEqual(shapeOf(r.statements[1]!), [`reverse:${C}.card`]);
    assert.equal(r.statements[1]!.usesSession, true);
  });

  test('EXECUTE in a later command uses the session it was prepared in', () => {
    const first = lineage('PREPARE p(int) AS UPDATE customers SET name = card WHERE id = $1 RETURNING name', state);
    const s = last('EXECUTE p(1)', undefined, state, first.session);
    assert.deepEqual(shapeOf(s), [`name:${C}.card,${C}.name`]);
    assert.equal(s.dml, true);
  });

  test('EXECUTE of an unknown statement is unknown, from anywhere', () => {
    const s = last('EXECUTE nope');
    assert.deepEqual(shapeOf(s), ['*?column?:?any']);
    assert.equal(s.usesSession, true);
  });

  test('DEALLOCATE forgets', () => {
    const first = lineage('PREPARE p AS SELECT card FROM customers; DEALLOCATE p', state);
    assert.deepEqual(shapeOf(last('EXECUTE p', undefined, state, first.session)), ['*?column?:?any']);
  });

  test('a cursor resolves names as when it was declared', () => {
    const first = lineage('SET search_path = vault; DECLARE c CURSOR FOR SELECT upper(secret) FROM keys', state);
    const later = last('FETCH 10 FROM c', undefined, state, first.session);
    assert.deepEqual(shapeOf(later), ['upper:vault.keys.secret']);
  });

  test('FETCH of an unknown or closed cursor is unknown; MOVE returns nothing', () => {
    assert.deepEqual(shapeOf(last('FETCH c')), ['*?column?:?any']);
    const r = lineage('DECLARE c CURSOR FOR SELECT card FROM customers; CLOSE c; FETCH c; MOVE c', state);
    assert.deepEqual(shapeOf(r.statements[2]!), ['*?column?:?any']);
    assert.equal(r.statements[3]!.kind, 'none');
  });

  test('DISCARD ALL clears prepared statements and cursors', () => {
    const r = lineage('PREPARE p AS SELECT 1; DECLARE c CURSOR WITH HOLD FOR SELECT 1; DISCARD ALL', state);
    assert.equal(r.session.prepared.size, 0);
    assert.equal(r.session.cursors.size, 0);
    assert.equal(lineage('SELECT 1', state).session, emptyLineageSession);
  });

  test('COPY table TO STDOUT: catalog columns or the column list, and the options', () => {
    const all = last("COPY customers TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER)", withCatalog);
    assert.equal(all.kind, 'copy');
    assert.equal(all.copy?.relation, C);
    assert.equal(all.copy?.options.get('format'), 'csv');
    assert.equal(all.copy?.options.get('delimiter'), ';');
    assert.equal(all.copy?.options.get('header'), true);
    assert.deepEqual(shapeOf(all), [`id:${C}.id!`, `name:${C}.name!`, `card:${C}.card!`, `email:${C}.email!`]);
    const some = last('COPY customers (card, name) TO STDOUT');
    assert.deepEqual(shapeOf(some), [`card:${C}.card!`, `name:${C}.name!`]);
    const unknown = last('COPY customers TO STDOUT');
    assert.deepEqual(shapeOf(unknown), [`*?column?:${C}.*`]);
  });

  test('COPY (query) TO STDOUT has the query lineage; COPY FROM returns nothing', () => {
    const q = last('COPY (SELECT reverse(card) FROM customers) TO STDOUT CSV');
    assert.equal(q.kind, 'copy');
    assert.deepEqual(shapeOf(q), [`reverse:${C}.card`]);
    assert.equal(last('COPY customers FROM STDIN').kind, 'none');
    assert.equal(last("COPY customers TO '/tmp/x'").kind, 'none');
  });

  test('alignShape fills a run to the real column count', () => {
    const s = last('SELECT 1 AS a, *, 2 AS b FROM customers');
    const cols = alignShape(s.shape, 6);
    assert.deepEqual(cols?.map(render), ['a:', `?column?:${C}.*`, `?column?:${C}.*`, `?column?:${C}.*`, `?column?:${C}.*`, 'b:']);
    assert.equal(alignShape(s.shape, 1), undefined);
    assert.equal(alignShape({ head: [] }, 1), undefined);
  });

  test('an unparseable text reports the parser error', () => {
    const r = lineage('SELEC 1', state);
    assert.match(r.error ?? '', /cannot parse/);
  });

  test('a deep expression is unknown rather than a crash', () => {
    const deep = 'SELECT ' + 'upper('.repeat(150) + 'card' + ')'.repeat(150) + ' FROM customers';
    const r = lineage(deep, state, { maxDepth: 50 });
    assert.deepEqual(shapeOf(r.statements[0]!), ['*?column?:?any']);
    assert.match(r.statements[0]!.error ?? '', /deeper/);
  });
});

describe('lineage: filter positions (for strict masking)', () => {
  const filters = (sql: string): string[] => {
    const out: string[] = [];
    lineage(sql, state, { filters: (_i, position, col) => out.push(`${position}:${[...col.sources].sort().join(',')}`) });
    return out;
  };

  const fcases: Array<[string, string, string[]]> = [
    ['WHERE', "SELECT name FROM customers WHERE card = 'x'", [`WHERE:${C}.card`]],
    ['JOIN ON and USING', 'SELECT 1 FROM customers c JOIN orders o ON o.total = c.id JOIN vault.keys USING (id)', [`JOIN … ON:${C}.id,${O}.total`, `JOIN … USING:${C}.id,${O}.id,vault.keys.id`]],
    ['GROUP BY, HAVING, ORDER BY by name and position', 'SELECT card AS k, count(*) FROM customers GROUP BY 1 HAVING max(email) > \'\' ORDER BY k', [`GROUP BY:${C}.card`, `HAVING:${C}.email`, `ORDER BY:${C}.card,${C}.k`]],
    ['DISTINCT ON', 'SELECT DISTINCT ON (card) name FROM customers', [`DISTINCT ON:${C}.card`]],
    ['window PARTITION BY and ORDER BY', 'SELECT row_number() OVER (PARTITION BY card ORDER BY email) FROM customers', [`window PARTITION BY:${C}.card`, `window ORDER BY:${C}.email`]],
    ['named window', 'SELECT row_number() OVER w FROM customers WINDOW w AS (ORDER BY card)', [`window ORDER BY:${C}.card`]],
    ['aggregate FILTER', "SELECT count(*) FILTER (WHERE card LIKE '4%') FROM customers", [`aggregate FILTER:${C}.card`]],
    ['sub-query filters', "SELECT name FROM customers WHERE id IN (SELECT id FROM customers WHERE card LIKE '4%')", [`WHERE:${C}.card`, `WHERE:${C}.id`]],
    ['filters inside a scalar sub-select of the target list', "SELECT (SELECT count(*) FROM customers WHERE card LIKE '4%')", [`WHERE:${C}.card`]],
    ['filter through a derived table', "SELECT 1 FROM (SELECT card AS x FROM customers) s WHERE x = '1'", [`WHERE:${C}.card`]],
    ['INTERSECT compares every column', "SELECT card FROM customers INTERSECT SELECT '4111'", [`INTERSECT:${C}.card`, 'INTERSECT:']],
    ['UPDATE and DELETE conditions', "UPDATE customers SET name = 'x' WHERE card LIKE '4%'; DELETE FROM orders WHERE total > 1", [`WHERE:${C}.card`, `WHERE:${O}.total`]],
    ['PREPARE, DECLARE and EXPLAIN embed queries', "PREPARE p AS SELECT 1 FROM customers WHERE card = $1; DECLARE c CURSOR FOR SELECT 1 FROM orders ORDER BY total; EXPLAIN SELECT 1 FROM vault.keys WHERE secret = 'x'", [`WHERE:${C}.card`, `ORDER BY:${O}.total`, 'WHERE:vault.keys.secret']],
    ['CREATE TABLE AS and COPY (query)', "CREATE TABLE t AS SELECT 1 FROM customers WHERE card = 'x'; COPY (SELECT 1 FROM orders WHERE total = 1) TO STDOUT", [`WHERE:${C}.card`, `WHERE:${O}.total`]],
    ['values in the target list are not filters', 'SELECT card, CASE WHEN email IS NULL THEN 1 END FROM customers', []],
  ];
  for (const [name, sql, want] of fcases) {
    test(name, () => assert.deepEqual(filters(sql).sort(), [...want].sort()));
  }
});
