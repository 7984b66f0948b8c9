import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError } from '../../core/util/duration.ts';
import { sessionEndsAt, sessionRemainingMs } from './session-expiry.ts';

const expiresAt = new Date('2030-01-01T00:00:00Z');

test('sessionEndsAt adds the grace to the token expiry', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, '2030-01-01T00:00:00.000Z'],
    ['0s', '2030-01-01T00:00:00.000Z'],
    ['5m', '2030-01-01T00:05:00.000Z'],
    ['1h30m', '2030-01-01T01:30:00.000Z'],
    ['300ms', '2030-01-01T00:00:00.300Z'],
  ];
  for (const [grace, expected] of cases) assert.equal(sessionEndsAt({ expiresAt }, grace).toISOString(), expected, String(grace));
});

test('sessionEndsAt refuses an invalid grace instead of guessing', () => {
  for (const grace of ['', '5', 'forever', '-1m']) assert.throws(() => sessionEndsAt({ expiresAt }, grace), DurationError);
});

test('sessionRemainingMs counts down to zero, never below', () => {
  const t = expiresAt.getTime();
  assert.equal(sessionRemainingMs({ expiresAt }, '5m', t), 300_000);
  assert.equal(sessionRemainingMs({ expiresAt }, '5m', t + 299_000), 1_000);
  assert.equal(sessionRemainingMs({ expiresAt }, '5m', t + 400_000), 0);
});
