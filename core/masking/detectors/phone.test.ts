import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matched } from '../testing.ts';
import { findPhones } from './phone.ts';

const cases: Array<[string, string, string[]]> = [
  ['compact', '+4915112345678', ['+4915112345678']],
  ['spaced', 'call +44 20 7946 0958 today', ['+44 20 7946 0958']],
  ['parentheses and dash', '+1 (415) 555-2671', ['+1 (415) 555-2671']],
  ['trunk zero in parentheses', '+44 (0)20 7946 0958', ['+44 (0)20 7946 0958']],
  ['dots', '+33.1.23.45.67.89', ['+33.1.23.45.67.89']],
  ['dashes', '+1-415-555-2671', ['+1-415-555-2671']],
  ['in JSON', '{"phone":"+14155552671"}', ['+14155552671']],
  ['after an escaped newline', '"tel\\n+14155552671"', ['+14155552671']],
  ['8 digits', '+35312345', ['+35312345']],
  ['15 digits', '+123456789012345', ['+123456789012345']],
  ['two', '+14155552671, +442079460958', ['+14155552671', '+442079460958']],
  ['sentence end', 'Reach me at +14155552671.', ['+14155552671']],
  ['national form is left alone', '(415) 555-2671', []],
  ['plain number is left alone', '4155552671', []],
  ['7 digits', '+1234567', []],
  ['16 digits', '+1234567890123456', []],
  ['country code 0', '+0441234567890', []],
  ['arithmetic', '1+23456789012', []],
  ['after a letter', 'x+14155552671', []],
  ['double plus', '++14155552671', []],
  ['runs into a letter', '+14155552671x9', []],
  ['double separator', '+1  415 555 2671', []],
  ['unpaired parenthesis', '+1 (415 555 2671', []],
  ['timestamp offset', '2024-01-15 10:30:00+00', []],
];

for (const [name, text, expected] of cases) {
  test(`phone: ${name}`, () => {
    assert.deepEqual(matched(findPhones, text), expected);
  });
}
