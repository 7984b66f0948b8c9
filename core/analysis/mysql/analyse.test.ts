import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SqlPart } from '../command.ts';
import { analyseMysql, type MysqlAnalysis } from './analyse.ts';

interface Case {
  readonly sql: string;
  /** The session's default database; default 'shop', null for none. */
  readonly db?: string | null;
  /** Parts as `statement:kind(relation)`, `!` appended for an unbounded write, in order. */
  readonly parts?: readonly string[];
  /** Every function called, as `name` or `schema.name`, sorted. */
  readonly functions?: readonly string[];
  readonly error?: RegExp;
  readonly forbidden?: RegExp;
  readonly databaseAfter?: string;
}

function sqlParts(result: MysqlAnalysis): SqlPart[] {
  return result.parts.map((p) => {
    assert.equal(p.protocol, 'sql');
    return p as SqlPart;
  });
}

function describePart(p: SqlPart): string {
  return `${p.statement}:${p.kind}${p.relation === undefined ? '' : `(${p.relation})`}${p.unboundedWrite ? '!' : ''}`;
}

function allFunctions(parts: readonly SqlPart[]): string[] {
  const names = new Set<string>();
  for (const p of parts) for (const f of p.functions) names.add(f.schema === undefined ? f.name : `${f.schema}.${f.name}`);
  return [...names].sort();
}

function run(c: Case): MysqlAnalysis {
  const db = c.db === undefined ? 'shop' : c.db;
  return analyseMysql(c.sql, db === null ? {} : { database: db });
}

function check(c: Case): void {
  const result = run(c);
  if (c.error !== undefined) {
    assert.equal(result.forbidden, undefined, `unexpected forbidden: ${result.forbidden}`);
    assert.match(result.error ?? '(no error)', c.error);
    assert.deepEqual(result.parts, []);
    return;
  }
  if (c.forbidden !== undefined) {
    assert.match(result.forbidden ?? `(not forbidden; error ${result.error})`, c.forbidden);
    assert.deepEqual(result.parts, []);
    return;
  }
  assert.equal(result.error, undefined, `unexpected error: ${result.error}`);
  assert.equal(result.forbidden, undefined, `unexpected forbidden: ${result.forbidden}`);
  const parts = sqlParts(result);
  if (c.parts !== undefined) assert.deepEqual(parts.map(describePart), c.parts);
  if (c.functions !== undefined) assert.deepEqual(allFunctions(parts), c.functions);
  if (c.databaseAfter !== undefined) assert.equal(result.databaseAfter, c.databaseAfter);
  // Every part of a statement carries that statement's functions; MySQL has no dynamic-SQL functions.
  for (const p of parts) {
    assert.deepEqual(p.dynamicSqlFunctions, []);
    const sibling = parts.find((q) => q.statement === p.statement);
    assert.deepEqual(p.functions, sibling?.functions);
  }
}

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    for (const c of cases) it(c.sql.length > 90 ? `${c.sql.slice(0, 90)}…` : c.sql, () => check(c));
  });
}

table('queries', [
  { sql: 'SELECT 1', parts: ['0:select'], functions: [] },
  { sql: 'select * from orders where id = 1', parts: ['0:select(shop.orders)'] },
  { sql: 'SELECT * FROM orders o JOIN billing.invoices i ON i.order_id = o.id', parts: ['0:select(shop.orders)', '0:select(billing.invoices)'] },
  { sql: 'SELECT * FROM `Shop`.`Orders`', parts: ['0:select(Shop.Orders)'] }, // names keep their case (lower_case_table_names=0)
  { sql: 'SELECT * FROM `my db`.`order items`', parts: ['0:select(my db.order items)'] },
  { sql: 'SELECT * FROM shop . orders', parts: ['0:select(shop.orders)'] },
  { sql: 'SELECT * FROM t1 JOIN (t2 JOIN t3 ON t2.a = t3.a) ON t1.a = t2.a', parts: ['0:select(shop.t1)', '0:select(shop.t2)', '0:select(shop.t3)'] },
  { sql: 'SELECT * FROM t1 LEFT JOIN t2 USING (id) CROSS JOIN t3', parts: ['0:select(shop.t1)', '0:select(shop.t2)', '0:select(shop.t3)'] },
  { sql: 'SELECT * FROM (SELECT * FROM secret) AS d', parts: ['0:select(shop.secret)'] },
  { sql: 'SELECT (SELECT max(x) FROM u) AS m FROM t WHERE id IN (SELECT id FROM w)', parts: ['0:select(shop.t)', '0:select(shop.u)', '0:select(shop.w)'] },
  { sql: 'SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)', parts: ['0:select(shop.t)', '0:select(shop.u)'], functions: [] },
  { sql: 'SELECT a FROM t UNION SELECT b FROM u UNION ALL SELECT c FROM v', parts: ['0:select(shop.t)', '0:select(shop.u)', '0:select(shop.v)'] },
  { sql: '(SELECT a FROM t) UNION (SELECT a FROM u)', parts: ['0:select(shop.t)', '0:select(shop.u)'] },
  { sql: 'WITH c AS (SELECT * FROM orders) SELECT * FROM c', parts: ['0:select(shop.orders)'] },
  { sql: 'WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT * FROM c', parts: ['0:select'] },
  { sql: 'WITH a AS (SELECT * FROM t), b AS (SELECT * FROM a JOIN u) SELECT * FROM b', parts: ['0:select(shop.t)', '0:select(shop.u)'] },
  { sql: 'SELECT * FROM t FOR UPDATE', parts: ['0:select(shop.t)'] },
  { sql: 'SELECT * FROM t LOCK IN SHARE MODE', parts: ['0:select(shop.t)'] },
  { sql: 'SELECT * FROM t WHERE id = 1 FOR SHARE SKIP LOCKED', parts: ['0:select(shop.t)'] },
  { sql: 'SELECT a, b INTO @a, @b FROM t LIMIT 1', parts: ['0:select(shop.t)'] },
  { sql: 'SELECT * FROM information_schema.tables', parts: ['0:select(information_schema.tables)'] },
  { sql: 'TABLE orders', parts: ['0:select(shop.orders)'] },
  { sql: 'SELECT 1 FROM DUAL', parts: ['0:select'] },
  { sql: 'SELECT * FROM orders WHERE id = ?', parts: ['0:select(shop.orders)'] },
]);

