import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeSync, parseSync } from 'libpg-query';
import { fastShape } from './fast-shape.ts';
import { initPostgresParser } from './parser.ts';

before(async () => {
  await initPostgresParser();
});

const N = '\u0000n';
const S = '\u0000s';

test('fastShape: keys and normalisations of accepted statements', () => {
  const cases: Array<[string, string, string]> = [
    ['SELECT abalance FROM pgbench_accounts WHERE aid = 48213;', `SELECT abalance FROM pgbench_accounts WHERE aid = ${N};`, 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;'],
    ["SELECT * FROM t WHERE a = 5 AND b = 'x'", `SELECT * FROM t WHERE a = ${N} AND b = ${S}`, 'SELECT * FROM t WHERE a = $1 AND b = $2'],
    ["SELECT 'it''s', ''", `SELECT ${S}, ${S}`, 'SELECT $1, $2'],
    ['SELECT t1.c2 FROM t1 WHERE c3 = 7', `SELECT t1.c2 FROM t1 WHERE c3 = ${N}`, 'SELECT t1.c2 FROM t1 WHERE c3 = $1'],
    ['SELECT a FROM t WHERE b IN (1,2, 3)', `SELECT a FROM t WHERE b IN (${N},${N}, ${N})`, 'SELECT a FROM t WHERE b IN ($1,$2, $3)'],
    ['SELECT a[1:2] FROM t', `SELECT a[${N}:${N}] FROM t`, 'SELECT a[$1:$2] FROM t'],
    ["SELECT 'x'::text", `SELECT ${S}::text`, 'SELECT $1::text'],
    ['SELECT 123456789', `SELECT ${N}`, 'SELECT $1'],
    ['SELECT a FROM t WHERE a = -5', `SELECT a FROM t WHERE a = -${N}`, 'SELECT a FROM t WHERE a = -$1'],
    ["SELECT 'a'\n  , 'b'", `SELECT ${S}\n  , ${S}`, 'SELECT $1\n  , $2'],
    ["SELECT 'line\nbreak' ; \n", `SELECT ${S} ; \n`, 'SELECT $1 ; \n'],
    ["SELECT '--', '/*'", `SELECT ${S}, ${S}`, 'SELECT $1, $2'],
    ['SELECT data FROM docs WHERE data @> \'{"k": "v"}\'', `SELECT data FROM docs WHERE data @> ${S}`, 'SELECT data FROM docs WHERE data @> $1'],
    ['SELECT a/2, a*-3, a - 4', `SELECT a/${N}, a*-${N}, a - ${N}`, 'SELECT a/$1, a*-$2, a - $3'],
  ];
  for (const [sql, key, normalized] of cases) {
    const k = fastShape(sql);
    assert.ok(k, sql);
    assert.equal(k.key, key, sql);
    assert.equal(k.normalized, normalized, sql);
  }
});

test('fastShape: "don\'t know" outside the subset', () => {
  const bails = [
    'SELECT * FROM t', // no constant
    "SELECT E'x'", "SELECT e'x'", "SELECT U&'x'", "SELECT u&'x'", "SELECT B'1'", "SELECT b'1'", "SELECT x'1F'", "SELECT X'1F'", "SELECT N'x'",
    "SELECT date'2020-01-01'", // a quote after an identifier character, whatever the prefix
    "SELECT 'a'b", "SELECT 'a'5", "SELECT 5'a'",
    "SELECT 'a'\n'b'", "SELECT 'a' 'b'", "SELECT 'a'\r\n\t'b'", // adjacent strings (concatenated after a newline)
    "SELECT 'unterminated", "SELECT 'a''", "SELECT 'a;'", "SELECT '$5'", "SELECT 'a\u007f'", "SELECT 'a\\'", "SELECT 'é'", "SELECT 'a\u0000'", "SELECT 'a\u000b'",
    'SELECT 1.5', 'SELECT 1.', 'SELECT .5', 'SELECT a.5', 'SELECT 1e5', 'SELECT 1E5', 'SELECT 0x1F', 'SELECT 0b101', 'SELECT 0o17', 'SELECT 1_000', 'SELECT 123abc',
    'SELECT 1234567890', 'SELECT 12345678901',
    'SELECT $1', 'SELECT $$x$$', 'SELECT $tag$x$tag$', 'SELECT a$b FROM t WHERE c = 1',
    'SELECT 1 -- comment', 'SELECT 1 /* c */', 'SELECT 1 --', '/* c */ SELECT 1',
    'SELECT "a" FROM t WHERE b = 1', 'SELECT "t1" WHERE 1 = 1',
    'SELECT 1; SELECT 2', 'SELECT 1;;', ';SELECT 1', 'SELECT 1 ; x',
    'SELECT \\x 1', 'SELECT 1\u000c', 'SELECT 1\u0000', 'SELECT ü FROM t WHERE a = 1', 'SELECT 1 -- ü',
    `SELECT ${'1,'.repeat(5000)}1`,
  ];
  for (const sql of bails) assert.equal(fastShape(sql), undefined, JSON.stringify(sql));
  // Digits inside identifiers and qualified names are not constants.
  assert.equal(fastShape('SELECT t1.a2 FROM t1'), undefined);
  assert.equal(fastShape('SELECT a.b FROM t'), undefined);
  assert.equal(fastShape('SELECT _9 FROM t'), undefined);
});

test('fastShape.matches: placeholders exactly on the spans, numbered 1..n in any order, a folded minus allowed', () => {
  const k = fastShape('SELECT a FROM t WHERE a = 1 LIMIT 5 OFFSET 10')!;
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $2 OFFSET $3'), true);
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $3 OFFSET $2'), true);
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $3 OFFSET $3'), false, 'a number twice');
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $2 OFFSET $4'), false, 'a number out of range');
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $02 OFFSET $3'), false, 'a leading zero');
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $2 OFFSET 10'), false, 'a constant the parser kept');
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $2 OFFSET $3 '), false);
  assert.equal(k.matches('SELECT a FROM t WHERE a = $1 LIMIT $2 OFFSET $'), false);
  assert.equal(fastShape('SELECT a FROM t ORDER BY 1')!.matches('SELECT a FROM t ORDER BY 1'), false);
  assert.equal(fastShape('SELECT a FROM t WHERE a = -5')!.matches('SELECT a FROM t WHERE a = $1'), true);
  assert.equal(fastShape('SELECT a -5 FROM t')!.matches('SELECT a -$1 FROM t'), true);
  assert.equal(fastShape("SELECT -'5'")!.matches('SELECT $1'), false, 'a minus is folded into integers only');
  assert.equal(fastShape('SELECT a +5 FROM t')!.matches('SELECT a $1 FROM t'), false, 'only a minus may be inside the placeholder');
  assert.equal(fastShape('SELECT (5)')!.matches('SELECT $1)'), false);
  assert.equal(fastShape('SELECT a - 5')!.matches('SELECT a $1'), false, 'a minus only directly before the digits');
  // libpg-query's normalisation of a folded minus before a parenthesis or another minus leaves the digits in place.
  assert.equal(fastShape('SELECT - -5')!.matches('SELECT $15'), false);
  assert.equal(fastShape('SELECT -(5)')!.matches('SELECT $15)'), false);
  const many = fastShape(`SELECT ${Array.from({ length: 12 }, (_, i) => i).join(', ')}`)!;
  assert.equal(many.matches(`SELECT ${Array.from({ length: 12 }, (_, i) => `$${i + 1}`).join(', ')}`), true);
  assert.equal(many.matches(`SELECT ${Array.from({ length: 12 }, (_, i) => `$${12 - i}`).join(', ')}`), true);
});

test('fastShape: different structure, different keys', () => {
  const pairs: Array<[string, string]> = [
    ['SELECT a FROM t WHERE a = 1', "SELECT a FROM t WHERE a = '1'"],
    ['SELECT a FROM t WHERE a = 1', 'SELECT a FROM t WHERE a = 1 OR 1 = 1'],
    ['SELECT a FROM t1 WHERE a = 1', 'SELECT a FROM t2 WHERE a = 1'],
    ['SELECT a FROM t WHERE a = 1', 'select a from t where a = 1'],
    ['SELECT a FROM t WHERE a = 1', 'SELECT a FROM t WHERE a =  1'],
    ['SELECT a FROM t WHERE a = 1', 'SELECT a FROM t WHERE a = -1'],
    ["SELECT a FROM t WHERE a = 'x'", "SELECT a FROM t WHERE a = 'x' AND b = 'y'"],
    ["SELECT 'a', 'b'", "SELECT 'a, b'"],
    ["SELECT 1, 'a'", "SELECT 'a', 1"],
    ['SELECT 1', 'SELECT 1;'],
  ];
  for (const [a, b] of pairs) assert.notEqual(fastShape(a)!.key, fastShape(b)!.key, `${a} | ${b}`);
});

// Statements written for the property test: realistic traffic and the grammar's corners where a constant is not what
// it seems. Not all of them take the fast path, and not all that do agree with the parser; the test counts both.
const corpus = [
  'SELECT abalance FROM pgbench_accounts WHERE aid = 48213;',
  'UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 5;',
  'UPDATE pgbench_tellers SET tbalance = tbalance + 4321 WHERE tid = 7;',
  'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 48213, -1234, CURRENT_TIMESTAMP);',
  'SELECT * FROM orders WHERE id = 42',
  "SELECT * FROM orders WHERE status = 'open' AND total > 100",
  "SELECT id, total FROM public.orders o WHERE o.created_at > now() - interval '7 days' AND o.status = 'open' ORDER BY o.created_at DESC LIMIT 50",
  'SELECT a FROM t WHERE b IN (1, 2, 3, 4, 5)',
  "SELECT a FROM t WHERE b IN ('x', 'y', 'z')",
  'SELECT a FROM t LIMIT 10 OFFSET 20',
  'SELECT a FROM t WHERE c = 1 LIMIT 10 OFFSET 20',
  'SELECT a FROM t ORDER BY 1',
  'SELECT a, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC',
  'SELECT a, count(*) FROM t WHERE b = 3 GROUP BY 1 HAVING count(*) > 2',
  "SELECT 'x'::text",
  "SELECT CAST('12' AS integer) + 3",
  "SELECT interval '1 day'",
  "SELECT date '2020-01-01'",
  "SELECT timestamp '2020-01-01 10:00:00' + interval '2 hours'",
  "SELECT '2020-01-01'::date - 7",
  "SELECT lower('ABC'), substr('abcdef', 2, 3), coalesce(a, 0) FROM t",
  "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 10 AND c.region = 'eu'",
  'SELECT o.id FROM orders o LEFT JOIN items i ON i.order_id = o.id AND i.qty > 1 WHERE i.id IS NULL',
  'SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = 5)',
  'SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.flag = 0)',
  'WITH r AS (SELECT customer_id, sum(total) AS s FROM orders WHERE total > 5 GROUP BY customer_id) SELECT * FROM r WHERE s > 100',
  "WITH x AS (SELECT a FROM t WHERE a = 1) SELECT * FROM x WHERE b = 'two' LIMIT 3",
  'SELECT a FROM t WHERE a = -5',
  'SELECT a - 5 FROM t',
  'SELECT a -5 FROM t',
  'SELECT - -5',
  'SELECT -(5)',
  'SELECT a FROM t WHERE a BETWEEN 1 AND 10',
  "SELECT a FROM t WHERE name LIKE 'abc%' ESCAPE '!'",
  "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END FROM t",
  "SELECT 'x'::varchar(10)",
  'SELECT 1::numeric(10,2)',
  'SELECT 1::float(10)',
  "SELECT '1'::interval second(3)",
  'SELECT CURRENT_TIME(3)',
  'SELECT a[1:2], b[3] FROM t',
  "SELECT ARRAY[1, 2, 3], '{1,2}'::int[]",
  'SELECT row_number() OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND 2 FOLLOWING) FROM t',
  'SELECT * FROM t FETCH FIRST 5 ROWS ONLY',
  'SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (42)',
  'SELECT * FROM generate_series(1, 10) g',
  "SELECT jsonb_build_object('a', 1, 'b', 'two')",
  "SELECT data->>'name', data->'tags'->0 FROM docs WHERE id = 9",
  'SELECT data FROM docs WHERE data @> \'{"tags": ["a", "b"]}\' AND id > 3',
  "INSERT INTO orders (id, status, total) VALUES (1, 'open', 10), (2, 'closed', 20)",
  "INSERT INTO orders (id, status) VALUES (1, 'open') ON CONFLICT (id) DO UPDATE SET status = 'dup'",
  "INSERT INTO orders (id) SELECT id FROM staging WHERE batch = 12 RETURNING id, 'ok'",
  "UPDATE orders SET status = 'closed', total = total * 2 WHERE id = 17",
  'DELETE FROM orders WHERE id = 99 RETURNING *',
  "DELETE FROM sessions WHERE expires < now() - interval '30 days'",
  "SET work_mem = '64MB'",
  'SET statement_timeout = 5000',
  "SET search_path = 'vault'",
  "SELECT set_config('work_mem', '1MB', false)",
  "COPY t FROM '/x'",
  "COPY (SELECT a FROM t WHERE b = 1) TO '/tmp/out.csv'",
  "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
  "DO 'begin perform 1; end'",
  "DO 'begin null; end'",
  'CREATE TABLE t (id int PRIMARY KEY, name varchar(10), price numeric(10,2) DEFAULT 0)',
  'ALTER TABLE t ADD COLUMN c int DEFAULT 5',
  "CREATE INDEX ON t (a) WHERE status = 'open'",
  'CREATE SEQUENCE s START 100 INCREMENT 5',
  'PREPARE p AS SELECT a FROM t WHERE b = 1',
  'EXPLAIN SELECT * FROM t WHERE a = 1',
  'LOCK TABLE t IN ACCESS EXCLUSIVE MODE',
  "SELECT pg_sleep(1), pg_terminate_backend(1234), pg_read_file('/etc/passwd')",
  "SELECT query_to_xml('select 1', true, true, '')",
  "SELECT 'a' || 'b' || 3",
  "SELECT a FROM t WHERE b = 'x' OR c = 'y' AND d <> 4",
  "SELECT * FROM t WHERE a = 1 UNION ALL SELECT * FROM u WHERE b = 'z'",
  "VALUES (1, 'a'), (2, 'b')",
  "SELECT * FROM t WHERE (a, b) = (1, 'x')",
  "SELECT a FROM t WHERE b IS DISTINCT FROM 3 AND c IS NOT NULL AND d ~ '^x'",
  "SELECT to_char(now(), 'YYYY-MM-DD'), extract('year' FROM now()), EXTRACT(year FROM date '2020-01-01')",
  "SELECT 007, '0'",
  "SELECT 'x' COLLATE \"C\"",
  "SELECT 1 AS \"one\"",
  "SELECT E'a\\nb'",
  "SELECT 'a'\n'b'",
  'SELECT 2147483648',
  'SELECT 1.5 + 2',
];

/** The statements of the extension scripts of an installed PostgreSQL, split by the parser. */
function extensionStatements(): string[] {
  const out: string[] = [];
  if (!existsSync('/usr/share/postgresql')) return out;
  for (const version of readdirSync('/usr/share/postgresql')) {
    const dir = join('/usr/share/postgresql', version, 'extension');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
      // psql meta-commands (\echo, \quit) are not SQL; @extschema@ is substituted by CREATE EXTENSION.
      const text = readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => !l.startsWith('\\')).join('\n').replaceAll('@extschema@', 'ext');
      const bytes = Buffer.from(text);
      let stmts;
      try {
        stmts = parseSync(text).stmts ?? [];
      } catch {
        continue;
      }
      for (const s of stmts) {
        const start = s.stmt_location ?? 0;
        const stmt = bytes.subarray(start, s.stmt_len ? start + s.stmt_len : bytes.length).toString().trim();
        if (stmt) out.push(stmt);
      }
    }
  }
  return out;
}

