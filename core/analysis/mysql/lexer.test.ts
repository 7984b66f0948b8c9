import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lexMysql, type LexedStatement } from './lexer.ts';

function statements(sql: string): readonly LexedStatement[] {
  const result = lexMysql(sql, 200);
  assert.ok(result.ok, `lexing failed: ${JSON.stringify(result)}`);
  return result.statements;
}

function only(sql: string): LexedStatement {
  const all = statements(sql);
  assert.equal(all.length, 1);
  return all[0] as LexedStatement;
}

describe('lexMysql: statement boundaries', () => {
  const cases: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['SELECT 1', ['SELECT 1']],
    ['SELECT 1; SELECT 2', ['SELECT 1', ' SELECT 2']],
    ["SELECT ';'; SELECT 2", ["SELECT ';'", ' SELECT 2']],
    ['SELECT "a;b"', ['SELECT "a;b"']],
    ['SELECT `a;b`', ['SELECT `a;b`']],
    ['SELECT 1 -- ;\n; SELECT 2', ['SELECT 1  \n', ' SELECT 2']],
    ['SELECT 1 # ;\n; SELECT 2', ['SELECT 1  \n', ' SELECT 2']],
    ['SELECT 1 /* ; */; SELECT 2', ['SELECT 1  ', ' SELECT 2']],
    ['SELECT 1;;  ;', ['SELECT 1']],
    ['/* c */ ; -- d\n', []],
  ];
  for (const [sql, texts] of cases) {
    it(JSON.stringify(sql), () => assert.deepEqual(statements(sql).map((s) => s.text), texts));
  }
});

describe('lexMysql: comments as MySQL reads them', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['SELECT 1 --x', 'SELECT 1 - -x'], // not a comment: the parser must not read it as one
    ['SELECT 1 ---x', 'SELECT 1 - - -x'],
    ['SELECT 1 --- x', 'SELECT 1 -  '], // "-" then the comment "-- x"
    ['SELECT 1--', 'SELECT 1 '], // -- at the end of input is a comment
    ['SELECT 1 --\tx', 'SELECT 1  '],
    ['SELECT 1 --\rx\nSELECT', 'SELECT 1  \nSELECT'], // only \n ends it
    ['SELECT 1 #x\r, 2\n, 3', 'SELECT 1  \n, 3'],
    ['SELECT 1-/**/-1', 'SELECT 1- -1'],
    ['SELECT a/**/FROM t', 'SELECT a FROM t'],
    ['SELECT 1 /* /* */ , 2', 'SELECT 1   , 2'], // not nested
    ['SELECT\f1\v', 'SELECT 1 '],
  ];
  for (const [sql, text] of cases) {
    it(JSON.stringify(sql), () => assert.equal(only(sql).text, text));
  }
});

describe('lexMysql: strings', () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    // [literal, decoded value, kept verbatim]
    ["'abc'", 'abc', true],
    ['"abc"', 'abc', true],
    ["'a -- b # c /* d ; e'", 'a -- b # c /* d ; e', true],
    ["'it''s'", "it's", false],
    ['"say ""hi"""', 'say "hi"', false],
    ["'a\\'b'", "a'b", false],
    ["'a\\\\'", 'a\\', false],
    ["'\\0\\b\\n\\r\\t\\Z\\x'", '\0\b\n\r\t\x1ax', false],
    ["'\\%\\_'", '\\%\\_', false], // LIKE escapes keep their backslash
    ['"a\'b"', "a'b", false],
    ["'a\nb'", 'a\nb', false],
    ["'中文'", '中文', true],
  ];
  for (const [literal, value, verbatim] of cases) {
    it(literal, () => {
      const st = only(`SELECT ${literal}`);
      const token = st.tokens[1];
      assert.equal(token?.kind, 'string');
      assert.equal(token.value, value);
      const emitted = st.text.slice(token.start, token.end);
      if (verbatim) {
        assert.equal(emitted, literal);
      } else {
        assert.match(emitted, /^'__portcullis_string_\d+__'$/);
        assert.equal(st.placeholders.get(emitted.slice(1, -1)), value);
      }
    });
  }
});

