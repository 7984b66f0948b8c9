import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashValue, lastFour, REDACTED_MARKER } from '../../../../core/masking/strategies.ts';
import { asciiLastFour, cellAction, fastHash, maskBytes, maskText } from './cell-mask.ts';
import { hashKey, T } from './fixtures.ts';

describe('cell masking', () => {
  test('actions by type and format', () => {
    const cases: Array<[number, 0 | 1, string | null | undefined, string | undefined]> = [
      [T.text, 0, undefined, 'text'],
      [T.varchar, 0, undefined, 'text'],
      [19, 0, undefined, 'text'],
      [T.bpchar, 0, undefined, 'bpchar'],
      [T.json, 0, undefined, 'json'],
      [T.jsonb, 0, undefined, 'json'],
      [T.xml, 0, undefined, 'xml'],
      [T.int4, 0, undefined, 'null'],
      [T.date, 0, undefined, 'null'],
      [1009 /* text[] */, 0, undefined, 'null'],
      [T.text, 1, undefined, 'null'],
      [T.citext, 0, undefined, undefined],
      [T.citext, 0, 'S', 'text'],
      [T.mood, 0, 'E', 'null'],
      [T.citext, 0, null, 'null'],
    ];
    for (const [oid, format, category, want] of cases) assert.equal(cellAction(oid, format, category), want, `type ${oid} format ${format}`);
  });

  test('the ASCII last4 fast path equals lastFour', () => {
    for (const v of ['', 'a', 'abcd', 'abcde', '4111111111111111', 'x'.repeat(300)]) {
      const buf = Buffer.from(`<${v}>`);
      assert.equal(asciiLastFour(buf, 1, buf.length - 1)?.toString(), lastFour(v));
    }
    assert.equal(asciiLastFour(Buffer.from('Zoë'), 0, 4), undefined);
    const b = Buffer.from('名前です12345');
    assert.equal(maskBytes('text', 'last4', b, 0, b.length, hashKey)?.toString(), lastFour('名前です12345'));
  });

  test('the hash fast path equals hashValue', () => {
    for (const v of ['', 'a', '4111111111111111', 'Zoë', 'x'.repeat(1000)]) assert.equal(fastHash(v, hashKey), hashValue(v, hashKey));
  });

  test('json stays JSON, xml stays XML, bpchar padding is dropped, null is NULL', () => {
    assert.equal(maskText('json', 'last4', '{"a":"4111"}', hashKey), JSON.stringify(lastFour('{"a":"4111"}')));
    assert.deepEqual(JSON.parse(maskText('json', 'redact', '{}', hashKey)!), REDACTED_MARKER);
    assert.equal(maskText('xml', 'last4', '<a>12</a>', hashKey), '*****&lt;/a&gt;');
    assert.equal(maskText('bpchar', 'last4', '123456    ', hashKey), '**3456');
    const b = Buffer.from('123456    ');
    assert.equal(maskBytes('bpchar', 'last4', b, 0, b.length, hashKey)?.toString(), '**3456');
    assert.equal(maskText('text', 'null', 'x', hashKey), null);
    assert.equal(maskBytes('null', 'last4', b, 0, b.length, hashKey), null);
  });
});
