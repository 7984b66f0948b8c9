import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ibanValid, matched } from '../testing.ts';
import { findIbans, iban } from './iban.ts';

const cases: Array<[string, string, string[]]> = [
  ['compact DE', 'DE89370400440532013000', ['DE89370400440532013000']],
  ['grouped DE', 'DE89 3704 0044 0532 0130 00', ['DE89 3704 0044 0532 0130 00']],
  ['grouped then a word', 'IBAN: DE89 3704 0044 0532 0130 00 EUR', ['DE89 3704 0044 0532 0130 00']],
  ['letters in the BBAN', 'GB82WEST12345698765432', ['GB82WEST12345698765432']],
  ['grouped with letters', 'GB82 WEST 1234 5698 7654 32', ['GB82 WEST 1234 5698 7654 32']],
  ['shortest (NO, 15)', 'NO9386011117947', ['NO9386011117947']],
  ['full last group then a word', 'BE68 5390 0754 7034 EUR', ['BE68 5390 0754 7034']],
  ['long (MT, 31)', 'MT84MALT011000012345MTLCAST001S', ['MT84MALT011000012345MTLCAST001S']],
  ['FR with a letter inside', 'FR1420041010050500013M02606', ['FR1420041010050500013M02606']],
  ['in JSON', '{"iban":"NL91ABNA0417164300"}', ['NL91ABNA0417164300']],
  ['after an escaped newline', '"acct:\\nNL91ABNA0417164300"', ['NL91ABNA0417164300']],
  ['two', 'DE89370400440532013000;NL91ABNA0417164300', ['DE89370400440532013000', 'NL91ABNA0417164300']],
  ['bad checksum', 'DE89370400440532013001', []],
  ['bad checksum, grouped', 'DE89 3704 0044 0532 0130 01', []],
  ['inside a longer word', 'XDE89370400440532013000', []],
  ['followed by letters', 'DE89370400440532013000abc', []],
  ['lower case', 'de89370400440532013000', []],
  ['too short', 'DE8937040044', []],
  ['group of five', 'DE89 37040 0440 5320 1300 0', []],
  ['no check digits', 'DEXX370400440532013000', []],
];

for (const [name, text, expected] of cases) {
  test(`iban: ${name}`, () => {
    assert.deepEqual(matched(findIbans, text), expected);
  });
}

test('iban: every valid IBAN of the table passes the reference check, and every match does', () => {
  for (const [, text, expected] of cases) {
    for (const m of matched(findIbans, text)) assert.ok(ibanValid(m), m);
    for (const e of expected) assert.ok(ibanValid(e), e);
  }
});

test('iban: changing one character of the BBAN breaks the match', () => {
  const valid = 'GB82WEST12345698765432';
  for (let i = 4; i < valid.length; i++) {
    const c = valid[i]!;
    const changed = valid.slice(0, i) + (c === '9' ? '0' : c === 'Z' ? 'A' : String.fromCharCode(c.charCodeAt(0) + 1)) +
      valid.slice(i + 1);
    assert.equal(ibanValid(changed), false, changed); // mod-97 catches every single substitution
    assert.deepEqual(matched(findIbans, changed), [], changed);
  }
});

test('iban: byte pre-filter looks for letter, letter, digit, digit inside its range only', () => {
  const bytes = Buffer.from('xx DE89 yy');
  assert.equal(iban.mayMatchBytes!(bytes, 0, bytes.length), true);
  assert.equal(iban.mayMatchBytes!(bytes, 0, 6), false);
  assert.equal(iban.mayMatchBytes!(Buffer.from('De89 D89'), 0, 8), false);
});
