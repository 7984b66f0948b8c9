import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpPart } from '../command.ts';
import { analyseHttp, jsonPathGet, jsonPathQuery, matchJsonCondition, parseJsonPath, type HttpRequest } from './request.ts';

function onePart(req: HttpRequest, maxBodyBytes?: number): HttpPart {
  const command = analyseHttp(req, maxBodyBytes === undefined ? {} : { maxBodyBytes });
  assert.equal(command.error, undefined, `unexpected error: ${command.error}`);
  assert.equal(command.parts.length, 1);
  return command.parts[0] as HttpPart;
}

function errorOf(req: HttpRequest, maxBodyBytes?: number): string {
  const command = analyseHttp(req, maxBodyBytes === undefined ? {} : { maxBodyBytes });
  assert.equal(command.parts.length, 0);
  assert.ok(command.error !== undefined, 'expected an error');
  return command.error;
}

const get = (path: string): HttpRequest => ({ method: 'GET', path, headers: {} });

describe('analyseHttp: paths', () => {
  const ok: readonly [string, string, string, string][] = [
    // name, target, path, query
    ['plain path', '/v1/orders/42', '/v1/orders/42', ''],
    ['query kept separate and raw', '/v1/orders?limit=10&q=a%20b', '/v1/orders', 'limit=10&q=a%20b'],
    ['encoded unreserved letters are decoded', '/v1/%6Frders/%34%32', '/v1/orders/42', ''],
    ['encoded -._~ are decoded', '/a%2Db%2Ec%5Fd%7Ee', '/a-b.c_d~e', ''],
    ['other escapes are kept with upper-case hex', '/files/a%20b%c3%a9', '/files/a%20b%C3%A9', ''],
    ['one trailing slash is kept', '/v1/orders/', '/v1/orders/', ''],
    ['root', '/', '/', ''],
    ['dots inside a segment are fine', '/v1/file.tar.gz/..x', '/v1/file.tar.gz/..x', ''],
    ['empty query', '/v1/orders?', '/v1/orders', ''],
  ];
  for (const [name, target, path, query] of ok) {
    it(name, () => {
      const part = onePart(get(target));
      assert.equal(part.path, path);
      assert.equal(part.query, query);
    });
  }

  const bad: readonly [string, string, string][] = [
    ['dot-dot segment', '/v1/orders/../admin', 'dot segment'],
    ['encoded dot-dot segment', '/v1/orders/%2e%2E/admin', 'dot segment'],
    ['dot segment', '/v1/./orders', 'dot segment'],
    ['trailing dot-dot', '/v1/orders/..', 'dot segment'],
    ['encoded slash', '/v1/orders%2Fadmin', '%2F'],
    ['encoded slash, lower case', '/v1/orders%2fadmin', '%2F'],
    ['encoded backslash', '/v1/orders%5Cadmin', '%5C'],
    ['raw backslash', '/v1\\admin', 'backslash'],
    ['encoded NUL', '/v1/orders%00.json', 'control'],
    ['encoded CR', '/v1/orders%0D', 'control'],
    ['empty segment', '/v1//admin', 'empty path segment'],
    ['path parameter', '/admin;jsessionid=1/x', 'path parameter'],
    ['invalid escape', '/v1/%zz', 'invalid percent escape'],
    ['truncated escape', '/v1/%4', 'invalid percent escape'],
    ['raw non-ASCII', '/v1/café', 'non-ASCII'],
    ['fragment', '/v1/orders#x', 'fragment'],
    ['absolute form', 'http://x/v1', 'must start with'],
    ['control in query', '/v1?a=\x01', 'query'],
    ['too long', `/${'a'.repeat(9000)}`, 'longer than'],
  ];
  for (const [name, target, error] of bad) {
    it(`rejects ${name}`, () => assert.ok(errorOf(get(target)).includes(error)));
  }
});