table('default database and USE', [
  { sql: 'SELECT * FROM orders', db: null, error: /no database selected/ },
  { sql: 'SELECT * FROM shop.orders', db: null, parts: ['0:select(shop.orders)'] },
  { sql: 'SELECT now()', db: null, parts: ['0:select'] },
  { sql: 'USE vault; SELECT * FROM secrets', parts: ['0:use', '1:select(vault.secrets)'], databaseAfter: 'vault' },
  { sql: 'USE `Vault`', parts: ['0:use'], databaseAfter: 'Vault' },
  { sql: 'USE vault', db: null, parts: ['0:use'], databaseAfter: 'vault' },
  { sql: 'SELECT * FROM secrets; USE vault; DELETE FROM secrets', parts: ['0:select(shop.secrets)', '1:use', '2:delete(vault.secrets)!'] },
]);

table('writes and unbounded writes', [
  { sql: 'INSERT INTO orders (id) VALUES (1)', parts: ['0:insert(shop.orders)'] },
  { sql: 'INSERT orders VALUES (1), (2)', parts: ['0:insert(shop.orders)'] },
  { sql: 'INSERT INTO orders (id, note) VALUES (1, DEFAULT)', parts: ['0:insert(shop.orders)'] },
  { sql: 'INSERT IGNORE INTO orders SET id = 1', parts: ['0:insert(shop.orders)'] },
  { sql: 'INSERT INTO archive SELECT * FROM orders', parts: ['0:insert(shop.archive)', '0:select(shop.orders)'] },
  { sql: 'INSERT INTO t WITH c AS (SELECT * FROM u) SELECT * FROM c', parts: ['0:insert(shop.t)', '0:select(shop.u)'] },
  { sql: 'INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1', parts: ['0:insert(shop.t)', '0:update(shop.t)'] },
  { sql: 'INSERT INTO t VALUES ((SELECT max(id) FROM u))', parts: ['0:insert(shop.t)', '0:select(shop.u)'], functions: ['max'] },
  { sql: 'REPLACE INTO t (a) VALUES (1)', parts: ['0:insert(shop.t)', '0:delete(shop.t)'] },
  { sql: 'REPLACE t SELECT * FROM u', parts: ['0:insert(shop.t)', '0:delete(shop.t)', '0:select(shop.u)'] },
  { sql: 'UPDATE orders SET status = 1 WHERE id = 5', parts: ['0:update(shop.orders)'] },
  { sql: 'UPDATE orders SET status = 1', parts: ['0:update(shop.orders)!'] },
  { sql: 'UPDATE orders SET status = 1 WHERE 1 = 1', parts: ['0:update(shop.orders)!'] },
  { sql: 'UPDATE orders SET status = 1 WHERE true', parts: ['0:update(shop.orders)!'] },
  { sql: 'UPDATE orders SET status = DEFAULT WHERE @x = 1', parts: ['0:update(shop.orders)!'] },
  { sql: 'UPDATE orders SET status = 1 ORDER BY id LIMIT 1', parts: ['0:update(shop.orders)!'] },
  { sql: 'UPDATE orders AS o SET o.status = 1 WHERE o.id = 5', parts: ['0:update(shop.orders)'] },
  { sql: 'UPDATE orders SET status = 1 WHERE shop.orders.id = 5', parts: ['0:update(shop.orders)'] },
  { sql: 'UPDATE a JOIN b ON a.id = b.id SET a.x = b.y WHERE b.z = 1', parts: ['0:update(shop.a)!', '0:select(shop.b)'] },
  { sql: 'UPDATE a JOIN b ON a.id = b.id SET a.x = b.y WHERE a.z = 1', parts: ['0:update(shop.a)', '0:select(shop.b)'] },
  { sql: 'UPDATE t1, t2 SET t1.a = t2.a WHERE t1.id = t2.id', parts: ['0:update(shop.t1)', '0:select(shop.t2)'] },
  { sql: 'UPDATE t1, t2 SET a = 1 WHERE t1.id = t2.id', parts: ['0:update(shop.t1)', '0:update(shop.t2)'] }, // unqualified: either
  { sql: 'UPDATE t JOIN (SELECT id FROM u) AS d ON d.id = t.id SET t.a = 1 WHERE t.b = 2', parts: ['0:select(shop.u)', '0:update(shop.t)'] },
  { sql: 'UPDATE t SET a = (SELECT max(b) FROM u) WHERE id = 3', parts: ['0:select(shop.u)', '0:update(shop.t)'] },
  { sql: 'DELETE FROM orders WHERE id = 1', parts: ['0:delete(shop.orders)'] },
  { sql: 'DELETE LOW_PRIORITY QUICK IGNORE FROM orders WHERE id = 1', parts: ['0:delete(shop.orders)'] },
  { sql: 'UPDATE LOW_PRIORITY IGNORE orders SET a = sleep(1)', parts: ['0:update(shop.orders)!'], functions: ['sleep'] },
  { sql: 'DELETE FROM orders', parts: ['0:delete(shop.orders)!'] },
  { sql: 'DELETE FROM orders WHERE 1', parts: ['0:delete(shop.orders)!'] },
  { sql: 'DELETE FROM orders LIMIT 10', parts: ['0:delete(shop.orders)!'] },
  { sql: 'DELETE FROM orders WHERE (SELECT count(*) FROM u) > 0', parts: ['0:delete(shop.orders)!', '0:select(shop.u)'] },
  { sql: 'DELETE FROM t WHERE a IN (SELECT a FROM u)', parts: ['0:delete(shop.t)', '0:select(shop.u)'] },
  { sql: 'DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)', parts: ['0:delete(shop.t)', '0:select(shop.u)'] },
  { sql: 'DELETE FROM t WHERE EXISTS (SELECT 1 FROM u AS t WHERE t.x = 1)', parts: ['0:delete(shop.t)!', '0:select(shop.u)'] },
  { sql: 'DELETE t1 FROM orders AS t1 JOIN customers c ON c.id = t1.cid WHERE c.region = 1', parts: ['0:delete(shop.orders)!', '0:select(shop.customers)'] },
  { sql: 'DELETE t1, t2 FROM t1 INNER JOIN t2 WHERE t1.id = t2.id', parts: ['0:delete(shop.t1)', '0:delete(shop.t2)'] },
  { sql: 'DELETE FROM orders AS o WHERE o.id = 1', parts: ['0:delete(shop.orders)'] },
  { sql: 'DELETE FROM orders AS o WHERE orders.id = 1', parts: ['0:delete(shop.orders)!'] }, // the alias hides the name
  { sql: 'UPDATE a AS b JOIN b AS a ON a.id = b.id SET a.x = 1 WHERE b.y = 2', parts: ['0:update(shop.b)!', '0:select(shop.a)'] },
  { sql: 'WITH d AS (SELECT id FROM u) DELETE FROM t WHERE id IN (SELECT id FROM d)', parts: ['0:select(shop.u)', '0:delete(shop.t)'] },
  { sql: 'WITH t AS (SELECT 1) DELETE FROM t', error: /CTE/ },
]);

