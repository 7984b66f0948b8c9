import assert from 'node:assert/strict';
import { test } from 'node:test';
import { luhnValid, matched, seededRandom } from '../testing.ts';
import { creditCard, findCreditCards } from './credit-card.ts';

const cases: Array<[string, string, string[]]> = [
  ['visa, compact', '4111111111111111', ['4111111111111111']],
  ['visa in a sentence', 'paid with 4111111111111111 today', ['4111111111111111']],
  ['spaced groups', 'card 4111 1111 1111 1111 exp 12/25', ['4111 1111 1111 1111']],
  ['dashed groups', '4111-1111-1111-1111', ['4111-1111-1111-1111']],
  ['mixed separators', '5555 5555-5555 4444', ['5555 5555-5555 4444']],
  ['amex, 15 digits, 4-6-5', '3782 822463 10005', ['3782 822463 10005']],
  ['13 digits', '4222222222222', ['4222222222222']],
  ['19 digits', '6304000000000000000', ['6304000000000000000']],
  ['two cards', '4111111111111111,5555555555554444', ['4111111111111111', '5555555555554444']],
  ['json_agg output', '[{"card":"4111111111111111"},{"card":"6011111111111117"}]', ['4111111111111111', '6011111111111117']],
  ['postgres array', '{4111111111111111,378282246310005}', ['4111111111111111', '378282246310005']],
  ['after an escaped newline in JSON', '"note":"card:\\n4111 1111 1111 1111"', ['4111 1111 1111 1111']],
  ['next to letters', 'x4111111111111111y', ['4111111111111111']],
  ['starts at a later group of a spaced sequence', 'ref 12 4111 1111 1111 1111', ['4111 1111 1111 1111']],
  ['followed by more digits after a space', '4111 1111 1111 1111 2025', ['4111 1111 1111 1111']],
  ['longest valid length wins', '4111 1111 1111 1111 110', ['4111 1111 1111 1111 110']],
  ['Luhn-invalid', '4111111111111112', []],
  ['12 digits', '123456789012', []],
  ['inside a longer digit run', '99941111111111111111999', []],
  ['20-digit run', '41111111111111111110', []],
  ['double space is not a separator', '4111  1111  1111  1111', []],
  ['separator then no digit', '4111-1111-1111-', []],
  ['dotted is not a card', '4111.1111.1111.1111', []],
  ['a date and a time', '2024-01-15 10:30:00', []],
  ['nothing numeric', 'hello world', []],
  ['empty', '', []],
];

for (const [name, text, expected] of cases) {
  test(`credit-card: ${name}`, () => {
    assert.deepEqual(matched(findCreditCards, text), expected);
  });
}

test('credit-card: every 13–19 digit number is found exactly when its Luhn check passes', () => {
  const random = seededRandom(7);
  for (let n = 0; n < 3000; n++) {
    const length = 13 + Math.floor(random() * 7);
    let digits = '';
    for (let k = 0; k < length; k++) digits += String(Math.floor(random() * 10));
    const text = `id: ${digits}.`;
    assert.deepEqual(matched(findCreditCards, text), luhnValid(digits) ? [digits] : [], digits);
  }
});

test('credit-card: changing any one digit of a valid number breaks the match', () => {
  const valid = '4111111111111111';
  for (let i = 0; i < valid.length; i++) {
    const d = Number(valid[i]);
    const changed = valid.slice(0, i) + String((d + 1) % 10) + valid.slice(i + 1);
    assert.deepEqual(matched(findCreditCards, changed), [], changed);
  }
});

test('credit-card: pre-filter needs 13 digits', () => {
  assert.equal(creditCard.mayMatch(1, 12), false);
  assert.equal(creditCard.mayMatch(1, 13), true);
});
