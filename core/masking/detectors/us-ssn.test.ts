import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matched } from '../testing.ts';
import { findUsSsns } from './us-ssn.ts';

const cases: Array<[string, string, string[]]> = [
  ['plain', '123-45-6789', ['123-45-6789']],
  ['in text', 'SSN: 078-05-1120.', ['078-05-1120']],
  ['after letters', 'ssn123-45-6789', ['123-45-6789']],
  ['in JSON', '{"ssn":"219-09-9999"}', ['219-09-9999']],
  ['two', '123-45-6789, 234-56-7890', ['123-45-6789', '234-56-7890']],
  ['highest valid area', '899-99-9999', ['899-99-9999']],
  ['area 000', '000-12-3456', []],
  ['area 666', '666-12-3456', []],
  ['area 9xx', '900-12-3456', []],
  ['area 999', '999-12-3456', []],
  ['group 00', '123-00-4567', []],
  ['serial 0000', '123-45-0000', []],
  ['digit before', '1123-45-6789', []],
  ['digit after', '123-45-67890', []],
  ['longer dashed number before', '1-123-45-6789', []],
  ['longer dashed number after', '123-45-6789-1', []],
  ['no dashes', '123456789', []],
  ['spaces', '123 45 6789', []],
  ['wrong grouping', '12-345-6789', []],
];

for (const [name, text, expected] of cases) {
  test(`us-ssn: ${name}`, () => {
    assert.deepEqual(matched(findUsSsns, text), expected);
  });
}
