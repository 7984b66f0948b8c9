import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSearchPathText, truncateIdentifier } from './search-path.ts';

// The expected values are what PostgreSQL 15 answered for `SET search_path` / `set_config` / `SHOW search_path`.
const cases: Record<string, { text: string; want: string[] | undefined }> = {
  'SHOW output of the default': { text: '"$user", public', want: ['$user', 'public'] },
  'unquoted names fold to lower case': { text: 'A, b,C', want: ['a', 'b', 'c'] },
  'quoted names keep case': { text: 'A, "B"', want: ['a', 'B'] },
  'doubled quote inside a quoted name': { text: '"a""b"', want: ['a"b'] },
  'comma inside a quoted name': { text: '"a, b"', want: ['a, b'] },
  'whitespace around names and commas': { text: '  x ,\ty\n', want: ['x', 'y'] },
  'empty string is an empty path': { text: '', want: [] },
  'only spaces is an empty path': { text: '   ', want: [] },
  'trailing comma is invalid': { text: 'a,', want: undefined },
  'empty element is invalid': { text: 'a,,b', want: undefined },
  'unterminated quote is invalid': { text: '"abc', want: undefined },
  'empty quoted name is accepted (and names no schema)': { text: '""', want: [''] },
  'junk after a quoted name is invalid': { text: '"a"b', want: undefined },
  'space inside an unquoted name is invalid': { text: 'a b', want: undefined },
  'non-ASCII letters are not folded': { text: 'ÄB', want: ['Äb'] },
};

describe('parseSearchPathText', () => {
  for (const [name, c] of Object.entries(cases)) {
    test(name, () => {
      assert.deepEqual(parseSearchPathText(c.text), c.want);
    });
  }
  test('names are truncated to 63 bytes', () => {
    const long = 'x'.repeat(70);
    assert.deepEqual(parseSearchPathText(long), ['x'.repeat(63)]);
  });
});

describe('truncateIdentifier', () => {
  test('cuts at a character boundary', () => {
    const name = 'é'.repeat(40); // 80 bytes
    const cut = truncateIdentifier(name);
    assert.equal(cut, 'é'.repeat(31)); // 62 bytes: a 32nd 'é' would need bytes 62–63
    assert.ok(Buffer.byteLength(cut) <= 63);
  });
  test('short names are unchanged', () => {
    assert.equal(truncateIdentifier('orders'), 'orders');
  });
});
