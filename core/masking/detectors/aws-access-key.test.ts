import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matched } from '../testing.ts';
import { awsAccessKey, findAwsAccessKeys } from './aws-access-key.ts';

const cases: Array<[string, string, string[]]> = [
  ['AKIA', 'AKIAIOSFODNN7EXAMPLE', ['AKIAIOSFODNN7EXAMPLE']],
  ['ASIA', 'ASIAY34FZKBOKMUTVV7A', ['ASIAY34FZKBOKMUTVV7A']],
  ['ABIA', 'ABIA1234567890ABCDEF', ['ABIA1234567890ABCDEF']],
  ['ACCA', 'ACCA1234567890ABCDEF', ['ACCA1234567890ABCDEF']],
  ['env line', 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', ['AKIAIOSFODNN7EXAMPLE']],
  ['in JSON', '{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A","x":1}', ['ASIAY34FZKBOKMUTVV7A']],
  ['after lower case', 'keyAKIAIOSFODNN7EXAMPLE', ['AKIAIOSFODNN7EXAMPLE']],
  ['after an escaped unicode character', '"\\u001FAKIAIOSFODNN7EXAMPLE"', ['AKIAIOSFODNN7EXAMPLE']],
  ['two', 'AKIAIOSFODNN7EXAMPLE ASIAY34FZKBOKMUTVV7A', ['AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A']],
  ['other prefix', 'AXIAIOSFODNN7EXAMPLE', []],
  ['too short', 'AKIAIOSFODNN7EXAMPL', []],
  ['too long', 'AKIAIOSFODNN7EXAMPLEX', []],
  ['inside a longer run', 'XAKIAIOSFODNN7EXAMPLE', []],
  ['lower case inside', 'AKIAIOSFODNn7EXAMPLE', []],
];

for (const [name, text, expected] of cases) {
  test(`aws-access-key: ${name}`, () => {
    assert.deepEqual(matched(findAwsAccessKeys, text), expected);
  });
}

test('aws-access-key: byte pre-filter needs a prefix with room for a key', () => {
  const bytes = Buffer.from('id AKIAIOSFODNN7EXAMPLE');
  assert.equal(awsAccessKey.mayMatchBytes!(bytes, 0, bytes.length), true);
  assert.equal(awsAccessKey.mayMatchBytes!(bytes, 0, bytes.length - 1), false);
  assert.equal(awsAccessKey.mayMatchBytes!(Buffer.from('AAAAAAAAAAAAAAAAAAAAAAAAA'), 0, 25), false);
});
