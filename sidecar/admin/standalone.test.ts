import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { LocalApprovals } from '../approvals/local.ts';
import { readAdminInfo } from './admin-info.ts';
import { listApprovals } from './client.ts';
import { startStandaloneAdmin } from './standalone.ts';

test('startStandaloneAdmin serves the approvals API and publishes where, then cleans up on close', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-standalone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const approvals = new LocalApprovals();
  t.after(() => approvals.close());
  const admin = await startStandaloneAdmin({ recordsDir: dir, approvals, metrics: new Registry(), ready: () => 'loading bundle' });

  const info = await readAdminInfo(dir);
  assert.equal(info.url, admin.url);
  assert.match(admin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(admin.port, 0);
  assert.deepEqual(await listApprovals(info), []);
  const ready = await fetch(`${admin.url}/readyz`);
  assert.deepEqual([ready.status, await ready.text()], [503, 'loading bundle\n']);

  // Each start has its own token: the previous one stops working.
  const second = await startStandaloneAdmin({ recordsDir: join(dir, 'other'), approvals, metrics: new Registry(), ready: () => true });
  t.after(() => second.close());
  assert.notEqual((await readAdminInfo(join(dir, 'other'))).token, info.token);

  await admin.close();
  await admin.close();
  assert.deepEqual(await readdir(dir), ['other']);
  await assert.rejects(fetch(`${admin.url}/healthz`));
});

test('if the admin files cannot be written the server is not left running', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-standalone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const notADir = join(dir, 'file');
  await writeFile(notADir, 'x');
  await assert.rejects(startStandaloneAdmin({ recordsDir: notADir, approvals: new LocalApprovals(), metrics: new Registry(), ready: () => true }), /EEXIST|ENOTDIR/);
});
