import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { compileBundle } from '../../core/policy/compile.ts';
import { policy, resource } from '../../core/policy/testing.ts';
import type { Bundle } from '../../core/policy/bundle.ts';
import type { OfflineBundle } from '../../core/manifests/offline-bundle.ts';
import { OperatorBundleSource, parseBundle, readCredentials } from './operator-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'opsrc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bundle(statements: string[]): Bundle {
  return compileBundle('agents', [resource('db', 'postgres')], [policy('p', { resources: [{ resource: 'db', rules: [{ name: 'r', action: 'allow', sql: { statements } }] }] })]);
}

/** A stand-in sidecar API: serves `state.bundle`, holds `?wait=` requests until it changes, records what it saw. */
async function fakeOperator() {
  const state = {
    bundle: bundle(['select']),
    fail: 0 as number,
    seen: [] as Array<{ auth: string | undefined; url: string }>,
    waiting: [] as Array<() => void>,
  };
  const server = http.createServer((req, res) => {
    state.seen.push({ auth: req.headers.authorization, url: req.url ?? '' });
    if (state.fail > 0) {
      state.fail--;
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'caches not synced' }));
      return;
    }
    const wait = new URL(req.url ?? '', 'http://x').searchParams.get('wait');
    const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.bundle));
    if (wait && wait === state.bundle.hash) {
      state.waiting.push(send);
      req.on('close', () => res.writableEnded || res.destroy());
      return;
    }
    send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publish(b: Bundle) {
      state.bundle = b;
      for (const w of state.waiting.splice(0)) w();
    },
  };
}

function once<T>(src: OperatorBundleSource, event: 'bundle' | 'error'): Promise<T> {
  return new Promise((resolve) => src.once(event, (v: unknown) => resolve(v as T)));
}

test('load sends the token file\'s current content; watch long-polls with the hash and emits the new bundle', async () => {
  const op = await fakeOperator();
  const tokenFile = join(dir, 'token1');
  writeFileSync(tokenFile, 'first-token\n');
  const src = new OperatorBundleSource({ url: op.url, tokenFile, minBackoffMs: 10 });
  const first = await src.load();
  assert.equal(first.bundle.hash, op.state.bundle.hash);
  assert.equal(op.state.seen[0]!.auth, 'Bearer first-token');
  assert.equal(op.state.seen[0]!.url, '/v1/bundle');

  writeFileSync(tokenFile, 'rotated-token\n');
  const next = once<OfflineBundle>(src, 'bundle');
  src.watch();
  while (op.state.waiting.length === 0) await new Promise((r) => setImmediate(r));
  assert.equal(op.state.seen[1]!.auth, 'Bearer rotated-token');
  assert.equal(op.state.seen[1]!.url, `/v1/bundle?wait=${first.bundle.hash}&timeout=30s`);
  const updated = bundle(['select', 'insert']);
  op.publish(updated);
  assert.equal((await next).bundle.hash, updated.hash);
  assert.equal(src.current!.bundle.hash, updated.hash);
  src.close();
});

test('while the operator refuses, errors are emitted, the last bundle stays, and the loop recovers', async () => {
  const op = await fakeOperator();
  const tokenFile = join(dir, 'token2');
  writeFileSync(tokenFile, 't');
  const src = new OperatorBundleSource({ url: op.url, tokenFile, minBackoffMs: 5, maxBackoffMs: 20 });
  const first = await src.load();
  op.state.fail = 3;
  op.state.bundle = bundle(['update']);
  const errors: string[] = [];
  src.on('error', (e) => errors.push(e.message));
  const next = once<OfflineBundle>(src, 'bundle');
  src.watch();
  const got = await next;
  assert.equal(errors.length, 3);
  assert.match(errors[0]!, /operator answered 503: caches not synced/);
  assert.notEqual(got.bundle.hash, first.bundle.hash);
  src.close();
});

test('load gives up after its deadline with the operator\'s reason', async () => {
  const op = await fakeOperator();
  op.state.fail = 1000;
  const tokenFile = join(dir, 'token3');
  writeFileSync(tokenFile, 't');
  const src = new OperatorBundleSource({ url: op.url, tokenFile, minBackoffMs: 5 });
  src.on('error', () => {});
  await assert.rejects(src.load(50), /503: caches not synced/);
  src.close();
});

test('parseBundle refuses non-bundles, other formats and a hash that does not match', () => {
  const good = bundle(['select']);
  assert.equal(parseBundle(Buffer.from(JSON.stringify(good))).hash, good.hash);
  assert.throws(() => parseBundle(Buffer.from('nope')), /not JSON/);
  assert.throws(() => parseBundle(Buffer.from('{}')), /not a bundle/);
  assert.throws(() => parseBundle(Buffer.from(JSON.stringify({ ...good, formatVersion: 99 }))), /format 99/);
  assert.throws(() => parseBundle(Buffer.from(JSON.stringify({ ...good, namespace: 'other' }))), /does not match its hash/);
});

test('credentials come from the mounted Secret files, keyed by Secret name, skipping ..data entries', () => {
  const creds = join(dir, 'creds');
  mkdirSync(join(creds, 'db', '..2026_01_01'), { recursive: true });
  writeFileSync(join(creds, 'db', '..2026_01_01', 'password'), 's3cret');
  writeFileSync(join(creds, 'db', '..2026_01_01', 'username'), 'agent');
  symlinkSync('..2026_01_01', join(creds, 'db', '..data'));
  symlinkSync('..data/password', join(creds, 'db', 'password'));
  symlinkSync('..data/username', join(creds, 'db', 'username'));
  const got = readCredentials(creds, bundle(['select']));
  assert.deepEqual([...got.entries()], [['db-creds', { password: 's3cret', username: 'agent' }]]);
});
