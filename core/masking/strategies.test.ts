import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  HASH_BYTES,
  HASH_PREFIX,
  lastFour,
  maskFragment,
  maskSpans,
  maskValue,
  REDACTED_MARKER,
  stricterStrategy,
} from './strategies.ts';

const key = Buffer.alloc(32, 1);
const otherKey = Buffer.alloc(32, 2);

test('redact: the same marker whatever the value, so not even the length shows', () => {
  assert.equal(maskValue('redact', 'a', key), REDACTED_MARKER);
  assert.equal(maskValue('redact', 'a much longer secret value', key), REDACTED_MARKER);
  assert.equal(maskValue('redact', '', key), REDACTED_MARKER);
});

const lastFourCases: Array<[string, string, string]> = [
  ['card', '4111111111111111', '************1111'],
  ['five characters', 'abcde', '*bcde'],
  ['exactly four: all hidden', '1234', '****'],
  ['shorter than four: all hidden', 'ab', '**'],
  ['empty', '', ''],
  ['surrogate pairs count as one character and are never split', '😀😀😀😀😀x', '**😀😀😀x'],
  ['a pair among the last four', 'abcdef😀', '***def😀'],
  ['four pairs only: all hidden', '😀😀😀😀', '****'],
];

for (const [name, value, expected] of lastFourCases) {
  test(`last4: ${name}`, () => {
    assert.equal(lastFour(value), expected);
    assert.equal(maskValue('last4', value, key), expected);
  });
}

test('last4: never returns the whole value', () => {
  for (let n = 0; n <= 8; n++) {
    const value = 'x'.repeat(n);
    if (n > 0) assert.notEqual(maskValue('last4', value, key), value);
  }
});

test('hash: prefix + base64url of the truncated HMAC-SHA256', () => {
  const out = maskValue('hash', 'alice@example.com', key)!;
  assert.ok(out.startsWith(HASH_PREFIX));
  const encoded = out.slice(HASH_PREFIX.length);
  assert.match(encoded, /^[A-Za-z0-9_-]+$/);
  assert.equal(Buffer.from(encoded, 'base64url').length, HASH_BYTES);
  const reference = createHmac('sha256', key).update('alice@example.com').digest().subarray(0, HASH_BYTES);
  assert.deepEqual(Buffer.from(encoded, 'base64url'), reference);
});

test('hash: equal values give equal outputs (joinable), different values different outputs', () => {
  assert.equal(maskValue('hash', 'v1', key), maskValue('hash', 'v1', key));
  assert.notEqual(maskValue('hash', 'v1', key), maskValue('hash', 'v2', key));
  const outputs = new Set<string | null>();
  for (let i = 0; i < 1000; i++) outputs.add(maskValue('hash', `value-${i}`, key));
  assert.equal(outputs.size, 1000);
});

test('hash: keyed — another installation key gives another output', () => {
  assert.notEqual(maskValue('hash', 'v1', key), maskValue('hash', 'v1', otherKey));
});

test('hash: a key shorter than 16 bytes is refused', () => {
  assert.throws(() => maskValue('hash', 'v', Buffer.alloc(8)), /at least 16 bytes/);
  assert.throws(() => maskValue('hash', 'v', Buffer.alloc(0)), /at least 16 bytes/);
});

test('null: the whole value becomes NULL, a fragment is redacted', () => {
  assert.equal(maskValue('null', 'secret', key), null);
  assert.equal(maskFragment('null', 'secret', key), REDACTED_MARKER);
});

test('maskSpans: only the spans change, with the strategy', () => {
  const text = 'card 4111111111111111 and 5555555555554444.';
  const spans = [{ start: 5, end: 21 }, { start: 26, end: 42 }];
  assert.equal(maskSpans(text, spans, 'last4', key), 'card ************1111 and ************4444.');
  assert.equal(maskSpans(text, spans, 'redact', key), `card ${REDACTED_MARKER} and ${REDACTED_MARKER}.`);
  assert.equal(maskSpans(text, spans, 'null', key), `card ${REDACTED_MARKER} and ${REDACTED_MARKER}.`);
  const hashed = maskSpans(text, spans, 'hash', key);
  assert.equal(hashed, `card ${maskValue('hash', '4111111111111111', key)} and ${maskValue('hash', '5555555555554444', key)}.`);
  assert.equal(maskSpans(text, [], 'redact', key), text);
});

test('maskSpans: overlapping or nested spans never copy a covered character in clear', () => {
  const text = 'xxSECRETSECRETyy';
  const out = maskSpans(text, [{ start: 2, end: 14 }, { start: 4, end: 8 }, { start: 10, end: 16 }], 'redact', key);
  assert.ok(!out.includes('SECRET'), out);
  assert.ok(!out.includes('yy'), out);
  assert.ok(out.startsWith('xx'));
});

const rankCases: Array<[Parameters<typeof stricterStrategy>[0], Parameters<typeof stricterStrategy>[1], string]> = [
  ['last4', 'hash', 'hash'],
  ['hash', 'redact', 'redact'],
  ['redact', 'null', 'null'],
  ['null', 'last4', 'null'],
  ['last4', 'last4', 'last4'],
];

for (const [a, b, expected] of rankCases) {
  test(`stricterStrategy(${a}, ${b}) = ${expected}`, () => {
    assert.equal(stricterStrategy(a, b), expected);
    assert.equal(stricterStrategy(b, a), expected);
  });
}
