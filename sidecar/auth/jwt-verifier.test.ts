import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { exportSPKI, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { AuthError, createVerifier, type AuthErrorCode, type VerifierConfig } from './jwt-verifier.ts';
import { makeKey, sign, startIssuer, testClock, type TestIssuer, type TestKey } from './test-fixtures.ts';

const clock = testClock();
let issuer: TestIssuer;
let key: TestKey;
let rsaKey: TestKey;
let edKey: TestKey;
let otherKey: TestKey;
let ed25519Key: TestKey;

before(async () => {
  [key, rsaKey, edKey, otherKey, ed25519Key] = await Promise.all([
    makeKey('ES256'), makeKey('RS256'), makeKey('EdDSA'), makeKey('ES256'), makeKey('Ed25519'),
  ]);
  issuer = await startIssuer([key.jwk, rsaKey.jwk, edKey.jwk, ed25519Key.jwk]);
});
after(() => issuer.close());

function config(overrides: Partial<VerifierConfig> = {}): VerifierConfig {
  return { issuers: [{ issuer: issuer.issuer, audiences: ['portcullis'] }], now: clock.now, ...overrides };
}

function claims(overrides: JWTPayload = {}): JWTPayload {
  const now = clock.sec();
  return { iss: issuer.issuer, sub: 'alice', aud: 'portcullis', iat: now, nbf: now, exp: now + 600, ...overrides };
}

async function refusal(promise: Promise<unknown>, token: string): Promise<AuthError> {
  const error = await promise.then(
    () => assert.fail('the token was accepted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AuthError, `expected AuthError, got ${String(error)}`);
  assert.ok(!error.reason.includes(token) && !error.message.includes(token), 'the error must not carry the token');
  return error;
}

async function assertRefused(token: string, code: AuthErrorCode, cfg: VerifierConfig = config()): Promise<AuthError> {
  const error = await refusal(createVerifier(cfg).verify(token), token);
  assert.equal(error.code, code, `reason: ${error.reason}`);
  return error;
}

test('a valid token yields the identity (OIDC discovery, ES256/RS256/EdDSA/Ed25519)', async () => {
  const verifier = createVerifier(config());
  for (const k of [key, rsaKey, edKey, ed25519Key]) {
    const token = await sign(k, claims({ sub: `user-${k.alg}`, groups: ['support', 'oncall'] }));
    const identity = await verifier.verify(token);
    assert.equal(identity.subject, `user-${k.alg}`);
    assert.equal(identity.issuer, issuer.issuer);
    assert.deepEqual(identity.groups, ['support', 'oncall']);
    assert.equal(identity.expiresAt.getTime(), (clock.sec() + 600) * 1000);
    assert.equal(identity.claims.sub, `user-${k.alg}`);
  }
});

test('aud may be a list; one accepted audience is enough', async () => {
  const token = await sign(key, claims({ aud: ['other', 'portcullis'] }));
  assert.equal((await createVerifier(config()).verify(token)).subject, 'alice');
});

test('alg none is refused', async () => {
  const token = new UnsecuredJWT(claims()).encode();
  await assertRefused(token, 'algorithm');
});

test('HS256 signed with the public key as the secret (algorithm confusion) is refused', async () => {
  const pem = await exportSPKI(rsaKey.publicKey);
  for (const secret of [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(rsaKey.jwk))]) {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsaKey.kid }).sign(secret);
    await assertRefused(token, 'algorithm');
  }
});

