import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initPostgresParser } from './parser.ts';
import { redactSecrets } from './redact.ts';

before(async () => {
  await initPostgresParser();
});

const cases: Record<string, { sql: string; want: string }> = {
  'ALTER ROLE PASSWORD': {
    sql: "ALTER ROLE app WITH PASSWORD 's3cr3t'",
    want: "ALTER ROLE app WITH PASSWORD '***'",
  },
  'CREATE USER with doubled quote and VALID UNTIL': {
    sql: "create user u password 'it''s' valid until '2030-01-01'",
    want: "create user u password '***' valid until '***'",
  },
  'CREATE ROLE with E string': {
    sql: "create role r login password E'a\\'b'",
    want: "create role r login password '***'",
  },
  'ALTER USER with dollar-quoted password': {
    sql: 'alter user u password $pw$hunter2$pw$',
    want: "alter user u password '***'",
  },
  'only the secret statement of several': {
    sql: "select 'keep'; alter role x password 'gone'; select 'keep too'",
    want: "select 'keep'; alter role x password '***'; select 'keep too'",
  },
  'multi-byte characters before and inside the secret': {
    sql: "select 'é'; alter role x password 'pässwörd'",
    want: "select 'é'; alter role x password '***'",
  },
  'CREATE USER MAPPING OPTIONS': {
    sql: "create user mapping for app server s options (user 'remote', password 'pw')",
    want: "create user mapping for app server s options (user '***', password '***')",
  },
  'ALTER USER MAPPING': {
    sql: "alter user mapping for app server s options (set password 'pw2')",
    want: "alter user mapping for app server s options (set password '***')",
  },
  'CREATE SERVER OPTIONS': {
    sql: "create server s foreign data wrapper postgres_fdw options (host 'h', password 'p')",
    want: "create server s foreign data wrapper postgres_fdw options (host '***', password '***')",
  },
  'CREATE SUBSCRIPTION connection string': {
    sql: "create subscription sub connection 'host=h password=p' publication pub",
    want: "create subscription sub connection '***' publication pub",
  },
  'ALTER SYSTEM value': {
    sql: "alter system set primary_conninfo = 'host=h password=p'",
    want: "alter system set primary_conninfo = '***'",
  },
  'ALTER ROLE SET': {
    sql: "alter role app set app.api_key = 'k'",
    want: "alter role app set app.api_key = '***'",
  },
  'dblink connection string': {
    sql: "select dblink_connect('c', 'host=h password=p')",
    want: "select dblink_connect('***', '***')",
  },
  'pgcrypto key': {
    sql: "select pgp_sym_decrypt(data, 'the key') from t",
    want: "select pgp_sym_decrypt(data, '***') from t",
  },
  'secret function nested in a sub-query': {
    sql: "select * from t where x = (select crypt('pw', gen_salt('bf')))",
    want: "select * from t where x = (select crypt('***', gen_salt('***')))",
  },
  'DO block setting a password is redacted whole': {
    sql: "do $$ begin execute 'alter role x password ' || quote_literal('y'); end $$",
    want: "do '***'",
  },
  'CREATE FUNCTION mentioning dblink': {
    sql: "create function f() returns void language sql as $$ select dblink_exec('host=h password=p', 'x') $$",
    want: "create function f() returns void language sql as '***'",
  },
  'unparseable text: every literal goes': {
    sql: "alter role x passwrd 'p'; selec 'q'",
    want: "alter role x passwrd '***'; selec '***'",
  },
  'bit and hex strings in a secret statement': {
    sql: "alter role x password 'p' valid until 'infinity'",
    want: "alter role x password '***' valid until '***'",
  },
};

const unchanged: Record<string, string> = {
  'plain select': "select 'visible' from t where name = 'x'",
  'SET of an ordinary setting': "set statement_timeout = '5s'",
  'DO block without secrets': "do $$ begin raise notice 'hello'; end $$",
  'CREATE ROLE without literal': 'create role r login',
  'comments mentioning password': "-- password 'x' is not a statement\nselect 1",
  'empty text': '',
};

describe('redactSecrets', () => {
  for (const [name, c] of Object.entries(cases)) {
    test(name, () => {
      assert.equal(redactSecrets(c.sql), c.want);
    });
  }
  for (const [name, sql] of Object.entries(unchanged)) {
    test(`unchanged: ${name}`, () => {
      assert.equal(redactSecrets(sql), sql);
    });
  }
  test('text the scanner rejects is replaced whole', () => {
    const out = redactSecrets("alter role x password 'never closed");
    assert.ok(!out.includes('never closed'));
    assert.match(out, /redacted/);
  });
  test('the secret never survives anywhere in the output', () => {
    const secret = 'Zq9-unique-secret';
    for (const sql of [
      `alter role a password '${secret}'`,
      `create user mapping for a server s options (password '${secret}')`,
      `select dblink('password=${secret}', 'select 1')`,
      `alter role a password '${secret}`,
      `do $$ begin perform set_config('x', '${secret}', false); end $$`,
    ]) {
      assert.ok(!redactSecrets(sql).includes(secret), sql);
    }
  });
});
