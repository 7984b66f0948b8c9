// How the verifier gets keys over the network: only from configured places, rate-limited, failing closed, and
// keeping previously fetched keys when the issuer becomes unreachable.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { AuthError, createVerifier, type AuthErrorCode, type FetchLike, type Verifier, type VerifierConfig } from './jwt-verifier.ts';
import { makeKey, sign, startIssuer, startRecorder, testClock, unusedPort, type TestKey } from './test-fixtures.ts';

let key: TestKey;
let attackerKey: TestKey;

before(async () => {
  [key, attackerKey] = await Promise.all([makeKey('ES256'), makeKey('ES256')]);
});

function claimsFor(iss: string, nowSec: number, extra: JWTPayload = {}): JWTPayload {
  return { iss, sub: 'alice', aud: 'portcullis', iat: nowSec, exp: nowSec + 3600, ...extra };
}

async function refused(verifier: Verifier, token: string, code: AuthErrorCode): Promise<AuthError> {
  const error = await verifier.verify(token).then(
    () => assert.fail('the token was accepted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AuthError, String(error));
  assert.equal(error.code, code, error.reason);
  return error;
}

function verifierFor(issuer: string, clock: { now: () => number }, overrides: Partial<VerifierConfig> = {}): Verifier {
  return createVerifier({ issuers: [{ issuer, audiences: ['portcullis'] }], now: clock.now, ...overrides });
}

test('a flood of unknown kids causes at most one refetch per interval, and every such token is refused', async (t) => {
  const issuer = await startIssuer([key.jwk]);
  t.after(() => issuer.close());
  const clock = testClock();
  const verifier = verifierFor(issuer.issuer, clock, { jwksRefetchIntervalSec: 30 });
  assert.equal((await verifier.verify(await sign(key, claimsFor(issuer.issuer, clock.sec())))).subject, 'alice');
  assert.equal(issuer.hits.get('/jwks'), 1);

  const flood = await Promise.all(
    Array.from({ length: 1000 }, () => sign(attackerKey, claimsFor(issuer.issuer, clock.sec()), { kid: randomUUID() })),
  );
  const results = await Promise.allSettled(flood.map((token) => verifier.verify(token)));
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    assert.ok(result.reason instanceof AuthError && result.reason.code === 'unknown_key', String(result.reason));
  }
  // Within the interval of the first fetch: no refetch at all.
  assert.equal(issuer.hits.get('/jwks'), 1);
  assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1);

  // After the interval, the next flood is worth exactly one refetch, shared by all concurrent requests.
  clock.ms += 31_000;
  const second = await Promise.allSettled(flood.slice(0, 200).map((token) => verifier.verify(token)));
  assert.ok(second.every((r) => r.status === 'rejected'));
  assert.equal(issuer.hits.get('/jwks'), 2);
});

test('an unknown kid refetches (after the interval) and picks up a rotated key', async (t) => {
  const issuer = await startIssuer([key.jwk]);
  t.after(() => issuer.close());
  const clock = testClock();
  const verifier = verifierFor(issuer.issuer, clock, { jwksRefetchIntervalSec: 10 });
  await verifier.verify(await sign(key, claimsFor(issuer.issuer, clock.sec())));
  const rotated = await makeKey('ES256');
  issuer.keys = [key.jwk, rotated.jwk];
  clock.ms += 11_000;
  const identity = await verifier.verify(await sign(rotated, claimsFor(issuer.issuer, clock.sec())));
  assert.equal(identity.subject, 'alice');
  assert.equal(issuer.hits.get('/jwks'), 2);
});

test('JWKS unreachable and nothing cached: refused with a clear error, retries rate-limited', async () => {
  const port = await unusedPort();
  const issuerUrl = `http://127.0.0.1:${port}`;
  const clock = testClock();
  const failures: unknown[] = [];
  const verifier = verifierFor(issuerUrl, clock, {
    jwksTimeoutMs: 2000,
    onJwksFetch: (_issuer, outcome, error) => {
      if (outcome === 'error') failures.push(error);
    },
  });
  const token = await sign(key, claimsFor(issuerUrl, clock.sec()));
  const error = await refused(verifier, token, 'jwks_unavailable');
  assert.match(error.reason, /signing keys are unavailable/);
  assert.ok(error.cause instanceof Error && error.cause.message.includes(issuerUrl), 'the log-side cause names the URL');
  await Promise.all(Array.from({ length: 50 }, () => refused(verifier, token, 'jwks_unavailable')));
  assert.equal(failures.length, 1, 'no new attempt within the retry interval');
  clock.ms += 6_000;
  await refused(verifier, token, 'jwks_unavailable');
  assert.equal(failures.length, 2);
});

test('JWKS server down after a successful fetch: known kids keep working, unknown kids are refused', async () => {
  const issuer = await startIssuer([key.jwk]);
  const clock = testClock();
  const verifier = verifierFor(issuer.issuer, clock, { jwksMaxAgeSec: 60 });
  await verifier.verify(await sign(key, claimsFor(issuer.issuer, clock.sec())));
  await issuer.close();
  // Past the refetch interval and the max age: the refresh fails, and the cached keys stay in force.
  clock.ms += 120_000;
  const identity = await verifier.verify(await sign(key, claimsFor(issuer.issuer, clock.sec())));
  assert.equal(identity.subject, 'alice');
  await refused(verifier, await sign(attackerKey, claimsFor(issuer.issuer, clock.sec())), 'unknown_key');
});

