import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, clip, printable, printableLines, shortDuration } from './human-text.ts';

test('printable escapes controls and bidi overrides, keeps ordinary text', () => {
  const cases: [string, string][] = [
    ['select 1', 'select 1'],
    ['ünïcödé 😀', 'ünïcödé 😀'],
    ['a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['\u001b[2J', '\\x1b[2J'],
    ['\u009b31m', '\\x9b31m'],
    ['\u007f', '\\x7f'],
    ['x\u202ey\u2066z\u200f', 'x\\u202ey\\u2066z\\u200f'],
  ];
  for (const [input, expected] of cases) assert.equal(printable(input), expected, JSON.stringify(input));
  assert.deepEqual(printableLines('a\u001b\nb\r\n'), ['a\\x1b', 'b\\r', '']);
});

test('clip makes one line of at most max characters', () => {
  assert.equal(clip('update  orders\n set x = 1', 100), 'update orders set x = 1');
  assert.equal(clip('abcdefghij', 5), 'abcd…');
  assert.equal(clip('abcde', 5), 'abcde');
});

test('shortDuration and bytes round for people', () => {
  const durations: [number, string][] = [[0, '0ms'], [850.4, '850ms'], [1_499, '1s'], [42_000, '42s'], [60_000, '1m'], [312_000, '5m12s'], [3_600_000, '1h'], [11_040_000, '3h4m'], [183_600_000, '2d3h'], [-1, '?'], [Number.NaN, '?']];
  for (const [ms, text] of durations) assert.equal(shortDuration(ms), text, String(ms));
  const sizes: [number, string][] = [[0, '0 B'], [1023, '1023 B'], [1536, '1.5 KiB'], [10 * 1024, '10 KiB'], [5 * 1024 ** 3, '5.0 GiB']];
  for (const [n, text] of sizes) assert.equal(bytes(n), text, String(n));
});
