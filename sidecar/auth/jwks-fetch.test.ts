import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkKeyUrl, createHttpGetter, fetchJson } from './jwks-fetch.ts';
import { createVerifier } from './jwt-verifier.ts';
import { makeKey, sign, testClock } from './test-fixtures.ts';

let dir: string;
let cert: string;
let privateKey: string;

before(async () => {
  // A self-signed certificate for 127.0.0.1 stands in for the cluster CA that signs the API server's certificate.
  dir = await mkdtemp(join(tmpdir(), 'portcullis-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  cert = await readFile(join(dir, 'cert.pem'), 'utf8');
  privateKey = await readFile(join(dir, 'key.pem'), 'utf8');
});
after(() => rm(dir, { recursive: true, force: true }));

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('https JWKS with the configured CA is trusted; without it, refused', async (t) => {
  const key = await makeKey('ES256');
  const server = createHttpsServer({ cert, key: privateKey }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
  });
  const host = await listen(server);
  t.after(() => close(server));
  const clock = testClock();
  const issuer = 'https://kubernetes.default.svc.cluster.local';
  const token = await sign(key, { iss: issuer, sub: 'a', aud: 'portcullis', exp: clock.sec() + 60 });
  const jwks = { uri: `https://${host}/openid/v1/jwks` };

  const withCa = createVerifier({ issuers: [{ issuer, audiences: ['portcullis'], jwks, tls: { ca: cert } }], now: clock.now });
  assert.equal((await withCa.verify(token)).subject, 'a');
  const verifierWideCa = createVerifier({ issuers: [{ issuer, audiences: ['portcullis'], jwks }], tls: { ca: cert }, now: clock.now });
  assert.equal((await verifierWideCa.verify(token)).subject, 'a');

  const withoutCa = createVerifier({ issuers: [{ issuer, audiences: ['portcullis'], jwks }], now: clock.now });
  await assert.rejects(withoutCa.verify(token), { name: 'AuthError', code: 'jwks_unavailable' });
});

test('the HTTP getter follows no redirect, bounds the body and times out', async (t) => {
  const server = createHttpServer((req, res) => {
    if (req.url === '/redirect') res.writeHead(302, { location: '/jwks' }).end();
    else if (req.url === '/big') res.writeHead(200).end('x'.repeat(5000));
    else if (req.url === '/big-chunked') {
      res.writeHead(200);
      for (let i = 0; i < 5; i++) res.write('y'.repeat(1000));
      res.end();
    } else if (req.url === '/hang') res.writeHead(200).write('{');
    else res.writeHead(200).end('{"keys":[]}');
  });
  const host = await listen(server);
  t.after(() => close(server));
  const get = createHttpGetter({ maxBytes: 4096 });
  assert.deepEqual(await fetchJson(get, `http://${host}/jwks`, 2000, 4096), { keys: [] });
  await assert.rejects(fetchJson(get, `http://${host}/redirect`, 2000, 4096), /HTTP 302/);
  await assert.rejects(fetchJson(get, `http://${host}/big`, 2000, 4096), /limit/);
  await assert.rejects(fetchJson(get, `http://${host}/big-chunked`, 2000, 4096), /limit/);
  await assert.rejects(fetchJson(get, `http://${host}/hang`, 100, 4096), /failed/);
});

test('key URLs must be https, except on loopback', () => {
  const accepted = ['https://idp.example/keys', 'http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9000/jwks', 'http://127.5.6.7/x'];
  for (const url of accepted) assert.equal(checkKeyUrl(url, 'JWKS URL').href, new URL(url).href);
  const refused = ['http://idp.example/keys', 'http://127.0.0.1.evil.example/jwks', 'ftp://idp.example/keys', 'file:///etc/jwks', 'not a url', 'http://10.0.0.1/jwks'];
  for (const url of refused) assert.throws(() => checkKeyUrl(url, 'JWKS URL'), /JWKS URL/, url);
});
