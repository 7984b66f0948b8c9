// Adversarial inputs of 10 KiB and 100 KiB: every scanner must do work proportional to the input. Work is counted
// (see countSteps in testing.ts), not timed, so the test is exact on any machine.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECTOR_NAMES, DETECTORS } from './detectors.ts';
import { compileMasker } from './masker.ts';
import { countSteps } from './testing.ts';

const SMALL = 10 * 1024;
const LARGE = 100 * 1024;
/** Work per character allowed for the large input; the scanners look at each character a bounded number of times. */
const MAX_STEPS_PER_CHAR = 80;

/** `unit` repeated to `length` characters, with an optional suffix that makes the text look almost like a match. */
function fill(unit: string, length: number, suffix = ''): string {
  return unit.repeat(Math.ceil((length - suffix.length) / unit.length)).slice(0, length - suffix.length) + suffix;
}

const adversarial: Record<string, Array<(n: number) => string>> = {
  'credit-card': [
    (n) => fill('4', n),
    (n) => fill('1 ', n),
    (n) => fill('1-', n),
    (n) => fill('4111 1111 1111 111 ', n),
    (n) => fill('12 ', n),
  ],
  email: [
    (n) => fill('a', n, '@'),
    (n) => fill('@', n),
    (n) => fill('a@', n),
    (n) => fill('a.', n, '@b'),
    (n) => 'a@' + fill('b.', n - 2),
    (n) => fill('a@b.1', n),
    (n) => fill('\\', n, 'a@b.co'),
  ],
  iban: [
    (n) => fill('DE89', n),
    (n) => fill('DE89 ', n),
    (n) => fill('DE89 ABCD ', n),
    (n) => 'AA00' + fill('0', n - 4),
    (n) => fill('AB12', n, 'x'),
    (n) => fill('\\nDE89', n),
  ],
  'us-ssn': [
    (n) => fill('123-45-', n),
    (n) => fill('-', n),
    (n) => fill('111-11-1111-', n),
  ],
  phone: [
    (n) => fill('+1', n),
    (n) => fill('+1 ', n),
    (n) => fill(' +1 (2) 3', n),
    (n) => fill('+(', n),
    (n) => '+1' + fill(' 2', n - 2),
  ],
  jwt: [
    (n) => fill('eyJ', n),
    (n) => fill('ey.', n),
    (n) => fill('eyJhbGciOiJIUzI1NiJ9.', n),
    (n) => fill('e', n),
    (n) => 'eyJhbGciOiJIUzI1NiJ9' + fill('A', n - 20),
    (n) => fill('eyJhbGciOiJIUzI1NiJ9.e30.', n),
  ],
  'aws-access-key': [
    (n) => fill('AKIA', n),
    (n) => fill('A', n),
    (n) => 'AKIA' + fill('B', n - 4),
    (n) => fill('AKIAIOSFODNN7EXAMPL ', n),
  ],
  'private-key': [
    (n) => fill('-----BEGIN ', n),
    (n) => fill('-----BEGIN PRIVATE KEY-----', n),
    (n) => fill('-----BEGIN X-----', n, 'PRIVATE KEY'),
    (n) => fill('-----BEGIN PRIVATE KEY----------END X-----', n),
    (n) => fill('-----BEGIN PRIVATE KEY-----"', n),
    (n) => '-----BEGIN PRIVATE KEY-----' + fill('-----END ', n - 27),
    (n) => '-----BEGIN PRIVATE KEY-----' + fill('\\', n - 27, '"'),
    (n) => fill('-----BEGIN PRIVATE KEY-----\\"', n),
    (n) => fill('-', n),
  ],
};

test('every detector has adversarial inputs', () => {
  assert.deepEqual(Object.keys(adversarial).sort(), [...DETECTOR_NAMES].sort());
});

for (const [name, makers] of Object.entries(adversarial)) {
  const detector = DETECTORS.get(name)!;
  makers.forEach((make, index) => {
    test(`${name}: adversarial input #${index + 1} takes linear work`, () => {
      const small = make(SMALL);
      const large = make(LARGE);
      assert.equal(small.length, SMALL);
      assert.equal(large.length, LARGE);
      const smallSteps = countSteps(() => detector.find(small));
      const largeSteps = countSteps(() => detector.find(large));
      assert.ok(smallSteps > 0, 'the step counter must see the scanner work');
      assert.ok(largeSteps <= smallSteps * 12, `10× the input took ${(largeSteps / smallSteps).toFixed(1)}× the work`);
      assert.ok(largeSteps <= LARGE * MAX_STEPS_PER_CHAR, `${(largeSteps / LARGE).toFixed(1)} steps per character`);
    });
  });
}

test('the masker with every detector takes linear work on every adversarial input', () => {
  const masker = compileMasker([{ name: 'all', detectors: [...DETECTOR_NAMES], strategy: 'redact' }]);
  for (const makers of Object.values(adversarial)) {
    for (const make of makers) {
      const small = make(SMALL);
      const large = make(LARGE);
      const smallSteps = countSteps(() => masker.scan(small));
      const largeSteps = countSteps(() => masker.scan(large));
      assert.ok(largeSteps <= smallSteps * 12, `${large.slice(0, 30)}…: ${(largeSteps / smallSteps).toFixed(1)}×`);
    }
  }
});

test('the step counter catches quadratic work', () => {
  // A deliberately quadratic scan, to show the assertion above would fail on one.
  const quadratic = (text: string): void => {
    for (let i = 0; i < text.length; i += 64) text.indexOf('@', i);
  };
  const small = countSteps(() => quadratic(fill('a', SMALL)));
  const large = countSteps(() => quadratic(fill('a', LARGE)));
  assert.ok(large > small * 50);
});
