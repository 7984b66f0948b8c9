// Test fixtures shared by the auth tests: real keys generated with jose, and a real OIDC issuer (discovery + JWKS)
// served over HTTP on 127.0.0.1 that counts every request it receives. Not imported by production code.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** Public JWK with kid, alg and use. */
  readonly jwk: JWK;
}

export async function makeKey(alg = 'ES256', kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk };
}

/** Signs `claims` with `key`; `header` adds or overrides protected header parameters (kid, jku, x5u, …). */
export function sign(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

export interface TestIssuer {
  /** http://127.0.0.1:PORT — also the issuer string in the discovery document. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Keys served at /jwks; replace to rotate. */
  keys: JWK[];
  /** Overrides the issuer named in the discovery document. */
  advertisedIssuer?: string;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  totalHits(): number;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startIssuer(keys: JWK[]): Promise<TestIssuer> {
  const hits = new Map<string, number>();
  // The handler reads the fixture object so tests can rotate keys or change the discovery document.
  const state: { fixture?: TestIssuer } = {};
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const fixture = state.fixture as TestIssuer;
    let body: unknown;
    if (path === '/.well-known/openid-configuration') {
      body = { issuer: fixture.advertisedIssuer ?? fixture.issuer, jwks_uri: fixture.jwksUri };
    } else if (path === '/jwks') {
      body = { keys: fixture.keys };
    } else {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const fixture: TestIssuer = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    keys,
    hits,
    totalHits: () => [...hits.values()].reduce((a, b) => a + b, 0),
    close: () => closeServer(server),
  };
  state.fixture = fixture;
  return fixture;
}

/** A server that records every request and serves nothing useful: stands for an attacker's key server. */
export async function startRecorder(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, requests, close: () => closeServer(server) };
}

/** A loopback port with nothing listening (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/** A mutable clock in epoch milliseconds. */
export interface TestClock {
  ms: number;
  now: () => number;
  sec: () => number;
}

export function testClock(start = Date.UTC(2030, 0, 1)): TestClock {
  const clock: TestClock = { ms: start, now: () => clock.ms, sec: () => Math.floor(clock.ms / 1000) };
  return clock;
}