describe('analyseHttp: method and headers', () => {
  it('upper-cases the method', () => assert.equal(onePart({ method: 'post', path: '/', headers: {} }).method, 'POST'));
  it('rejects a method that is not a token', () => assert.ok(errorOf({ method: 'GET /x', path: '/', headers: {} }).includes('method')));

  it('lower-cases names and joins multi-values', () => {
    const part = onePart({
      method: 'GET',
      path: '/',
      headers: { 'X-Env': 'prod', Accept: ['a/b', 'c/d'], 'x-skip': undefined, 'X-ENV': 'dev' },
    });
    assert.deepEqual({ ...part.headers }, { 'x-env': 'prod, dev', accept: 'a/b, c/d' });
  });

  it('a header named like an Object member is an ordinary header', () => {
    const part = onePart({ method: 'GET', path: '/', headers: { constructor: 'x' } });
    assert.equal(part.headers['constructor'], 'x');
    assert.equal(part.headers['toString'], undefined);
  });

  it('rejects CR/LF in a header value', () => assert.ok(errorOf({ method: 'GET', path: '/', headers: { a: 'x\r\nb: y' } }).includes('control')));
  it('rejects an invalid header name', () => assert.ok(errorOf({ method: 'GET', path: '/', headers: { 'a b': 'x' } }).includes('header name')));
});

describe('analyseHttp: bodies', () => {
  const json = { 'content-type': 'application/json' };
  const post = (body: Buffer | string | undefined, headers: Record<string, string | string[]> = json): HttpRequest =>
    body === undefined ? { method: 'POST', path: '/v1/pay', headers } : { method: 'POST', path: '/v1/pay', headers, body };

  it('parses a JSON body', () => assert.deepEqual(onePart(post('{"amount": 1200, "to": "x"}')).jsonBody, { amount: 1200, to: 'x' }));
  it('parses a Buffer body', () => assert.deepEqual(onePart(post(Buffer.from('[1,2]'))).jsonBody, [1, 2]));
  it('accepts +json media types with parameters', () =>
    assert.deepEqual(onePart(post('{"a":1}', { 'Content-Type': 'application/merge-patch+json; charset=UTF-8' })).jsonBody, { a: 1 }));
  it('no body: no jsonBody', () => assert.equal(onePart(post(undefined)).jsonBody, undefined));
  it('empty body with a JSON content type: no jsonBody', () => assert.equal(onePart(post('')).jsonBody, undefined));
  it('a body claiming JSON that does not parse is an error', () => assert.ok(errorOf(post('{"amount": ')).includes('not valid JSON')));
  it('a JSON body in another charset is an error', () =>
    assert.ok(errorOf(post('{}', { 'content-type': 'application/json; charset=utf-16' })).includes('charset')));
  it('a JSON body that is not UTF-8 is an error', () => assert.ok(errorOf(post(Buffer.from([0x7b, 0xff, 0x7d]))).includes('UTF-8')));
  it('duplicate keys are an error', () => assert.ok(errorOf(post('{"amount": 1, "amount": 5000}')).includes('duplicate key')));
  it('duplicate keys spelled with escapes are an error', () =>
    assert.ok(errorOf(post('{"amount": 1, "\\u0061mount": 5000}')).includes('duplicate key')));
  it('equal keys in different objects are fine', () =>
    assert.deepEqual(onePart(post('{"a": {"k": 1}, "b": {"k": 2}, "c": ["k", "k"]}')).jsonBody, { a: { k: 1 }, b: { k: 2 }, c: ['k', 'k'] }));
  it('string values with quotes and brackets do not confuse the key check', () =>
    assert.deepEqual(onePart(post('{"a": "x\\"}{,", "b": "a"}')).jsonBody, { a: 'x"}{,', b: 'a' }));
  it('too deep nesting is an error', () => assert.ok(errorOf(post('['.repeat(300) + ']'.repeat(300))).includes('deeper')));
  it('a body over the limit is an error', () => assert.ok(errorOf(post('{"a":"' + 'x'.repeat(100) + '"}'), 64).includes('larger than 64')));
  it('the default limit is 1 MiB', () => {
    const big = `{"a":"${'x'.repeat(1024 * 1024)}"}`;
    assert.ok(errorOf(post(big)).includes('larger than 1048576'));
  });
  it('JSON sent as text/plain is still read (servers often ignore the label)', () =>
    assert.deepEqual(onePart(post('{"amount": 5000}', { 'content-type': 'text/plain' })).jsonBody, { amount: 5000 }));
  it('JSON without a content type is read', () => assert.deepEqual(onePart(post('{"amount": 5000}', {})).jsonBody, { amount: 5000 }));
  it('ambiguous JSON is an error whatever the label', () =>
    assert.ok(errorOf(post('{"a":1,"a":2}', { 'content-type': 'text/plain' })).includes('duplicate key')));
  it('a form body is not JSON', () =>
    assert.equal(onePart(post('amount=5000', { 'content-type': 'application/x-www-form-urlencoded' })).jsonBody, undefined));
  it('text that merely starts with a brace is not JSON', () =>
    assert.equal(onePart(post('{not json', { 'content-type': 'text/plain' })).jsonBody, undefined));
  it('conflicting Content-Type headers are an error', () =>
    assert.ok(errorOf(post('{}', { 'Content-Type': 'text/plain', 'content-type': 'application/json' })).includes('Content-Type')));
});

