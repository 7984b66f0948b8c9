import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { ApprovalRequestInput } from '../approvals/backend.ts';
import { LocalApprovals } from '../approvals/local.ts';
import { generateAdminToken } from './admin-info.ts';
import { AdminApiError, AdminUnreachableError, decideApproval, getApproval, listApprovals } from './client.ts';
import { startAdminServer } from './server.ts';

const input: ApprovalRequestInput = {
  policy: 'p', rule: 'r', resource: 'orders-db', session: 's-1', requester: 'agent-1', command: 'delete from t where id = 1',
  fingerprint: 'fp', timeoutMs: 60_000, approvers: { users: ['alice'], groups: ['sre'] },
};

async function sidecar(t: { after(fn: () => unknown): void }) {
  const approvals = new LocalApprovals();
  const token = generateAdminToken();
  const server = await startAdminServer({ port: 0, metrics: new Registry(), ready: () => true, mode: 'standalone', approvals, adminToken: token });
  t.after(async () => {
    approvals.close();
    await server.close();
  });
  return { approvals, endpoint: { url: server.url, token } };
}

test('the client lists, gets and decides through a real admin server', async (t) => {
  const { approvals, endpoint } = await sidecar(t);
  const a = approvals.request(input);
  const b = approvals.request({ ...input, session: 's-2' });
  assert.deepEqual((await listApprovals(endpoint)).map((x) => x.id), [a.id, b.id]);
  const decided = await decideApproval(endpoint, a.id, 'approve', { user: 'bob', groups: ['sre'] }, 'ok');
  assert.deepEqual([decided.phase, decided.decidedBy, decided.reason], ['Approved', 'bob', 'ok']);
  assert.deepEqual(await a.result, { outcome: 'approved', by: 'bob', reason: 'ok' });
  assert.deepEqual((await listApprovals(endpoint, { phase: 'Pending' })).map((x) => x.id), [b.id]);
  assert.equal((await getApproval(endpoint, b.id)).phase, 'Pending');
  // A trailing slash on the base URL makes no difference.
  assert.equal((await listApprovals({ ...endpoint, url: `${endpoint.url}/` })).length, 2);
});

test('server refusals become AdminApiError with the status and message', async (t) => {
  const { approvals, endpoint } = await sidecar(t);
  const a = approvals.request(input);
  const cases: [() => Promise<unknown>, number, RegExp][] = [
    [() => decideApproval(endpoint, a.id, 'approve', { user: 'agent-1', groups: [] }), 403, /own request/],
    [() => decideApproval(endpoint, a.id, 'deny', { user: 'eve', groups: [] }), 403, /eve is not an approver/],
    [() => getApproval(endpoint, 'apr-0000000000'), 404, /not found/],
    [() => getApproval(endpoint, '../../healthz'), 404, /not found/],
    [() => listApprovals({ ...endpoint, token: generateAdminToken() }), 401, /admin token/],
  ];
  for (const [run, status, message] of cases) {
    await assert.rejects(run(), (e: unknown) => e instanceof AdminApiError && e.status === status && message.test(e.message));
  }
});

test('an unreachable sidecar and a non-JSON or redirecting server are reported clearly', async (t) => {
  const closed = await startAdminServer({ port: 0, metrics: new Registry(), ready: () => true, mode: 'cluster' });
  await closed.close();
  await assert.rejects(listApprovals({ url: closed.url, token: 'x' }), (e: unknown) => e instanceof AdminUnreachableError && /ECONNREFUSED.*is the sidecar running/.test(e.message));

  const seen: string[] = [];
  const odd = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    if (req.url === '/v1/approvals') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    else if (req.url === '/v1/approvals/moved') res.writeHead(302, { location: '/elsewhere' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
  });
  await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => odd.close(() => resolve())));
  const endpoint = { url: `http://127.0.0.1:${(odd.address() as AddressInfo).port}`, token: 'secret' };
  await assert.rejects(listApprovals(endpoint), /not JSON/);
  await assert.rejects(getApproval(endpoint, 'x'), /not an approval request/);
  await assert.rejects(getApproval(endpoint, 'moved'), AdminUnreachableError);
  assert.equal(seen.filter((s) => s.startsWith('/elsewhere')).length, 0, 'the token never follows a redirect');
});