test('tokens with a header alg outside the allow-list are refused before any key lookup', async () => {
  for (const alg of ['HS384', 'HS512', 'none', 'NONE', 'RSA-OAEP', '']) {
    const header = Buffer.from(JSON.stringify({ alg, kid: key.kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims())).toString('base64url');
    await assertRefused(`${header}.${body}.c2lnbmF0dXJl`, 'algorithm');
  }
});

test('a token signed by a key outside the issuer JWKS is refused', async () => {
  await assertRefused(await sign(otherKey, claims()), 'unknown_key');
  // Same kid as a configured key, different key material: the signature check catches it.
  await assertRefused(await sign({ ...otherKey, kid: key.kid }, claims()), 'signature');
});

test('issuer checks', async () => {
  await assertRefused(await sign(key, claims({ iss: 'https://evil.example' })), 'untrusted_issuer');
  await assertRefused(await sign(key, claims({ iss: `${issuer.issuer}/` })), 'untrusted_issuer');
  await assertRefused(await sign(key, claims({ iss: undefined })), 'untrusted_issuer');
});

test('audience checks', async () => {
  await assertRefused(await sign(key, claims({ aud: 'kubernetes' })), 'audience');
  await assertRefused(await sign(key, claims({ aud: ['a', 'b'] })), 'audience');
  await assertRefused(await sign(key, claims({ aud: undefined })), 'audience');
});

test('time checks honour the clock tolerance', async () => {
  const now = clock.sec();
  const cases: Array<{ name: string; claims: JWTPayload; tolerance?: number; code?: AuthErrorCode }> = [
    { name: 'expired', claims: { exp: now - 120 }, code: 'expired' },
    { name: 'expired within tolerance', claims: { exp: now - 20 } },
    { name: 'expired just beyond tolerance', claims: { exp: now - 30 }, code: 'expired' },
    { name: 'expired, tolerance 0', claims: { exp: now - 1 }, tolerance: 0, code: 'expired' },
    { name: 'no exp', claims: { exp: undefined }, code: 'expired' },
    { name: 'exp not a number', claims: { exp: 'tomorrow' as unknown as number }, code: 'invalid_claims' },
    { name: 'nbf in the future beyond tolerance', claims: { nbf: now + 120 }, code: 'not_yet_valid' },
    { name: 'nbf in the future within tolerance', claims: { nbf: now + 20 } },
    { name: 'nbf within a 60 s tolerance', claims: { nbf: now + 55 }, tolerance: 60 },
    { name: 'iat in the future beyond tolerance', claims: { iat: now + 120, nbf: undefined }, code: 'not_yet_valid' },
    { name: 'iat in the future within tolerance', claims: { iat: now + 20 } },
  ];
  for (const c of cases) {
    const token = await sign(key, claims(c.claims));
    const cfg = config(c.tolerance === undefined ? {} : { clockToleranceSec: c.tolerance });
    if (c.code === undefined) {
      assert.equal((await createVerifier(cfg).verify(token)).subject, 'alice', c.name);
    } else {
      await assertRefused(token, c.code, cfg);
    }
  }
});

test('subject and groups must be well-formed', async () => {
  await assertRefused(await sign(key, claims({ sub: undefined })), 'invalid_claims');
  await assertRefused(await sign(key, claims({ sub: '' })), 'invalid_claims');
  await assertRefused(await sign(key, claims({ groups: 'support' })), 'invalid_claims');
  await assertRefused(await sign(key, claims({ groups: ['support', 7] })), 'invalid_claims');
  const identity = await createVerifier(config()).verify(await sign(key, claims()));
  assert.deepEqual(identity.groups, []);
});

test('required claims: a value, or any element of an array claim, must be accepted', async () => {
  const cfg = config({ claims: { groups: ['support', 'sre'], tenant: ['acme'] } });
  const verifier = createVerifier(cfg);
  const ok = await verifier.verify(await sign(key, claims({ groups: ['dev', 'sre'], tenant: 'acme' })));
  assert.deepEqual(ok.groups, ['dev', 'sre']);
  const refused: JWTPayload[] = [
    { groups: ['dev'], tenant: 'acme' },
    { tenant: 'acme' },
    { groups: ['support'] },
    { groups: ['support'], tenant: 'other' },
    { groups: ['support'], tenant: ['other', 'acme2'] },
  ];
  for (const extra of refused) await assertRefused(await sign(key, claims(extra)), 'claims', cfg);
  // `sub` is matched against the subject.
  const bySubject = config({ claims: { sub: ['alice'] } });
  assert.equal((await createVerifier(bySubject).verify(await sign(key, claims()))).subject, 'alice');
  await assertRefused(await sign(key, claims({ sub: 'bob' })), 'claims', bySubject);
});

test('an oversize token is refused before any work is done', async () => {
  const fetched = issuer.totalHits();
  const token = await sign(key, claims({ padding: 'x'.repeat(20 * 1024) }));
  await assertRefused(token, 'too_large');
  await assertRefused(await sign(key, claims({ padding: 'x'.repeat(2000) })), 'too_large', config({ maxTokenBytes: 1024 }));
  assert.equal(issuer.totalHits(), fetched);
});

test('malformed tokens are refused', async () => {
  const good = await sign(key, claims());
  const [h, p, s] = good.split('.') as [string, string, string];
  const cases = ['', 'abc', 'a.b', `${h}.${p}`, `${h}.${p}.${s}.x`, `${h}.${p}.${s}=`, `${h}.@@@.${s}`, `e30.${p}.${s}`,
    `${Buffer.from('not json').toString('base64url')}.${p}.${s}`, `${h}.${Buffer.from('[1]').toString('base64url')}.${s}`];
  for (const token of cases) {
    const error = await refusal(createVerifier(config()).verify(token), token || '\u0000');
    assert.ok(['malformed', 'algorithm', 'untrusted_issuer'].includes(error.code), `${token}: ${error.code}`);
  }
  await assertRefused(`${h}.${p}.${s.slice(0, -4)}AAAA`, 'signature');
  await assertRefused(12 as unknown as string, 'malformed');
});

test('surrounding whitespace (a token file with a newline) is tolerated', async () => {
  const token = await sign(key, claims());
  assert.equal((await createVerifier(config()).verify(`${token}\n`)).subject, 'alice');
});

test('a token without kid is checked against every candidate key of its alg', async () => {
  const second = await makeKey('ES256');
  const cfg = config({ issuers: [{ issuer: issuer.issuer, audiences: ['portcullis'], jwks: { keys: { keys: [key.jwk, second.jwk] } } }] });
  const verifier = createVerifier(cfg);
  for (const k of [key, second]) {
    const token = await sign(k, claims(), { kid: undefined });
    assert.equal((await verifier.verify(token)).subject, 'alice');
  }
  await assertRefused(await sign(otherKey, claims(), { kid: undefined }), 'signature', cfg);
});

test('several issuers: each token is verified with its own issuer keys and audiences only', async () => {
  const other = { issuer: 'https://idp.example', audiences: ['agents'], jwks: { keys: { keys: [otherKey.jwk] } } };
  const cfg = config({ issuers: [{ issuer: issuer.issuer, audiences: ['portcullis'] }, other] });
  const verifier = createVerifier(cfg);
  const human = await verifier.verify(await sign(otherKey, claims({ iss: other.issuer, aud: 'agents', sub: 'bob' })));
  assert.equal(human.issuer, other.issuer);
  // The right key but the other issuer's audience, or a key of the wrong issuer: refused.
  await assertRefused(await sign(otherKey, claims({ iss: other.issuer, aud: 'portcullis' })), 'audience', cfg);
  await assertRefused(await sign(key, claims({ iss: other.issuer, aud: 'agents' })), 'unknown_key', cfg);
  await assertRefused(await sign(otherKey, claims()), 'unknown_key', cfg);
});

test('configuration errors are reported when the verifier is built', () => {
  const bad: Array<[string, Partial<VerifierConfig>]> = [
    ['no issuers', { issuers: [] }],
    ['tolerance above 60 s', { clockToleranceSec: 61 }],
    ['negative tolerance', { clockToleranceSec: -1 }],
    ['empty audiences', { issuers: [{ issuer: 'https://a.example', audiences: [] }] }],
    ['duplicate issuer', { issuers: [{ issuer: 'https://a.example', audiences: ['x'] }, { issuer: 'https://a.example', audiences: ['y'] }] }],
    ['two key sources', { issuers: [{ issuer: 'https://a.example', audiences: ['x'], jwks: { file: '/tmp/x', uri: 'https://a.example/jwks' } }] }],
    ['plain http JWKS off loopback', { issuers: [{ issuer: 'https://a.example', audiences: ['x'], jwks: { uri: 'http://a.example/jwks' } }] }],
    ['plain http issuer discovery off loopback', { issuers: [{ issuer: 'http://a.example', audiences: ['x'] }] }],
    ['issuer is not a URL for discovery', { issuers: [{ issuer: 'kubernetes/serviceaccount', audiences: ['x'] }] }],
    ['empty required-claim list', { claims: { groups: [] } }],
    ['empty pod name', { podBinding: { name: '' } }],
    ['inline JWKS without public keys', { issuers: [{ issuer: 'x', audiences: ['x'], jwks: { keys: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } } }] }],
  ];
  for (const [name, overrides] of bad) assert.throws(() => createVerifier(config(overrides)), Error, name);
});