describe('jsonPathGet', () => {
  const doc = {
    a: { b: 1, 'odd key': 'x', "it's": 2 },
    items: [{ x: 1 }, { x: 2 }, { y: 3 }],
    list: [10, 20],
    n: null,
  };
  const cases: readonly [string, unknown][] = [
    ['$', doc],
    ['$.a.b', 1],
    ["$['a']['b']", 1],
    ['$["a"]["odd key"]', 'x'],
    ["$.a['it\\'s']", 2],
    ['$.items[*].x', [1, 2]],
    ['$.items.*.y', [3]],
    ['$.list[1]', 20],
    ['$.list[5]', undefined],
    ['$.a.missing', undefined],
    ['$.n', null],
    ['$.a.b.c', undefined],
    ['$.list.length', undefined],
    ['$.constructor', undefined],
    ['$.a.*', [1, 'x', 2]],
    ['$.missing[*]', []],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(jsonPathGet(doc, path), want));

  it('jsonPathQuery returns every selected value', () => assert.deepEqual(jsonPathQuery(doc, '$.list[0]'), [10]));

  for (const bad of ['a.b', '$..a', '$.', '$[', '$[x]', "$['a", '$.a[1', '$ a', '$[-1]']) {
    it(`invalid path ${bad}`, () => {
      assert.throws(() => parseJsonPath(bad));
      assert.throws(() => jsonPathGet(doc, bad));
    });
  }
});

describe('matchJsonCondition', () => {
  const cases: readonly [unknown, string, boolean][] = [
    [1200, '>1000', true],
    [1000, '>1000', false],
    [1000, '>=1000', true],
    [5, '<=5', true],
    [6, '<=5', false],
    [-3, '<0', true],
    [1.5, '> 1', true],
    ['5000', '>1000', true],
    ['5e3', '>1000', true],
    ['0x2000', '>1000', false],
    [' 5000', '>1000', false],
    [Infinity, '>1000', true],
    [true, '>0', false],
    [null, '>1000', false],
    [undefined, '>1000', false],
    [{ a: 2000 }, '>1000', false],
    ['prod', 'prod', true],
    ['prod', 'Prod', false],
    ['production', 'prod*', true],
    ['prod', 'prod*', true],
    ['staging', 'prod*', false],
    [42, '42', true],
    [true, 'true', true],
    [null, 'null', true],
    [undefined, 'null', false],
    [{}, '*', false],
    [[1, 2000], '>1000', true],
    [[1, 2], '>1000', false],
    [[], '*', false],
    [['dev', 'prod'], 'prod', true],
  ];
  for (const [value, condition, want] of cases) {
    it(`${JSON.stringify(value) ?? 'undefined'} ${condition} → ${want}`, () => assert.equal(matchJsonCondition(value, condition), want));
  }
});
