// SCRAM-SHA-256 client: RFC 7677's test vector, a full exchange against an independent server-side computation,
// and refusal of every malformed or dishonest server message.

import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProtocolError } from './errors.ts';
import { saslprep } from './saslprep.ts';
import { ScramKeyCache, ScramSha256Client } from './scram.ts';

const text = (b: Buffer): string => b.toString('utf8');

describe('SCRAM-SHA-256 client', () => {
  it('reproduces the RFC 7677 example exchange', async () => {
    const c = new ScramSha256Client('pencil', { user: 'user', nonce: 'rOprNGfwEbeRWgbNEkqO' });
    assert.equal(text(c.clientFirstMessage()), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = await c.clientFinalMessage(Buffer.from(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    assert.equal(text(final),
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    c.verifyServerFinal(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
  });

  it('logs in against a server holding only the verifier (as PostgreSQL does), with a random nonce', async () => {
    const password = 'correct horse battery staple';
    const salt = randomBytes(16);
    const iterations = 4096;
    const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
    const hmac = (k: Buffer, d: string): Buffer => createHmac('sha256', k).update(d).digest();
    const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
    const serverKey = hmac(salted, 'Server Key');

    const cache = new ScramKeyCache();
    for (let login = 0; login < 2; login++) {
      const c = new ScramSha256Client(password, { cache });
      const first = text(c.clientFirstMessage());
      assert.match(first, /^n,,n=,r=[A-Za-z0-9+/]{24}$/);
      const bare = first.slice(3);
      const serverFirst = `r=${bare.slice(5)}${randomBytes(18).toString('base64')},s=${salt.toString('base64')},i=${iterations}`;
      const final = text(await c.clientFinalMessage(Buffer.from(serverFirst)));
      const [withoutProof, proof] = final.split(',p=') as [string, string];
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const clientKey = Buffer.from(proof, 'base64').map((x, i) => x ^ (signature[i] as number));
      assert.deepEqual(createHash('sha256').update(clientKey).digest(), storedKey, 'server accepts the proof');
      c.verifyServerFinal(Buffer.from(`v=${hmac(serverKey, authMessage).toString('base64')}`));
    }
  });

  it('caches salted passwords per salt and iteration count', async () => {
    const cache = new ScramKeyCache(2);
    const salt = Buffer.from('salt');
    const a = await cache.saltedPassword('pw', salt, 10);
    assert.equal(await cache.saltedPassword('pw', salt, 10), a);
    assert.notEqual(await cache.saltedPassword('pw', salt, 11), a);
    assert.deepEqual(a, pbkdf2Sync('pw', salt, 10, 32, 'sha256'));
  });

  async function clientAfterFinal(): Promise<ScramSha256Client> {
    const c = new ScramSha256Client('pencil', { user: 'user', nonce: 'rOprNGfwEbeRWgbNEkqO' });
    c.clientFirstMessage();
    await c.clientFinalMessage(Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    return c;
  }

  const finals: { name: string; message: string; error: RegExp }[] = [
    { name: 'a wrong server signature', message: 'v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', error: /server signature does not match/ },
    { name: 'a short server signature', message: 'v=AAAA', error: /server signature does not match/ },
    { name: 'an error reply', message: 'e=invalid-proof', error: /server reported invalid-proof/ },
    { name: 'a malformed reply', message: 'x=1', error: /malformed server-final-message/ },
    { name: 'a reply with an extension', message: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=1', error: /malformed server-final/ },
  ];
  for (const f of finals) {
    it(`refuses ${f.name} in server-final-message`, async () => {
      const c = await clientAfterFinal();
      assert.throws(() => c.verifyServerFinal(Buffer.from(f.message)), (e: unknown) => e instanceof ProtocolError && f.error.test(e.message));
    });
  }

  const firsts: { name: string; message: string; error: RegExp }[] = [
    { name: 'a nonce that does not extend ours', message: 'r=XXprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', error: /does not extend/ },
    { name: 'a nonce equal to ours', message: 'r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', error: /does not extend/ },
    { name: 'a mandatory extension', message: 'm=ext,r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', error: /malformed server-first/ },
    { name: 'a missing salt', message: 'r=rOprNGfwEbeRWgbNEkqOabc,i=4096', error: /malformed server-first/ },
    { name: 'a salt that is not base64', message: 'r=rOprNGfwEbeRWgbNEkqOabc,s=W22*,i=4096', error: /malformed salt/ },
    { name: 'an empty salt', message: 'r=rOprNGfwEbeRWgbNEkqOabc,s=,i=4096', error: /malformed salt/ },
    { name: 'zero iterations', message: 'r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0', error: /malformed iteration count/ },
    { name: 'a non-numeric iteration count', message: 'r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4k', error: /malformed iteration count/ },
    { name: 'too many iterations', message: 'r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10000001', error: /exceeds the limit/ },
    { name: 'trailing attributes', message: 'r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=y', error: /malformed server-first/ },
  ];
  for (const f of firsts) {
    it(`refuses ${f.name} in server-first-message`, async () => {
      const c = new ScramSha256Client('pencil', { nonce: 'rOprNGfwEbeRWgbNEkqO' });
      c.clientFirstMessage();
      await assert.rejects(c.clientFinalMessage(Buffer.from(f.message)), (e: unknown) => e instanceof ProtocolError && f.error.test(e.message));
    });
  }

  it('refuses steps out of order', async () => {
    const c = new ScramSha256Client('pw');
    await assert.rejects(c.clientFinalMessage(Buffer.from('r=x,s=AAAA,i=1')), /unexpected step in state initial/);
    const d = new ScramSha256Client('pw');
    d.clientFirstMessage();
    assert.throws(() => d.clientFirstMessage(), /unexpected step in state first-sent/);
    assert.throws(() => d.verifyServerFinal(Buffer.from('v=AAAA')), /unexpected step/);
  });

  it('escapes "=" and "," in the user name and refuses a nonce with a comma', () => {
    const c = new ScramSha256Client('pw', { user: 'a=b,c', nonce: 'abc' });
    assert.equal(text(c.clientFirstMessage()), 'n,,n=a=3Db=2Cc,r=abc');
    assert.throws(() => new ScramSha256Client('pw', { nonce: 'a,b' }), RangeError);
  });
});

describe('saslprep', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'ASCII is used as it is', input: 'pencil', want: 'pencil' },
    { name: 'ASCII control characters are kept (libpq checks ASCII first)', input: 'a\u0007b', want: 'a\u0007b' },
    { name: 'soft hyphen is mapped to nothing (RFC 4013 example)', input: 'I\u00ADX', want: 'IX' },
    { name: 'non-ASCII space becomes SPACE', input: 'a\u00A0b\u3000c', want: 'a b c' },
    { name: 'NFKC: feminine ordinal (RFC 4013 example)', input: '\u00AA', want: 'a' },
    { name: 'NFKC: roman numeral nine (RFC 4013 example)', input: '\u2168', want: 'IX' },
    { name: 'NFKC: ligature', input: 'ﬁsh', want: 'fish' },
    { name: 'prohibited character: the password is used unprepared', input: '\u0007\u00AA', want: '\u0007\u00AA' },
    { name: 'private use: unprepared', input: '\uE000\u00AA', want: '\uE000\u00AA' },
    { name: 'bidi rule broken (RTL then a digit): unprepared', input: '\u0627\u00AD\u0031', want: '\u0627\u00AD\u0031' },
    { name: 'bidi rule broken (RTL with LTR letter): unprepared', input: '\u0627b\u00AD\u0628', want: '\u0627b\u00AD\u0628' },
    { name: 'pure RTL is prepared', input: '\u0627\u00AD\u0628', want: '\u0627\u0628' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(saslprep(c.input), c.want));
});
