// PostgreSQL's MD5 password response (AuthenticationMD5Password): "md5" + md5hex(md5hex(password + user) + salt).
// Only for the proxy's upstream login to servers still configured for md5; SCRAM is preferred.

import { createHash } from 'node:crypto';

export function md5PasswordResponse(user: string, password: string, salt: Uint8Array): string {
  if (salt.length !== 4) throw new RangeError(`MD5 salt must be 4 bytes, got ${salt.length}`);
  const inner = createHash('md5').update(password, 'utf8').update(user, 'utf8').digest('hex');
  return 'md5' + createHash('md5').update(inner, 'latin1').update(salt).digest('hex');
}
