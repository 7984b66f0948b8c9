// The sidecar's upstream TLS (verify-full against a real PostgreSQL with ssl = on), token checks over the wire,
// session expiry with sessionGrace, and an invalid policy edit that must leave the previous bundle in force.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, freePort, type PgServer } from './lib/postgres.ts';
import { createShop, shopManifests } from './lib/shop-fixture.ts';
import { startSidecar, issuer, type Sidecar } from './lib/sidecar.ts';
import { pgClient, psql } from './lib/pg-clients.ts';
import { mintToken } from '../cli/token.ts';

let pg: PgServer;
let sc: Sidecar;
let port: number;
let ca: string;
const pki = mkdtempSync(join(tmpdir(), 'portcullis-pg-pki-'));

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}

before(async () => {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(pki, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt']);
  ca = readFileSync(join(pki, 'ca.crt'), 'utf8');
  pg = await startPostgres({
    config: ['ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"],
    files: { 'server.crt': readFileSync(join(pki, 'server.crt'), 'utf8'), 'server.key': readFileSync(join(pki, 'server.key'), 'utf8') },
  });
  // Only TLS connections over TCP: a plaintext upstream leg would be refused by the server.
  execFileSync('sh', ['-c', `runuser -u postgres -- sh -c "echo 'hostnossl all all 0.0.0.0/0 reject' > '${pg.dataDir}/pg_hba.conf.new' && cat '${pg.dataDir}/pg_hba.conf' >> '${pg.dataDir}/pg_hba.conf.new' && mv '${pg.dataDir}/pg_hba.conf.new' '${pg.dataDir}/pg_hba.conf'"`]);
  pg.psql('SELECT pg_reload_conf()');
  createShopOverTls();
  port = await freePort();
  const manifests = shopManifests({ port, pg, tls: '{mode: verify-full, caSecretRef: {name: shop-db-ca, key: ca.crt}, serverName: localhost}' });
  manifests['ca.yaml'] = `apiVersion: v1\nkind: Secret\nmetadata: {name: shop-db-ca, namespace: agents}\nstringData:\n  ca.crt: |\n${ca.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
  manifests['support-agent.yaml'] = manifests['support-agent.yaml']!.replace('  agents:\n', '  subjects:\n    sessionGrace: 1s\n  agents:\n');
  sc = await startSidecar(manifests);
});

function createShopOverTls(): void {
  // pg.psql connects over TCP: with hostnossl rejected it needs sslmode=require, as the sidecar does.
  process.env.PGSSLMODE = 'require';
  try {
    createShop(pg);
  } finally {
    delete process.env.PGSSLMODE;
  }
}

after(async () => {
  await sc?.stop();
  pg?.stop();
  rmSync(pki, { recursive: true, force: true });
});

test('upstream TLS with verify-full: queries work and the server sees an encrypted connection', async () => {
  const token = await sc.token('tls-agent');
  const r = psql(port, token, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 't');
});

test('a server certificate from another CA is refused (verify-full)', async () => {
  const p2 = await freePort();
  const manifests = shopManifests({ port: p2, pg, tls: '{mode: verify-full, caSecretRef: {name: other-ca, key: ca.crt}, serverName: localhost}' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=other', '-keyout', 'other.key', '-out', 'other.crt']);
  const other = readFileSync(join(pki, 'other.crt'), 'utf8');
  manifests['ca.yaml'] = `apiVersion: v1\nkind: Secret\nmetadata: {name: other-ca, namespace: agents}\nstringData:\n  ca.crt: |\n${other.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
  const wrong = await startSidecar(manifests);
  try {
    const r = psql(p2, await wrong.token(), 'SELECT 1');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /TLS with the server failed/);
  } finally {
    await wrong.stop();
  }
});

test('tokens with the wrong audience, the wrong issuer, or expired are refused over the wire', async () => {
  const keys = join(sc.dir, 'keys');
  const cases: Array<[string, Promise<string>, RegExp]> = [
    ['wrong audience', mintToken({ dir: keys, issuer, subject: 'a', audience: 'someone-else' }), /authentication failed/],
    ['wrong issuer', mintToken({ dir: keys, issuer: 'https://evil.example', subject: 'a' }), /authentication failed/],
    ['expired', mintToken({ dir: keys, issuer, subject: 'a', ttl: '1m', now: Date.now() - 3_600_000 }), /authentication failed/],
    ['not yet valid', mintToken({ dir: keys, issuer, subject: 'a', ttl: '10m', now: Date.now() + 3_600_000 }), /authentication failed/],
  ];
  for (const [what, tok, expected] of cases) {
    const r = psql(port, await tok, 'SELECT 1');
    assert.notEqual(r.status, 0, what);
    assert.match(r.stderr, expected, what);
  }
  assert.equal(sc.child.exitCode, null);
});

test('a session ends at most sessionGrace after its token expires', async () => {
  const tok = await mintToken({ dir: join(sc.dir, 'keys'), issuer, subject: 'short-lived', ttl: '2s' });
  const c = await pgClient(port, tok);
  const ended = new Promise<Error>((resolve) => c.on('error', resolve));
  assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
  const err = await ended;
  assert.match(err.message, /token has expired/);
});

test('an invalid policy edit leaves the previous bundle in force', async () => {
  const token = await sc.token('reload-agent');
  const file = join(sc.policyDir, 'support-agent.yaml');
  const original = readFileSync(file, 'utf8');
  try {
    writeFileSync(file, original.replace('action: allow', 'action: alow'));
    // The sidecar reports the refusal in its log; wait for it rather than for a guessed delay.
    const deadline = Date.now() + 15_000;
    while (!/previous bundle stays in force/.test(sc.stderr())) {
      if (Date.now() > deadline) throw new Error(`no refusal logged:\n${sc.stderr().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = psql(port, token, 'SELECT count(*) FROM orders');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '20');
  } finally {
    writeFileSync(file, original);
  }
});