table('functions', [
  { sql: 'SELECT sleep(5)', parts: ['0:select'], functions: ['sleep'] },
  { sql: 'SELECT SLEEP(5), `Benchmark`(1000, md5(1))', functions: ['benchmark', 'md5', 'sleep'] },
  { sql: "SELECT load_file('/etc/passwd')", functions: ['load_file'] },
  { sql: "SELECT sys_exec('id')", functions: ['sys_exec'] },
  { sql: 'SELECT mydb.MyFunc(1), `Other`.f(2)', functions: ['Other.f', 'mydb.myfunc'] },
  { sql: 'SELECT count(*), sum(a) OVER (PARTITION BY b) FROM t', functions: ['count', 'sum'] },
  { sql: 'SELECT * FROM t WHERE a = 1 OR b = sleep(1)', functions: ['sleep'] },
  { sql: 'SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = benchmark(1, 1))', parts: ['0:select(shop.t)', '0:select(shop.u)'], functions: ['benchmark'] },
  { sql: 'SELECT * FROM t ORDER BY rand() LIMIT 1', functions: ['rand'] },
  { sql: 'SELECT CURRENT_TIMESTAMP, now()', functions: ['current_timestamp', 'now'] },
  { sql: 'SELECT IF(a, sleep(1), 0) FROM t', functions: ['if', 'sleep'] },
  { sql: 'INSERT INTO t VALUES (1), (sleep(2))', functions: ['sleep'] },
  { sql: 'UPDATE t SET a = sleep(1) WHERE id = 1', functions: ['sleep'] },
  { sql: 'DO sleep(1)', parts: ['0:select'], functions: ['sleep'] },
  { sql: 'CALL proc(1)', parts: ['0:call'], functions: ['proc'] },
  { sql: 'CALL db.proc()', parts: ['0:call'], functions: ['db.proc'] },
  { sql: 'SELECT 1; SELECT sleep(1)', parts: ['0:select', '1:select'] },
  { sql: 'SELECT a FROM t WHERE a = 1 ' + 'OR a = 1 '.repeat(3000) + 'OR sleep(1)', functions: ['sleep'] },
]);

