import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matched } from '../testing.ts';
import { findPrivateKeys, privateKey } from './private-key.ts';

const body = 'MIIEowIBAAKCAQEAvRk3\nq9Xb1+2/abc=';
const rsa = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
const pkcs8 = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
const openssh = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----`;
const encrypted = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${body}\n-----END ENCRYPTED PRIVATE KEY-----`;
const pgp = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${body}\n-----END PGP PRIVATE KEY BLOCK-----`;
const cert = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`;
/** What json_agg/row_to_json make of a key: newlines escaped, inside quotes. */
const jsonEscaped = JSON.stringify(rsa).slice(1, -1);

const cases: Array<[string, string, string[]]> = [
  ['RSA', rsa, [rsa]],
  ['PKCS#8', pkcs8, [pkcs8]],
  ['OpenSSH', openssh, [openssh]],
  ['encrypted', encrypted, [encrypted]],
  ['PGP block', pgp, [pgp]],
  ['with text around', `key:\n${rsa}\ntrailing`, [rsa]],
  ['two keys', `${pkcs8}\n${openssh}`, [pkcs8, openssh]],
  ['in json_agg output', `[{"name":"deploy","key":"${jsonEscaped}"},{"name":"x"}]`, [jsonEscaped]],
  ['no END: to the end of the value', `-----BEGIN EC PRIVATE KEY-----\n${body}`, [`-----BEGIN EC PRIVATE KEY-----\n${body}`]],
  ['no END in JSON: to the closing quote', `["-----BEGIN PRIVATE KEY-----\\nMIIE", "next"]`, ['-----BEGIN PRIVATE KEY-----\\nMIIE']],
  ['escaped quote stays an escape', `"-----BEGIN PRIVATE KEY-----\\nMIIE\\" more"`, ['-----BEGIN PRIVATE KEY-----\\nMIIE']],
  ['END of another label does not end the key', `-----BEGIN PRIVATE KEY-----\n${body}\n-----END CERTIFICATE-----\nrest`, [`-----BEGIN PRIVATE KEY-----\n${body}\n-----END CERTIFICATE-----\nrest`]],
  ['a certificate is not a private key', cert, []],
  ['a public key is not a private key', `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`, []],
  ['a label that is too long', `-----BEGIN ${'X'.repeat(80)} PRIVATE KEY-----\n${body}`, []],
  ['no BEGIN', `${body}\n-----END PRIVATE KEY-----`, []],
];

for (const [name, text, expected] of cases) {
  test(`private-key: ${name}`, () => {
    assert.deepEqual(matched(findPrivateKeys, text), expected);
  });
}

test('private-key: byte pre-filter finds the BEGIN line inside its range only', () => {
  const bytes = Buffer.from(`xx ${pkcs8}`);
  assert.equal(privateKey.mayMatchBytes!(bytes, 0, bytes.length), true);
  assert.equal(privateKey.mayMatchBytes!(bytes, 4, bytes.length), false);
  assert.equal(privateKey.mayMatchBytes!(Buffer.from('----------BEGIN'), 0, 15), false);
});
