import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lexMysql } from './lexer.ts';
import { parserText } from './rewrites.ts';

function rewrite(sql: string, inSet = false): string {
  const lexed = lexMysql(sql, 200);
  assert.ok(lexed.ok && lexed.statements[0] !== undefined);
  return parserText(lexed.statements[0], inSet);
}

describe('parserText', () => {
  const cases: ReadonlyArray<readonly [string, string, boolean?]> = [
    ['INSERT INTO t VALUES (1, DEFAULT)', 'INSERT INTO t VALUES (1, NULL)'],
    ['INSERT INTO t VALUES (DEFAULT(a))', 'INSERT INTO t VALUES (DEFAULT(a))'], // the function stays
    ["INSERT INTO t VALUES ('DEFAULT')", "INSERT INTO t VALUES ('DEFAULT')"], // a string is data
    ['UPDATE t SET a = DEFAULT WHERE b = 1', 'UPDATE t SET a = NULL WHERE b = 1'],
    ['CREATE TABLE t (a INT DEFAULT 1)', 'CREATE TABLE t (a INT DEFAULT 1)'], // not after ( , =
    ['SET autocommit = ON', 'SET autocommit = 1', true],
    ['SET autocommit = ON', 'SET autocommit = ON'], // only in SET
    ['SET a = ON DUPLICATE', 'SET a = ON DUPLICATE', true], // only as a whole value
    ['UPDATE LOW_PRIORITY IGNORE t SET a = 1', 'UPDATE   t SET a = 1'],
    ['DELETE QUICK FROM t', 'DELETE  FROM t'],
    ['SELECT * FROM t FOR SHARE', 'SELECT * FROM t FOR UPDATE'],
    ['SELECT share FROM t', 'SELECT share FROM t'],
  ];
  for (const [sql, expected, inSet] of cases) {
    it(`${sql}${inSet ? ' (SET)' : ''}`, () => assert.equal(rewrite(sql, inSet), expected));
  }
});
