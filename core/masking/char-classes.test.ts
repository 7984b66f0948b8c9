import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alnumBefore, escapeEndsAt, isEscapingBackslash } from './char-classes.ts';

// [text, index, expected escapeEndsAt(text, index)] — written as JSON text would hold them.
const escapeCases: Array<[string, number, boolean]> = [
  ['\\nX', 2, true],
  ['\\tX', 2, true],
  ['\\\\nX', 3, false], // an escaped backslash, then a plain n
  ['\\\\\\nX', 4, true], // an escaped backslash, then \n
  ['\\u001fX', 6, true],
  ['\\u00e9X', 6, true],
  ['\\\\u001fX', 7, false],
  ['\\u00gX', 6, false],
  ['abX', 2, false],
  ['X', 0, false],
];

for (const [text, index, expected] of escapeCases) {
  test(`escapeEndsAt(${JSON.stringify(text)}, ${index}) = ${expected}`, () => {
    assert.equal(escapeEndsAt(text, index), expected);
  });
}

test('isEscapingBackslash counts the whole run', () => {
  assert.equal(isEscapingBackslash('\\', 0), true);
  assert.equal(isEscapingBackslash('\\\\', 1), false);
  assert.equal(isEscapingBackslash('a\\\\\\', 3), true);
});

test('alnumBefore: letters and digits continue a word unless they end an escape', () => {
  assert.equal(alnumBefore('aX', 1), true);
  assert.equal(alnumBefore('9X', 1), true);
  assert.equal(alnumBefore(' X', 1), false);
  assert.equal(alnumBefore('\\nX', 2), false);
  assert.equal(alnumBefore('X', 0), false);
});
