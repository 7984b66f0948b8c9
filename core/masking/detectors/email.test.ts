import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matched } from '../testing.ts';
import { email, findEmails } from './email.ts';

const cases: Array<[string, string, string[]]> = [
  ['plain', 'a@b.co', ['a@b.co']],
  ['in a sentence', 'write to jane.doe+orders@example.com today.', ['jane.doe+orders@example.com']],
  ['in JSON text', '{"email":"a@b.co"}', ['a@b.co']],
  ['json_agg of two', '[{"email":"x@y.org"}, {"email":"first.last@mail.example.co.uk"}]', ['x@y.org', 'first.last@mail.example.co.uk']],
  ['postgres array', '{a@b.co,c@d.org}', ['a@b.co', 'c@d.org']],
  ['angle brackets', 'Jane <jane@example.com>', ['jane@example.com']],
  ['mailto', 'mailto:ops@example.com', ['ops@example.com']],
  ['after an escaped newline', '"to:\\nuser@example.com"', ['user@example.com']],
  ['escaped backslash before the address', '"\\\\user@example.com"', ['user@example.com']],
  ['sentence dot not taken', 'mail a@b.co.', ['a@b.co']],
  ['non-ASCII local part', 'josé@exemple.fr', ['josé@exemple.fr']],
  ['IDN domain', 'info@bücher.de', ['info@bücher.de']],
  ['punycode TLD', 'a@example.xn--p1ai', ['a@example.xn--p1ai']],
  ['subdomain with dashes and digits', 'u_1%x@mx-1.a2.example.io', ['u_1%x@mx-1.a2.example.io']],
  ['one-letter TLD backs off to the last good label', 'a@b.com.x', ['a@b.com']],
  ['leading dots of the local part dropped', '..a@b.co', ['a@b.co']],
  ['no domain dot', 'user@localhost', []],
  ['numeric TLD', 'a@1.2.3.4', []],
  ['one-letter TLD', 'a@b.c', []],
  ['no local part', '@example.com', []],
  ['handle', 'ping @someone.', []],
  ['double at', 'a@@b.co', []],
  ['no at', 'example.com', []],
];

for (const [name, text, expected] of cases) {
  test(`email: ${name}`, () => {
    assert.deepEqual(matched(findEmails, text), expected);
  });
}

test('email: a match never swallows the JSON quotes around it', () => {
  const text = '{"a":"x@y.io","b":"z@w.io"}';
  for (const s of findEmails(text)) {
    assert.notEqual(text[s.start - 1], undefined);
    assert.equal(text[s.start - 1], '"');
    assert.equal(text[s.end], '"');
  }
});

test('email: pre-filter needs an @', () => {
  assert.equal(email.mayMatch(0, 0), false);
  assert.equal(email.mayMatch(2, 0), true);
});
