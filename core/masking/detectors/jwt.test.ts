import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matched } from '../testing.ts';
import { findJwts, jwt } from './jwt.ts';

function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

const header = b64('{"alg":"RS256","typ":"JWT","kid":"k1"}');
const payload = b64('{"sub":"system:serviceaccount:agents:bot","aud":["portcullis"],"exp":1700000000}');
const signature = b64('not really a signature, but base64url all the same');
const token = `${header}.${payload}.${signature}`;
const unsecured = `${b64('{"alg":"none"}')}.${payload}.`;
const spacedHeader = `${b64('{ "alg": "ES256" }')}.${payload}.${signature}`;
const newlineHeader = `${b64('{\n"alg":"ES256"}')}.${payload}.${signature}`;
const jwe = `${b64('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.${b64('key')}.${b64('iv')}.${b64('ciphertext')}.${b64('tag')}`;

const cases: Array<[string, string, string[]]> = [
  ['bare token', token, [token]],
  ['bearer header', `Authorization: Bearer ${token}`, [token]],
  ['in JSON', `{"token":"${token}"}`, [token]],
  ['after an escaped newline', `"t:\\n${token}"`, [token]],
  ['unsecured (alg none, empty signature)', unsecured, [unsecured]],
  ['header with spaces', spacedHeader, [spacedHeader]],
  ['header starting with a newline', newlineHeader, [newlineHeader]],
  ['JWE, five segments', jwe, [jwe]],
  ['two tokens', `${token} ${unsecured}`, [token, unsecured]],
  ['header is not JSON', `${b64('{not json at all}')}.${payload}.${signature}`, []],
  ['header has no alg', `${b64('{"typ":"JWT","cty":"x"}')}.${payload}.${signature}`, []],
  ['alg is not a string', `${b64('{"alg":256,"typ":"JWT"}')}.${payload}.${signature}`, []],
  ['header is an array', `${b64('[{"alg":"HS256"}]')}.${payload}.${signature}`, []],
  ['two segments only', `${header}.${payload}`, []],
  ['empty payload', `${header}..${signature}`, []],
  ['inside a longer word', `x${token}`, []],
  ['a domain name', 'eyeglasses.example.com', []],
  ['a version string', 'eyJ.1.2', []],
];

for (const [name, text, expected] of cases) {
  test(`jwt: ${name}`, () => {
    assert.deepEqual(matched(findJwts, text), expected);
  });
}

test('jwt: byte pre-filter accepts every token of the table and rejects plain text', () => {
  for (const [, text, expected] of cases) {
    if (expected.length === 0) continue;
    const bytes = Buffer.from(text);
    assert.equal(jwt.mayMatchBytes!(bytes, 0, bytes.length), true, text);
  }
  const plain = Buffer.from('they say the eyes are the key. and then some.');
  assert.equal(jwt.mayMatchBytes!(plain, 0, plain.length), false);
});