test('jku, x5u, jwk and x5c headers are never fetched nor trusted', async (t) => {
  const issuer = await startIssuer([key.jwk]);
  const attacker = await startRecorder();
  t.after(() => Promise.all([issuer.close(), attacker.close()]));
  const clock = testClock();
  const verifier = verifierFor(issuer.issuer, clock);
  const headers: Array<Record<string, unknown>> = [
    { jku: `${attacker.url}/jwks.json` },
    { x5u: `${attacker.url}/cert.pem` },
    { jwk: attackerKey.jwk },
    { kid: `${attacker.url}/key`, jku: `${attacker.url}/jwks.json`, x5u: `${attacker.url}/x5u` },
    { x5c: ['MIIB'], x5u: `${attacker.url}/x5u` },
  ];
  for (const header of headers) {
    const token = await sign(attackerKey, claimsFor(issuer.issuer, clock.sec()), header);
    const error = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AuthError, `accepted a token with header ${Object.keys(header).join(',')}`);
    assert.ok(['unknown_key', 'signature'].includes(error.code), error.code);
  }
  // A legitimately signed token that also names an attacker URL is accepted on its signature alone.
  const token = await sign(key, claimsFor(issuer.issuer, clock.sec()), { jku: `${attacker.url}/jwks.json` });
  assert.equal((await verifier.verify(token)).subject, 'alice');
  assert.deepEqual(attacker.requests, []);
});

test('the discovery document must name the configured issuer', async (t) => {
  const issuer = await startIssuer([key.jwk]);
  t.after(() => issuer.close());
  issuer.advertisedIssuer = 'https://someone-else.example';
  const clock = testClock();
  const verifier = verifierFor(issuer.issuer, clock);
  await refused(verifier, await sign(key, claimsFor(issuer.issuer, clock.sec())), 'jwks_unavailable');
  assert.equal(issuer.hits.get('/jwks'), undefined, 'no keys fetched from an unconfirmed document');
});

test('a configured jwks.uri is used instead of discovery', async (t) => {
  const issuer = await startIssuer([key.jwk]);
  t.after(() => issuer.close());
  const clock = testClock();
  const verifier = createVerifier({
    issuers: [{ issuer: 'https://cluster.example', audiences: ['portcullis'], jwks: { uri: issuer.jwksUri } }],
    now: clock.now,
  });
  const identity = await verifier.verify(await sign(key, claimsFor('https://cluster.example', clock.sec())));
  assert.equal(identity.issuer, 'https://cluster.example');
  assert.equal(issuer.hits.get('/.well-known/openid-configuration'), undefined);
  assert.equal(issuer.hits.get('/jwks'), 1);
});

test('an injected fetch replaces the HTTP getter', async () => {
  const clock = testClock();
  const requested: string[] = [];
  const fetch: FetchLike = (url) => {
    requested.push(url);
    const body = url.endsWith('/.well-known/openid-configuration')
      ? { issuer: 'https://idp.example', jwks_uri: 'https://idp.example/keys' }
      : { keys: [key.jwk] };
    return Promise.resolve({ status: 200, text: () => Promise.resolve(JSON.stringify(body)) });
  };
  const verifier = createVerifier({ issuers: [{ issuer: 'https://idp.example', audiences: ['portcullis'] }], fetch, now: clock.now });
  await verifier.verify(await sign(key, claimsFor('https://idp.example', clock.sec())));
  assert.deepEqual(requested, ['https://idp.example/.well-known/openid-configuration', 'https://idp.example/keys']);
});

test('a JWKS file (standalone mode) is read, and re-read for an unknown kid after the interval', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'jwks.json');
  await writeFile(file, JSON.stringify({ keys: [key.jwk] }));
  const clock = testClock();
  const issuer = 'https://portcullis.local';
  const verifier = createVerifier({
    issuers: [{ issuer, audiences: ['portcullis'], jwks: { file } }],
    jwksRefetchIntervalSec: 5,
    now: clock.now,
  });
  await verifier.verify(await sign(key, claimsFor(issuer, clock.sec())));
  const rotated = await makeKey('EdDSA');
  await writeFile(file, JSON.stringify({ keys: [rotated.jwk] }));
  await refused(verifier, await sign(rotated, claimsFor(issuer, clock.sec())), 'unknown_key');
  clock.ms += 6_000;
  assert.equal((await verifier.verify(await sign(rotated, claimsFor(issuer, clock.sec())))).subject, 'alice');
});

test('a JWKS that is missing, not JSON or without public keys is refused as unavailable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const issuer = 'https://portcullis.local';
  const cases: Array<[string, string | undefined]> = [
    ['missing.json', undefined],
    ['garbage.json', 'not json'],
    ['empty.json', '{"keys":[]}'],
    ['private.json', JSON.stringify({ keys: [{ ...key.jwk, d: 'AAAA' }] })],
    ['symmetric.json', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: key.kid }] })],
  ];
  for (const [name, content] of cases) {
    const file = join(dir, name);
    if (content !== undefined) await writeFile(file, content);
    const clock = testClock();
    const verifier = createVerifier({ issuers: [{ issuer, audiences: ['portcullis'], jwks: { file } }], now: clock.now });
    await refused(verifier, await sign(key, claimsFor(issuer, clock.sec())), 'jwks_unavailable');
  }
});