table('copy_file: LOAD DATA and SELECT … INTO OUTFILE', [
  { sql: "LOAD DATA INFILE '/tmp/x' INTO TABLE orders", parts: ['0:copy_file(shop.orders)'] },
  { sql: "LOAD DATA LOCAL INFILE '/tmp/x' INTO TABLE billing.t FIELDS TERMINATED BY ','", parts: ['0:copy_file(billing.t)'] },
  { sql: "LOAD DATA INFILE '/f' INTO TABLE t (a, @b) SET c = sleep(1)", parts: ['0:copy_file(shop.t)'], functions: ['sleep'] },
  { sql: "SELECT * FROM orders INTO OUTFILE '/tmp/x'", parts: ['0:select(shop.orders)', '0:copy_file'] },
  { sql: "SELECT * INTO OUTFILE '/tmp/x' FROM orders", parts: ['0:select(shop.orders)', '0:copy_file'] },
  { sql: "SELECT secret FROM secrets INTO DUMPFILE '/var/lib/mysql-files/x'", parts: ['0:select(shop.secrets)', '0:copy_file'] },
  { sql: "LOAD XML INFILE '/f' INTO TABLE t", error: /unsupported LOAD/ },
]);

table('DDL', [
  { sql: 'CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10) DEFAULT (uuid()))', parts: ['0:create_table(shop.t)'], functions: ['uuid'] },
  { sql: 'CREATE TEMPORARY TABLE IF NOT EXISTS tmp (a INT)', parts: ['0:create_table(shop.tmp)'] },
  { sql: 'CREATE TABLE copy AS SELECT * FROM secret', parts: ['0:create_table(shop.copy)', '0:select(shop.secret)'] },
  { sql: 'CREATE TABLE copy LIKE secret', parts: ['0:create_table(shop.copy)', '0:select(shop.secret)'] },
  { sql: 'CREATE VIEW v AS SELECT * FROM secret', parts: ['0:create_view(shop.v)', '0:select(shop.secret)'] },
  { sql: 'CREATE OR REPLACE ALGORITHM=MERGE VIEW db.v AS SELECT a FROM t', parts: ['0:create_view(db.v)', '0:select(shop.t)'] },
  { sql: 'ALTER VIEW v AS SELECT * FROM secret', parts: ['0:alter_view(shop.v)', '0:select(shop.secret)'] },
  { sql: 'CREATE INDEX i ON t (a(10), b)', parts: ['0:create_index(shop.t)'], functions: [] },
  { sql: 'CREATE UNIQUE INDEX i ON db.t ((abs(a)))', parts: ['0:create_index(db.t)'], functions: ['abs'] },
  { sql: 'ALTER TABLE t ADD COLUMN b INT, DROP COLUMN c', parts: ['0:alter_table(shop.t)'] },
  { sql: 'ALTER TABLE t RENAME TO u', parts: ['0:alter_table(shop.t)', '0:alter_table(shop.u)'] },
  { sql: 'ALTER TABLE t ADD CONSTRAINT c CHECK (sleep(1))', functions: ['sleep'] },
  { sql: 'RENAME TABLE a TO b, db.c TO db.d', parts: ['0:alter_table(shop.a)', '0:alter_table(shop.b)', '0:alter_table(db.c)', '0:alter_table(db.d)'] },
  { sql: 'DROP TABLE orders', parts: ['0:drop_table(shop.orders)'] },
  { sql: 'DROP TEMPORARY TABLE IF EXISTS t, db.u', parts: ['0:drop_table(shop.t)', '0:drop_table(db.u)'] },
  { sql: 'DROP VIEW IF EXISTS v CASCADE', parts: ['0:drop_view(shop.v)'] },
  { sql: 'DROP INDEX i ON orders', parts: ['0:drop_index(shop.orders)'] },
  { sql: 'DROP DATABASE shop', parts: ['0:drop_database'] },
  { sql: 'DROP SCHEMA IF EXISTS shop', parts: ['0:drop_database'] },
  { sql: 'CREATE DATABASE d', parts: ['0:create_database'] },
  { sql: 'ALTER DATABASE d CHARACTER SET utf8mb4', parts: ['0:alter_database'] },
  { sql: 'TRUNCATE TABLE orders', parts: ['0:truncate(shop.orders)'] },
  { sql: 'TRUNCATE billing.t', parts: ['0:truncate(billing.t)'] },
  { sql: "CREATE USER 'u'@'%' IDENTIFIED BY 'p\\'w'", parts: ['0:create_role'] },
  { sql: "ALTER USER 'u'@'%' IDENTIFIED BY 'x'", parts: ['0:alter_role'] },
  { sql: "DROP USER 'u'@'%'", parts: ['0:drop_role'] },
  { sql: 'CREATE ROLE r', parts: ['0:create_role'] },
  { sql: 'RENAME USER a TO b', parts: ['0:alter_role'] },
  { sql: 'CREATE TRIGGER tr BEFORE INSERT ON orders FOR EACH ROW SET NEW.a = 1', parts: ['0:create_trigger(shop.orders)'] },
  { sql: 'DROP TRIGGER tr', parts: ['0:drop_trigger'] },
  { sql: "CREATE DEFINER = 'root'@'%' PROCEDURE p() SELECT 1", parts: ['0:create_procedure'] },
  { sql: 'CREATE FUNCTION f() RETURNS INT RETURN 1', parts: ['0:create_function'] },
  { sql: 'DROP PROCEDURE IF EXISTS p', parts: ['0:drop_procedure'] },
  { sql: 'CREATE PROCEDURE p() BEGIN DELETE FROM t; END', error: /BEGIN … END/ },
  { sql: 'CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 HOUR DO DELETE FROM t', parts: ['0:create_event'] },
  { sql: 'CREATE EVENT e ON SCHEDULE AT sleep(1) DO DELETE FROM t', error: /schedule/ },
  { sql: 'CREATE SEQUENCE s', error: /unsupported CREATE/ },
]);