describe('lexMysql: tokens', () => {
  it('reads words, backquoted names, strings and punctuation with offsets into the normalised text', () => {
    const st = only("select `My T`.x, @@SESSION.a, 'v' FROM t");
    assert.deepEqual(
      st.tokens.map((t) => [t.kind, t.value, t.upper]),
      [
        ['word', 'select', 'SELECT'],
        ['ident', 'My T', 'My T'],
        ['punct', '.', '.'],
        ['word', 'x', 'X'],
        ['punct', ',', ','],
        ['punct', '@', '@'],
        ['punct', '@', '@'],
        ['word', 'SESSION', 'SESSION'],
        ['punct', '.', '.'],
        ['word', 'a', 'A'],
        ['punct', ',', ','],
        ['string', 'v', 'v'],
        ['word', 'FROM', 'FROM'],
        ['word', 't', 'T'],
      ],
    );
    for (const t of st.tokens) if (t.kind === 'word') assert.equal(st.text.slice(t.start, t.end), t.value);
  });

  it('keeps offsets right after a placeholder and a comment', () => {
    const st = only("SELECT 'a\\'b' /* c */, sleep(1)");
    const sleep = st.tokens.find((t) => t.value === 'sleep');
    assert.equal(sleep === undefined ? '' : st.text.slice(sleep.start, sleep.end), 'sleep');
  });
});

describe('lexMysql: refusals and errors', () => {
  const cases: ReadonlyArray<readonly [string, 'forbidden' | 'error', RegExp]> = [
    ['SELECT /*! 1 */', 'forbidden', /executable comment/],
    ['SELECT /*!50700 1 */', 'forbidden', /executable comment/],
    ['SELECT /*M!100100 1 */', 'forbidden', /executable comment/],
    ['SELECT /*m! 1 */', 'forbidden', /executable comment/],
    ['SELECT /*+ BKA(t) */ 1', 'forbidden', /optimizer hint/],
    ['SELECT /* 1', 'error', /unterminated \/\* comment/],
    ["SELECT 'abc", 'error', /unterminated string/],
    ["SELECT 'abc\\'", 'error', /unterminated string/],
    ['SELECT "abc', 'error', /unterminated string/],
    ['SELECT `abc', 'error', /unterminated `identifier`/],
    ['SELECT `a``b`', 'error', /backquote/],
    ['SELECT \\N', 'error', /backslash/],
    ['SELECT 1\u0000', 'error', /control character 0x00/],
    ['SELECT 1 # \u0000, sleep(1)', 'error', /NUL byte in a comment/],
    ['SELECT 1 -- \u0000\n', 'error', /NUL byte in a comment/],
    ['SELECT 1 /* \u0000 */', 'error', /NUL byte in a comment/],
    ['SELECT ((((1))))', 'error', /nesting deeper than 3/],
    ["SELECT '__portcullis_string_1__'", 'error', /reserved marker/],
  ];
  for (const [sql, outcome, reason] of cases) {
    it(JSON.stringify(sql), () => {
      const result = lexMysql(sql, 3);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.match((outcome === 'forbidden' ? result.forbidden : result.error) ?? '', reason);
    });
  }

  it('does not treat comment markers inside strings, names or line comments as comments', () => {
    assert.equal(lexMysql("SELECT '/*!', `/*!`, \"/*+\" -- /*!\n", 200).ok, true);
    assert.equal(lexMysql('SELECT 1 # /*+ x */', 200).ok, true);
  });

  it('allows a NUL byte inside a string', () => {
    const st = only("SELECT 'a\u0000b'");
    assert.equal(st.tokens[1]?.value, 'a\u0000b');
  });
});