const numbers = ['0', '7', '42', '999999999', '123456789', '00012', '5', '31'];
const strings = ["''", "' '", "'hello world'", "'12345'", "'it''s'", "'a\nb'", "'x'", "'  --  '"];

/** `sql` with its constants replaced: variant v gives span j the (v + j)-th number or string of the lists above. */
function variant(sql: string, spans: Array<[number, number, boolean]>, v: number): string {
  let out = '';
  let from = 0;
  spans.forEach(([start, end, isNumber], j) => {
    const pool = isNumber ? numbers : strings;
    out += sql.slice(from, start) + pool[(v + j) % pool.length];
    from = end;
  });
  return out + sql.slice(from);
}

/** The constant spans, recovered from the key (the key is the text with each span replaced by a 2-character marker). */
function spansOf(sql: string, key: string): Array<[number, number, boolean]> {
  const spans: Array<[number, number, boolean]> = [];
  let i = 0;
  let k = 0;
  while (k < key.length) {
    if (key[k] !== '\u0000') {
      assert.equal(sql[i], key[k]);
      i++;
      k++;
      continue;
    }
    const isNumber = key[k + 1] === 'n';
    const start = i;
    if (isNumber) while (/[0-9]/.test(sql[i] ?? '')) i++;
    else {
      i++;
      while (!(sql[i] === "'" && sql[i + 1] !== "'")) i += sql[i] === "'" ? 2 : 1;
      i++;
    }
    spans.push([start, i, isNumber]);
    k += 2;
  }
  assert.equal(i, sql.length);
  return spans;
}

