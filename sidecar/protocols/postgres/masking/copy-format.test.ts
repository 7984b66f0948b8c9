import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CopyFormatError, CopyRowIndex, copyFormat, encodeField, type CopyFormat } from './copy-format.ts';

const text = copyFormat(new Map());
const csv = copyFormat(new Map([['format', 'csv']]));

function fields(row: string, fmt: CopyFormat): (string | null)[] {
  const idx = new CopyRowIndex();
  const data = Buffer.from(row, 'utf8');
  const n = idx.split(data, fmt);
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) out.push(idx.isNull(data, i, fmt) ? null : idx.decode(data, i, fmt));
  return out;
}

describe('COPY format options', () => {
  test('defaults: text is tab and \\N, CSV is comma, quote, empty null', () => {
    assert.equal(text.delimiter, 9);
    assert.equal(text.nullText.toString(), '\\N');
    assert.equal(csv.delimiter, 44);
    assert.equal(csv.quote, 34);
    assert.equal(csv.escape, 34);
    assert.equal(csv.nullText.length, 0);
    assert.equal(csv.header, false);
  });

  test('explicit options and header', () => {
    const f = copyFormat(new Map<string, string | boolean>([['format', 'csv'], ['delimiter', ';'], ['null', 'NULL'], ['quote', "'"], ['escape', '\\'], ['header', true]]));
    assert.deepEqual([f.delimiter, f.nullText.toString(), f.quote, f.escape, f.header], [59, 'NULL', 39, 92, true]);
    assert.equal(copyFormat(new Map([['header', 'false']])).header, false);
    assert.equal(copyFormat(new Map([['header', 'match']])).header, true);
    assert.equal(copyFormat(new Map([['format', 'binary']])).binary, true);
  });

  test('invalid options are refused', () => {
    assert.throws(() => copyFormat(new Map([['format', 'parquet']])), CopyFormatError);
    assert.throws(() => copyFormat(new Map([['delimiter', '::']])), CopyFormatError);
  });
});

describe('COPY rows: split and decode', () => {
  const rows: Array<[string, string, CopyFormat, (string | null)[]]> = [
    ['text fields', '1\tAnn\t4111\n', text, ['1', 'Ann', '4111']],
    ['text null and empty', '\\N\t\t\n', text, [null, '', '']],
    ['text escapes', 'a\\tb\tc\\\\d\te\\nf\\rg\n', text, ['a\tb', 'c\\d', 'e\nf\rg']],
    ['text octal and hex escapes', '\\101\\x42\\x4\tx\n', text, ['AB\u0004', 'x']],
    ['text escaped delimiter', 'a\\\tb\tc\n', text, ['a\tb', 'c']],
    ['text with a custom delimiter', '1|a\\|b|\\N\n', copyFormat(new Map([['delimiter', '|']])), ['1', 'a|b', null]],
    ['text UTF-8', 'Zoë\t名前\n', text, ['Zoë', '名前']],
    ['CSV plain', '1,Ann,4111\n', csv, ['1', 'Ann', '4111']],
    ['CSV quoted with delimiter, quote and newline', '1,"a,b","say ""hi""","line1\nline2"\n', csv, ['1', 'a,b', 'say "hi"', 'line1\nline2']],
    ['CSV empty string versus null', '"",,x\n', csv, ['', null, 'x']],
    ['CSV CRLF', 'a,b\r\n', csv, ['a', 'b']],
    ['CSV with escape character', "'a\\'b',\\N\n", copyFormat(new Map([['format', 'csv'], ['quote', "'"], ['escape', '\\'], ['null', '\\N']])), ["a'b", null]],
    ['CSV quoted null string is a value', '"\\N",\\N\n', copyFormat(new Map([['format', 'csv'], ['null', '\\N']])), ['\\N', null]],
  ];
  for (const [name, row, fmt, want] of rows) test(name, () => assert.deepEqual(fields(row, fmt), want));

  test('malformed rows are refused', () => {
    const idx = new CopyRowIndex();
    assert.throws(() => idx.split(Buffer.from('"open,x\n'), csv), CopyFormatError);
    assert.throws(() => idx.split(Buffer.from('"a"b,x\n'), csv), CopyFormatError);
    assert.throws(() => idx.split(Buffer.from('abc\\'), text), CopyFormatError);
  });

  test('many fields grow the index', () => {
    const row = Array.from({ length: 40 }, (_, i) => `v${i}`).join('\t') + '\n';
    assert.equal(fields(row, text).length, 40);
    assert.equal(fields(row, text)[39], 'v39');
  });
});

describe('COPY rows: encode', () => {
  const values = ['plain', 'tab\there', 'back\\slash', 'new\nline', 'say "hi"', 'a,b', '', 'Zoë'];
  test('text: what is encoded decodes to the same value', () => {
    for (const v of values) assert.deepEqual(fields(encodeField(v, text).toString() + '\n', text), [v]);
    assert.equal(encodeField(null, text).toString(), '\\N');
  });
  test('CSV: always quoted, round trips, null is the null string', () => {
    for (const v of values) {
      const enc = encodeField(v, csv).toString();
      assert.ok(enc.startsWith('"') && enc.endsWith('"'));
      assert.deepEqual(fields(enc + '\n', csv), [v]);
    }
    assert.equal(encodeField(null, csv).length, 0);
  });
  test('a custom delimiter is escaped in text format', () => {
    const pipe = copyFormat(new Map([['delimiter', '|']]));
    assert.equal(encodeField('a|b', pipe).toString(), 'a\\|b');
  });
  test('CSV with an escape character other than the quote', () => {
    const f = copyFormat(new Map([['format', 'csv'], ['escape', '\\']]));
    assert.equal(encodeField('a"b\\c', f).toString(), '"a\\"b\\\\c"');
    assert.deepEqual(fields(encodeField('a"b\\c', f).toString() + '\n', f), ['a"b\\c']);
  });
});
