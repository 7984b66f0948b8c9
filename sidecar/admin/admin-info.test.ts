import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_INFO_FILE, ADMIN_TOKEN_FILE, AdminInfoError, generateAdminToken, readAdminInfo, removeAdminInfo, writeAdminInfo } from './admin-info.ts';
import { bearerChecker } from './bearer.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-admin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writeAdminInfo writes admin.json and a 0600 token that readAdminInfo reads back', async (t) => {
  const dir = join(await tempDir(t), 'records');
  const token = generateAdminToken();
  await writeAdminInfo(dir, { url: 'http://127.0.0.1:9901', token });
  assert.equal((await stat(join(dir, ADMIN_TOKEN_FILE))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, ADMIN_INFO_FILE))).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  const doc = JSON.parse(await readFile(join(dir, ADMIN_INFO_FILE), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc).sort(), ['pid', 'startedAt', 'url']);
  assert.equal(JSON.stringify(doc).includes(token), false, 'the token is not in admin.json');
  const info = await readAdminInfo(dir);
  assert.deepEqual([info.url, info.token, info.pid], ['http://127.0.0.1:9901', token, process.pid]);

  // A restart replaces both; no temporary files are left behind.
  const next = generateAdminToken();
  await writeAdminInfo(dir, { url: 'http://127.0.0.1:9902', token: next });
  assert.deepEqual([(await readAdminInfo(dir)).url, (await readAdminInfo(dir)).token], ['http://127.0.0.1:9902', next]);
  assert.deepEqual((await readdir(dir)).sort(), [ADMIN_INFO_FILE, ADMIN_TOKEN_FILE].sort());

  await removeAdminInfo(dir);
  await assert.rejects(readAdminInfo(dir), /admin.json not found: is a standalone sidecar running/);
  await removeAdminInfo(dir);
});

test('generated tokens are long, distinct and header-safe', () => {
  const tokens = new Set(Array.from({ length: 100 }, generateAdminToken));
  assert.equal(tokens.size, 100);
  for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{43}$/);
});

test('writeAdminInfo refuses a bad url or a short token', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(writeAdminInfo(dir, { url: 'not a url', token: generateAdminToken() }), /not a URL/);
  await assert.rejects(writeAdminInfo(dir, { url: 'http://127.0.0.1:1', token: 'short' }), /at least 32/);
});

test('readAdminInfo refuses what it cannot trust', async (t) => {
  const token = generateAdminToken();
  const cases: [string, string | undefined, string | undefined, number, RegExp][] = [
    ['no token file', '{"url":"http://127.0.0.1:1"}', undefined, 0o600, /admin-token not found/],
    ['token readable by others', '{"url":"http://127.0.0.1:1"}', token, 0o644, /readable by other users.*chmod 600/],
    ['token too short', '{"url":"http://127.0.0.1:1"}', 'abc', 0o600, /does not hold an admin token/],
    ['two tokens', '{"url":"http://127.0.0.1:1"}', `${token} ${token}`, 0o600, /does not hold an admin token/],
    ['admin.json not JSON', '{url', token, 0o600, /cannot read .*admin.json/],
    ['no url', '{"port":1}', token, 0o600, /no http\(s\) "url"/],
    ['not http', '{"url":"file:///etc/passwd"}', token, 0o600, /no http\(s\) "url"/],
    ['array', '[]', token, 0o600, /no http\(s\) "url"/],
  ];
  for (const [name, info, tokenText, mode, message] of cases) {
    const dir = await tempDir(t);
    if (info !== undefined) await writeFile(join(dir, ADMIN_INFO_FILE), info);
    if (tokenText !== undefined) {
      await writeFile(join(dir, ADMIN_TOKEN_FILE), `${tokenText}\n`);
      await chmod(join(dir, ADMIN_TOKEN_FILE), mode);
    }
    await assert.rejects(readAdminInfo(dir), (e: unknown) => e instanceof AdminInfoError && message.test(e.message), name);
  }
});

test('bearerChecker accepts exactly the token', () => {
  const token = generateAdminToken();
  const check = bearerChecker(token);
  const cases: [string | undefined, boolean][] = [
    [`Bearer ${token}`, true],
    [`bearer ${token}`, true],
    [`BEARER  ${token} `, true],
    [undefined, false],
    ['', false],
    ['Bearer', false],
    ['Bearer ', false],
    [`Bearer ${token}x`, false],
    [`Bearer ${token.slice(1)}`, false],
    [`Bearer ${token},${token}`, false],
    [`Token ${token}`, false],
    [token, false],
  ];
  for (const [header, expected] of cases) assert.equal(check(header), expected, String(header));
});