test('fastShape agrees with the parser: equal keys, equal normalisations', (t) => {
  const files = extensionStatements();
  let fast = 0;
  let strict = 0;
  let verified = 0;
  let variants = 0;
  for (const sql of [...corpus, ...files]) {
    const k = fastShape(sql);
    if (k === undefined) continue;
    fast++;
    let norm: string;
    try {
      norm = normalizeSync(sql);
    } catch {
      continue;
    }
    if (k.normalized === norm) strict++;
    if (!k.matches(norm)) continue;
    verified++;
    const spans = spansOf(sql, k.key);
    for (let v = 0; v < 8; v++) {
      const other = variant(sql, spans, v);
      assert.equal(fastShape(other)?.key, k.key, `${sql}\n→ ${other}`);
      assert.equal(normalizeSync(other), norm, `${sql}\n→ ${other}`);
      variants++;
    }
  }
  t.diagnostic(`${corpus.length} written + ${files.length} extension-script statements; ${fast} took the fast path, ${verified} verified against the parser (${strict} with placeholders in text order), ${variants} variants checked`);
  assert.ok(verified >= 40, `only ${verified} statements verified`);
  // The corners the scanner must not link: the parser keeps ORDER BY/GROUP BY positions, folds a minus into `- -5`.
  for (const sql of ['SELECT a FROM t ORDER BY 1', 'SELECT - -5', 'SELECT -(5)', 'SELECT 1::float(10)', 'SELECT CURRENT_TIME(3)']) {
    assert.equal(fastShape(sql)!.matches(normalizeSync(sql)), false, sql);
  }
});
