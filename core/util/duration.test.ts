import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, formatDuration, isDuration, parseDuration } from './duration.ts';

test('parseDuration accepts Go-style durations', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['300ms', 300],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['720h', 2_592_000_000],
    ['1.5h', 5_400_000],
    ['1m1ms', 60_001],
    ['2h0m5s', 7_205_000],
    ['0.5s', 500],
  ];
  for (const [text, expected] of cases) {
    assert.equal(parseDuration(text), expected, text);
    assert.equal(isDuration(text), true, text);
  }
});

test('parseDuration refuses malformed durations', () => {
  const bad = ['', ' ', '5', '-5m', '+5m', '5 m', '5M', '1d', '1w', 'm', '1.m', '.5s', '5m ', 'ms', '1h-30m', '1e3s',
    '9'.repeat(30) + 'h', '1'.repeat(70) + 's'];
  for (const text of bad) {
    assert.throws(() => parseDuration(text), DurationError, JSON.stringify(text));
    assert.equal(isDuration(text), false, text);
  }
});

test('parseDuration refuses non-strings', () => {
  assert.throws(() => parseDuration(300 as unknown as string), DurationError);
});

test('formatDuration round-trips through parseDuration', () => {
  const cases: Array<[number, string]> = [[0, '0s'], [1, '1ms'], [90_000, '1m30s'], [5_400_000, '1h30m'], [3_600_001, '1h1ms']];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text), ms);
  }
  assert.throws(() => formatDuration(-1), DurationError);
  assert.throws(() => formatDuration(1.5), DurationError);
});
