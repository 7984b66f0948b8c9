import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { createVerifier } from '../sidecar/auth/jwt-verifier.ts';
import { initKeys, mintToken, tokenCommand, TokenUsageError, type TokenCommandIo } from './token.ts';

const ISSUER = 'https://portcullis.local';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-token-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function verifierFor(dir: string, now: number, audiences = ['portcullis']) {
  return createVerifier({ issuers: [{ issuer: ISSUER, audiences, jwks: { file: join(dir, 'jwks.json') } }], now: () => now });
}

function capture(): TokenCommandIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: { write: (s: string) => (io.out += s) },
    stderr: { write: (s: string) => (io.err += s) },
  };
  return io;
}

test('initKeys writes a private key (0600) and a public JWKS whose kid is the thumbprint', async (t) => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const dir = join(await tempDir(t), 'keys');
    const result = await initKeys(dir, { alg });
    assert.equal((await stat(result.signingKeyFile)).mode & 0o777, 0o600);
    assert.match(await readFile(result.signingKeyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const jwks = JSON.parse(await readFile(result.jwksFile, 'utf8')) as { keys: JWK[] };
    assert.equal(jwks.keys.length, 1);
    const [jwk] = jwks.keys as [JWK];
    assert.equal(jwk.kid, result.kid);
    assert.equal(jwk.alg, alg);
    assert.equal(jwk.d, undefined, 'no private material in the JWKS');
    assert.equal(await calculateJwkThumbprint(jwk), result.kid);
  }
});

test('initKeys refuses to replace a key unless forced', async (t) => {
  const dir = await tempDir(t);
  const first = await initKeys(dir);
  await assert.rejects(initKeys(dir), /already exists/);
  assert.equal(JSON.parse(await readFile(first.jwksFile, 'utf8')).keys[0].kid, first.kid, 'the JWKS is untouched');
  const second = await initKeys(dir, { force: true });
  assert.notEqual(second.kid, first.kid);
});

test('a minted token verifies with the sidecar verifier and carries what was asked', async (t) => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const dir = await tempDir(t);
    const { kid } = await initKeys(dir, { alg });
    const now = Date.UTC(2030, 0, 1);
    const token = await mintToken({ dir, issuer: ISSUER, subject: 'support-bot', groups: ['support', 'oncall'], ttl: '15m', claims: { team: 'payments' }, now });
    assert.deepEqual(decodeProtectedHeader(token), { alg, kid, typ: 'JWT' });
    const identity = await verifierFor(dir, now).verify(token);
    assert.equal(identity.subject, 'support-bot');
    assert.deepEqual(identity.groups, ['support', 'oncall']);
    assert.equal(identity.expiresAt.getTime(), now + 15 * 60_000);
    assert.equal(identity.claims.team, 'payments');
    assert.equal(identity.claims.aud, 'portcullis');
    // Expired once the ttl (plus the verifier's clock tolerance) has passed.
    await assert.rejects(verifierFor(dir, now + 16 * 60_000).verify(token), { code: 'expired' });
  }
});

test('mint honours --aud and defaults to audience portcullis, ttl 10m', async (t) => {
  const dir = await tempDir(t);
  await initKeys(dir);
  const now = Date.UTC(2030, 0, 1);
  const defaults = await verifierFor(dir, now).verify(await mintToken({ dir, issuer: ISSUER, subject: 'a', now }));
  assert.equal(defaults.expiresAt.getTime(), now + 10 * 60_000);
  assert.deepEqual(defaults.groups, []);
  const other = await mintToken({ dir, issuer: ISSUER, subject: 'a', audience: ['x', 'y'], now });
  await assert.rejects(verifierFor(dir, now).verify(other), { code: 'audience' });
  assert.equal((await verifierFor(dir, now, ['y']).verify(other)).subject, 'a');
});

test('mint refuses bad options', async (t) => {
  const dir = await tempDir(t);
  await initKeys(dir);
  const bad: Array<[string, Parameters<typeof mintToken>[0]]> = [
    ['issuer not a URL', { dir, issuer: 'portcullis', subject: 'a' }],
    ['empty subject', { dir, issuer: ISSUER, subject: ' ' }],
    ['bad ttl', { dir, issuer: ISSUER, subject: 'a', ttl: '10' }],
    ['ttl too long', { dir, issuer: ISSUER, subject: 'a', ttl: '25h' }],
    ['ttl too short', { dir, issuer: ISSUER, subject: 'a', ttl: '10ms' }],
    ['empty audience', { dir, issuer: ISSUER, subject: 'a', audience: [] }],
    ['claim overriding exp', { dir, issuer: ISSUER, subject: 'a', claims: { exp: '99999999999' } }],
  ];
  for (const [name, options] of bad) await assert.rejects(mintToken(options), TokenUsageError, name);
});

test('mint fails when the key is missing or does not match the JWKS', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(mintToken({ dir, issuer: ISSUER, subject: 'a' }), /ENOENT/);
  await initKeys(dir);
  const other = await tempDir(t);
  await initKeys(other);
  await writeFile(join(dir, 'jwks.json'), await readFile(join(other, 'jwks.json')));
  await assert.rejects(mintToken({ dir, issuer: ISSUER, subject: 'a' }), /does not match/);
});

test('tokenCommand: init then mint prints a token; usage errors exit 2, runtime errors 1', async (t) => {
  const dir = await tempDir(t);
  const init = capture();
  assert.equal(await tokenCommand(['init', '--dir', dir], init), 0, init.err);
  assert.match(init.out, /jwks\.json/);

  const mint = capture();
  assert.equal(await tokenCommand(['mint', '--dir', dir, '--issuer', ISSUER, '--sub', 'bot', '--groups', 'a, b', '--ttl', '5m'], mint), 0, mint.err);
  const token = mint.out.trim();
  const identity = await verifierFor(dir, Date.now()).verify(token);
  assert.equal(identity.subject, 'bot');
  assert.deepEqual(identity.groups, ['a', 'b']);

  const usage: string[][] = [
    [],
    ['frobnicate'],
    ['init'],
    ['init', '--dir', dir, '--alg', 'HS256'],
    ['init', '--dir', dir, '--bogus'],
    ['mint', '--dir', dir, '--issuer', ISSUER],
    ['mint', '--dir', dir, '--issuer', ISSUER, '--sub', 'x', '--ttl', 'forever'],
    ['mint', '--dir', dir, '--issuer', ISSUER, '--sub', 'x', '--claim', 'novalue'],
    ['mint', '--dir', dir, '--issuer', ISSUER, '--sub', 'x', 'positional'],
  ];
  for (const argv of usage) {
    const io = capture();
    assert.equal(await tokenCommand(argv, io), 2, argv.join(' '));
    assert.match(io.err, /Usage:/);
    assert.equal(io.out, '');
  }

  const missing = capture();
  assert.equal(await tokenCommand(['mint', '--dir', join(dir, 'nope'), '--issuer', ISSUER, '--sub', 'x'], missing), 1);
  assert.match(missing.err, /signing-key\.pem/);
  const again = capture();
  assert.equal(await tokenCommand(['init', '--dir', dir], again), 1);
  assert.match(again.err, /--force/);

  for (const argv of [['--help'], ['mint', '--help'], ['init', '-h']]) {
    const io = capture();
    assert.equal(await tokenCommand(argv, io), 0);
    assert.match(io.out, /Usage:/);
  }
});