table('grants, roles, sessions, transactions', [
  { sql: "GRANT ALL PRIVILEGES ON *.* TO 'u'@'%' WITH GRANT OPTION", parts: ['0:grant'] },
  { sql: 'GRANT SELECT ON shop.orders TO u', parts: ['0:grant'] },
  { sql: "REVOKE SELECT ON shop.* FROM 'u'@'%'", parts: ['0:revoke'] },
  { sql: 'SET ROLE admin', parts: ['0:set_role'] },
  { sql: "SET DEFAULT ROLE admin TO 'u'@'%'", parts: ['0:set_role'] },
  { sql: "SET PASSWORD = 'x'", parts: ['0:alter_role'] },
  { sql: 'SET autocommit = 0', parts: ['0:set'] },
  { sql: 'SET autocommit = ON, @@session.sql_select_limit = DEFAULT', parts: ['0:set'] },
  { sql: 'SET @a = sleep(1)', parts: ['0:set'], functions: ['sleep'] },
  { sql: 'SET @a = 1, @@session.wait_timeout = 10', parts: ['0:set'] },
  { sql: 'SET GLOBAL max_connections = 1000', parts: ['0:set'] },
  { sql: 'SET @a := (SELECT count(*) FROM secret)', parts: ['0:set', '0:select(shop.secret)'], functions: ['count'] },
  { sql: 'SET @m = @@sql_mode', parts: ['0:set'] }, // reading sql_mode is fine
  { sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', parts: ['0:set'] },
  { sql: 'SET SESSION TRANSACTION READ ONLY', parts: ['0:set'] },
  { sql: 'START TRANSACTION', parts: ['0:transaction'] },
  { sql: 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY', parts: ['0:transaction'] },
  { sql: 'BEGIN', parts: ['0:transaction'] },
  { sql: 'BEGIN WORK', parts: ['0:transaction'] },
  { sql: 'COMMIT', parts: ['0:transaction'] },
  { sql: 'COMMIT AND NO CHAIN', parts: ['0:transaction'] },
  { sql: 'ROLLBACK', parts: ['0:transaction'] },
  { sql: 'SAVEPOINT sp1', parts: ['0:transaction'] },
  { sql: 'ROLLBACK TO SAVEPOINT sp1', parts: ['0:transaction'] },
  { sql: 'RELEASE SAVEPOINT sp1', parts: ['0:transaction'] },
  { sql: "XA START 'x'", parts: ['0:transaction'] },
  { sql: 'BEGIN NOT ATOMIC SELECT 1; END', error: /BEGIN/ }, // MariaDB's anonymous block
  { sql: 'LOCK TABLES orders READ, billing.t AS b WRITE', parts: ['0:lock(shop.orders)', '0:lock(billing.t)'] },
  { sql: 'UNLOCK TABLES', parts: ['0:lock'] },
  { sql: 'KILL 42', parts: ['0:kill'] },
  { sql: 'KILL QUERY 42', parts: ['0:kill'] },
  { sql: 'KILL (SELECT 1)', error: /KILL/ },
  { sql: 'HANDLER orders OPEN', parts: ['0:handler(shop.orders)'] },
  { sql: 'HANDLER orders READ FIRST', parts: ['0:handler(shop.orders)'] },
  { sql: 'HANDLER orders READ idx = (sleep(1))', error: /HANDLER/ },
  { sql: 'HANDLER orders CLOSE', parts: ['0:handler(shop.orders)'] },
]);

table('show, explain, describe, administration', [
  { sql: 'SHOW TABLES', parts: ['0:show'] },
  { sql: "SHOW VARIABLES LIKE 'sql_mode'", parts: ['0:show'] },
  { sql: 'SHOW FULL COLUMNS FROM orders FROM billing', parts: ['0:show(billing.orders)'] },
  { sql: 'SHOW INDEX FROM db.t', parts: ['0:show(db.t)'] },
  { sql: 'SHOW CREATE TABLE orders', parts: ['0:show(shop.orders)'] },
  { sql: 'SHOW GRANTS FOR CURRENT_USER()', parts: ['0:show'] },
  { sql: 'SHOW STATUS WHERE sleep(1)', error: /SHOW/ },
  { sql: 'SHOW DATABASES WHERE 1 IN (SELECT 1 FROM secret)', error: /SHOW/ },
  { sql: 'EXPLAIN SELECT * FROM orders JOIN customers', parts: ['0:explain(shop.orders)', '0:explain(shop.customers)'] },
  { sql: 'EXPLAIN DELETE FROM orders', parts: ['0:explain(shop.orders)'] },
  { sql: 'EXPLAIN SELECT 1', parts: ['0:explain'] },
  { sql: 'EXPLAIN FORMAT=JSON SELECT * FROM t', parts: ['0:explain(shop.t)'] },
  { sql: 'EXPLAIN ANALYZE SELECT * FROM t', parts: ['0:explain(shop.t)', '0:select(shop.t)'] },
  { sql: 'ANALYZE SELECT * FROM t', parts: ['0:explain(shop.t)', '0:select(shop.t)'] }, // MariaDB: runs it
  { sql: 'EXPLAIN SELECT sleep(1) FROM t', parts: ['0:explain(shop.t)'], functions: ['sleep'] },
  { sql: 'DESCRIBE orders', parts: ['0:explain(shop.orders)'] },
  { sql: 'DESC billing.t col', parts: ['0:explain(billing.t)'] },
  { sql: 'EXPLAIN FOR CONNECTION 5', parts: ['0:explain'] },
  { sql: 'ANALYZE TABLE orders, billing.t', parts: ['0:analyze(shop.orders)', '0:analyze(billing.t)'] },
  { sql: 'OPTIMIZE TABLE orders', parts: ['0:other(shop.orders)'] },
  { sql: 'FLUSH PRIVILEGES', parts: ['0:other'] },
  { sql: 'SHUTDOWN', parts: ['0:other'] },
  { sql: "BINLOG 'base64'", parts: ['0:other'] },
]);

table('prepared statements (SQL level)', [
  { sql: "PREPARE s FROM 'SELECT * FROM orders WHERE id = ?'", parts: ['0:prepare', '0:select(shop.orders)'] },
  { sql: "PREPARE s FROM 'DELETE FROM orders'; EXECUTE s", parts: ['0:prepare', '0:delete(shop.orders)!', '1:execute', '1:delete(shop.orders)!'] },
  { sql: "PREPARE S FROM 'SELECT sleep(1)'; EXECUTE s USING @a, @b", parts: ['0:prepare', '0:select', '1:execute', '1:select'], functions: ['sleep'] },
  { sql: "PREPARE s FROM 'SELECT * FROM t'; USE other; EXECUTE s", parts: ['0:prepare', '0:select(shop.t)', '1:use', '2:execute', '2:select(shop.t)'] },
  { sql: "PREPARE s FROM 'SELECT 1'; DEALLOCATE PREPARE s; EXECUTE s", error: /unknown prepared statement/ },
  { sql: "PREPARE s FROM 'SELECT 1'; DROP PREPARE s", parts: ['0:prepare', '0:select', '1:deallocate'] },
  { sql: 'PREPARE s FROM @q', error: /variable cannot be analysed/ },
  { sql: 'EXECUTE s', error: /unknown prepared statement s/ },
  { sql: "PREPARE s FROM 'SELECT 1; DROP TABLE t'", error: /exactly one statement/ },
  { sql: "PREPARE s FROM 'DROP TABLE t /*! , secret */'", forbidden: /executable comment/ },
  { sql: "PREPARE s FROM 'SET NAMES latin1'", forbidden: /SET NAMES/ },
  { sql: "PREPARE s FROM 'PREPARE t FROM ''SELECT 1'''", error: /cannot be prepared/ },
  // The text is read twice, as MySQL does: once as the PREPARE literal, then as a statement.
  { sql: "PREPARE s FROM 'SELECT * FROM t WHERE a = ''x\\\\\\\\'' OR sleep(1)'", functions: ['sleep'] },
  { sql: "PREPARE s FROM 'SELECT * FROM t WHERE a = ''x\\\\'' OR sleep(1)'''", functions: [] },
]);

table('comment and quoting tricks', [
  { sql: '/*!50000 DROP TABLE x*/', forbidden: /executable comment/ },
  { sql: 'SELECT 1 /*! ; DROP TABLE x */', forbidden: /executable comment/ },
  { sql: 'SELECT 1 /*!DROP TABLE x*/', forbidden: /executable comment/ },
  { sql: 'SELECT 1 /*M!100000 , sleep(10) */', forbidden: /executable comment/ },
  { sql: 'SELECT /*+ MAX_EXECUTION_TIME(1) */ 1', forbidden: /optimizer hint/ },
  { sql: "SELECT '/*!' , 1", parts: ['0:select'] }, // inside a string it is data
  { sql: 'SELECT 1 -- /*! DROP TABLE x */', parts: ['0:select'] },
  { sql: 'SELECT 1 # ; DROP TABLE x', parts: ['0:select'] },
  { sql: 'SELECT 1 -- ; DROP TABLE x', parts: ['0:select'] },
  { sql: 'SELECT 1 #\n; DROP TABLE x', parts: ['0:select', '1:drop_table(shop.x)'] },
  { sql: 'SELECT 1 -- \n; DROP TABLE x', parts: ['0:select', '1:drop_table(shop.x)'] },
  { sql: 'SELECT 1 --\t; DROP TABLE x', parts: ['0:select'] }, // a tab after -- makes a comment
  { sql: 'SELECT 1 --x', parts: ['0:select'] }, // 1 - (-x): not a comment in MySQL
  { sql: 'SELECT a FROM t WHERE a = 1 --a OR sleep(5)', functions: ['sleep'] },
  { sql: 'SELECT 1 --; DROP TABLE x', error: /^statement 1: cannot parse/ }, // SELECT 1 - - fails on the server too
  { sql: 'SELECT 1 ---x', parts: ['0:select'] },
  { sql: 'SELECT 1 /* ; DROP TABLE x */', parts: ['0:select'] },
  { sql: 'SELECT 1 /* /* nested? */ , sleep(1) */', error: /cannot parse/ }, // comments do not nest
  { sql: 'SELECT 1 /* unterminated', error: /unterminated/ },
  { sql: "SELECT 'a\\', sleep(5) -- '", parts: ['0:select'], functions: [] }, // \' does not end the string
  { sql: "SELECT 'a\\\\', sleep(5) -- '", functions: ['sleep'] }, // \\ does
  { sql: "SELECT 'it''s', sleep(1) -- '", functions: ['sleep'] },
  { sql: "SELECT 'it''s -- ', sleep(1)", functions: ['sleep'] },
  { sql: 'SELECT "a\' , sleep(5) -- "', functions: [] },
  { sql: 'SELECT "a"" , sleep(5) -- "', functions: [] },
  { sql: "SELECT * FROM t WHERE a = 'x' #' OR sleep(1)", functions: [] },
  { sql: "SELECT 'a;b'; SELECT 2", parts: ['0:select', '1:select'] },
  { sql: 'SELECT `a;b`, `c -- d`, `#e` FROM t', parts: ['0:select(shop.t)'] },
  { sql: 'SELECT * FROM `t;DROP TABLE x`', parts: ['0:select(shop.t;DROP TABLE x)'] },
  { sql: 'SELECT `a``b`', error: /backquote/ },
  { sql: "SELECT 'abc", error: /unterminated string/ },
  { sql: 'SELECT 1 \\N', error: /backslash/ },
  { sql: 'SELECT 1\u0001', error: /control character/ },
  { sql: 'SELECT\f1\v', parts: ['0:select'] },
  { sql: "SELECT '__portcullis_string_0__'", error: /reserved marker/ },
  { sql: 'SeLeCt * FrOm orders', parts: ['0:select(shop.orders)'] },
]);

table('multi-statement', [
  { sql: 'SELECT 1; DROP TABLE x', parts: ['0:select', '1:drop_table(shop.x)'] },
  { sql: 'SELECT 1;;; SELECT 2;', parts: ['0:select', '1:select'] },
  { sql: 'SELECT * FROM a; UPDATE b SET c = 1; DELETE FROM d WHERE e = 1', parts: ['0:select(shop.a)', '1:update(shop.b)!', '2:delete(shop.d)'] },
  { sql: 'SELECT 1; SELECT * FROM', error: /^statement 2: cannot parse/ },
  { sql: 'SELECT 1; SET NAMES latin1', forbidden: /^statement 2: SET NAMES/ },
  { sql: ';', error: /empty query/ },
  { sql: '   /* only a comment */  ', error: /empty query/ },
]);

table('refused: connection settings that change how bytes are read', [
  { sql: 'SET NAMES utf8mb4', forbidden: /SET NAMES/ },
  { sql: "SET NAMES 'gbk'", forbidden: /SET NAMES/ },
  { sql: 'SET CHARACTER SET latin1', forbidden: /CHARACTER SET/ },
  { sql: 'SET CHARSET latin1', forbidden: /CHARACTER SET/ },
  { sql: 'SET CHAR SET latin1', forbidden: /CHARACTER SET/ },
  { sql: 'SET @@session.`character_set_client` = gbk', forbidden: /character_set_client/ },
  { sql: "SET sql_mode = 'NO_BACKSLASH_ESCAPES'", forbidden: /sql_mode/ },
  { sql: "SET SESSION sql_mode = 'ANSI_QUOTES'", forbidden: /sql_mode/ },
  { sql: "SET @@session.SQL_MODE := ''", forbidden: /sql_mode/ },
  { sql: "SET GLOBAL sql_mode = ''", forbidden: /sql_mode/ },
  { sql: "SET @@sql_mode = 'TRADITIONAL'", forbidden: /sql_mode/ },
  { sql: 'SET @a = 1, character_set_client = latin1', forbidden: /character_set_client/ },
  { sql: 'SET character_set_connection = gbk', forbidden: /character_set_connection/ },
  { sql: "SET collation_connection = 'gbk_chinese_ci'", forbidden: /collation_connection/ },
  { sql: "SET STATEMENT sql_mode = '' FOR SELECT 1", error: /SET STATEMENT/ },
]);

table('unsupported constructs are denied', [
  { sql: 'VALUES ROW(1, 2)', error: /cannot parse|unsupported/ },
  { sql: "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) jt", error: /cannot parse/ },
  { sql: 'SELECT * FROM t USE INDEX (i)', error: /cannot parse/ },
  { sql: 'DELETE FROM a USING a JOIN b ON a.id = b.id', error: /cannot parse/ },
  { sql: 'CALL p((SELECT 1 FROM secret))', error: /cannot parse/ },
  { sql: 'END', error: /unsupported statement END/ },
  { sql: 'DECLARE x INT', error: /unsupported statement/ },
  { sql: 'DELIMITER //', error: /unsupported statement/ },
  { sql: 'SELECT 1 GO SELECT 2', error: /unsupported statement type/ },
  { sql: "{CALL p('x')}", error: /keyword/ },
]);

describe('limits', () => {
  it('denies a command over maxBytes without parsing, counting UTF-8 bytes', () => {
    const sql = `SELECT '${'é'.repeat(60)}'`; // 129 bytes, 69 characters
    assert.match(analyseMysql(sql, {}, { maxBytes: 100, maxDepth: 200 }).error ?? '', /larger than 100 bytes/);
    assert.equal(analyseMysql(sql, {}, { maxBytes: 200, maxDepth: 200 }).error, undefined);
  });

  it('denies the default 1 MiB limit quickly', () => {
    const sql = `SELECT '${'x'.repeat((1 << 20) + 1)}'`;
    const started = process.hrtime.bigint();
    assert.match(analyseMysql(sql).error ?? '', /larger than 1048576 bytes/);
    assert.ok(process.hrtime.bigint() - started < 50_000_000n, 'took over 50 ms');
  });

  const nested = (depth: number): string => `SELECT ${'('.repeat(depth)}1${')'.repeat(depth)}`;
  const subqueries = (depth: number): string => `SELECT * FROM t WHERE a IN ${'(SELECT a FROM t WHERE a IN '.repeat(depth)}(1)${')'.repeat(depth)}`;
  for (const [name, build] of [['parentheses', nested], ['sub-queries', subqueries]] as const) {
    it(`denies ${name} nested beyond maxDepth before parsing`, () => {
      assert.match(analyseMysql(build(11), { database: 'shop' }, { maxBytes: 1 << 20, maxDepth: 10 }).error ?? '', /nest/);
      assert.equal(analyseMysql(build(9), { database: 'shop' }, { maxBytes: 1 << 20, maxDepth: 10 }).error, undefined);
    });
  }

  it('denies 100 000 nested parentheses quickly with the defaults', () => {
    const started = process.hrtime.bigint();
    assert.match(analyseMysql(nested(100_000)).error ?? '', /nesting deeper than 200/);
    assert.ok(process.hrtime.bigint() - started < 100_000_000n, 'took over 100 ms');
  });

  it('survives deep unary nesting that overflows the parser', () => {
    const result = analyseMysql(`SELECT ${'NOT '.repeat(20_000)}1`);
    assert.notEqual(result.error, undefined);
  });
});

describe('session state', () => {
  it('carries prepared statements across commands and forgets them on DEALLOCATE', () => {
    const first = analyseMysql("PREPARE wipe FROM 'DELETE FROM orders'", { database: 'shop' });
    assert.equal(first.error, undefined);
    assert.deepEqual([...first.preparedAfter.keys()], ['wipe']);
    const second = analyseMysql('EXECUTE WIPE', { database: 'other', prepared: first.preparedAfter });
    assert.deepEqual(sqlParts(second).map(describePart), ['0:execute', '0:delete(shop.orders)!']);
    const third = analyseMysql('DEALLOCATE PREPARE wipe', { prepared: second.preparedAfter });
    assert.equal(third.preparedAfter.size, 0);
    assert.equal(first.preparedAfter.size, 1, 'the input map is not changed');
  });

  it('returns the input prepared map itself when nothing changed', () => {
    const prepared = new Map<string, readonly SqlPart[]>();
    assert.equal(analyseMysql('SELECT 1', { prepared }).preparedAfter, prepared);
  });

  it('keeps the state unchanged when the command is denied', () => {
    const result = analyseMysql('USE vault; SELECT * FROM', { database: 'shop' });
    assert.notEqual(result.error, undefined);
    assert.equal(result.databaseAfter, 'shop');
    assert.equal(result.statementCount, 2);
  });

  it('counts statements', () => {
    assert.equal(analyseMysql('SELECT 1; SELECT 2;; SELECT 3').statementCount, 3);
  });
});
