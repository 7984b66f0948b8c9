// MD5 password responses, checked against values computed independently (Python's hashlib).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { md5PasswordResponse } from './md5.ts';

describe('md5PasswordResponse', () => {
  const cases = [
    { user: 'postgres', password: 'secret', salt: [1, 2, 3, 4], want: 'md5bb41a296aab6baccb36ff243a562abff' },
    { user: 'agent', password: 'pässword', salt: [0xff, 0, 0x80, 7], want: 'md5a2d81b4494551a4d572358c139fcae64' },
  ];
  for (const c of cases) {
    it(`${c.user} with salt ${c.salt.join(',')}`, () => {
      assert.equal(md5PasswordResponse(c.user, c.password, Buffer.from(c.salt)), c.want);
    });
  }

  it('depends on the salt', () => {
    assert.notEqual(md5PasswordResponse('u', 'p', Buffer.from([0, 0, 0, 0])), md5PasswordResponse('u', 'p', Buffer.from([0, 0, 0, 1])));
  });

  it('refuses a salt that is not 4 bytes', () => {
    assert.throws(() => md5PasswordResponse('u', 'p', Buffer.alloc(3)), RangeError);
  });
});
