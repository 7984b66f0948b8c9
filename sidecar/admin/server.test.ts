import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Counter, Registry } from 'prom-client';
import type { ApprovalOutcome, ApprovalRequestInput } from '../approvals/backend.ts';
import { LocalApprovals } from '../approvals/local.ts';
import { generateAdminToken } from './admin-info.ts';
import type { ApprovalJson } from './approval-json.ts';
import { MAX_BODY_BYTES } from './http-io.ts';
import { startAdminServer, type AdminServer, type AdminServerOptions } from './server.ts';

type TestContext = { after(fn: () => unknown): void };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
}

async function send(server: AdminServer, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, { method, ...(init.headers ? { headers: init.headers } : {}), ...(init.body === undefined ? {} : { body: init.body }) });
  const body = await response.text();
  return { status: response.status, headers: Object.fromEntries(response.headers), body, json: () => JSON.parse(body) };
}

function requestInput(over: Partial<ApprovalRequestInput> = {}): ApprovalRequestInput {
  return {
    policy: 'orders-agents',
    rule: 'writes-need-approval',
    resource: 'orders-db',
    session: 's-1',
    requester: 'agent-1',
    command: "update orders set status = 'shipped' where id = 7",
    fingerprint: 'fp-1',
    timeoutMs: 60_000,
    approvers: { users: ['alice'], groups: ['sre'] },
    ...over,
  };
}

async function standalone(t: TestContext, over: Partial<AdminServerOptions> = {}) {
  const registry = new Registry();
  const counter = new Counter({ name: 'portcullis_test_total', help: 'test counter', registers: [registry] });
  const approvals = new LocalApprovals();
  const token = generateAdminToken();
  const logged: { level: string; fields: object; message: string }[] = [];
  const server = await startAdminServer({
    port: 0,
    metrics: registry,
    ready: () => true,
    mode: 'standalone',
    approvals,
    adminToken: token,
    log: { info: (fields, message) => logged.push({ level: 'info', fields, message }), warn: (fields, message) => logged.push({ level: 'warn', fields, message }) },
    ...over,
  });
  t.after(async () => {
    approvals.close();
    await server.close();
  });
  const auth = { authorization: `Bearer ${token}` };
  const decide = (id: string, verb: string, body: unknown) =>
    send(server, 'POST', `/v1/approvals/${id}/${verb}`, { headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { server, approvals, token, auth, counter, registry, logged, decide };
}

test('healthz, readyz and metrics', async (t) => {
  let readiness: boolean | string = 'no valid bundle loaded yet';
  const { server, counter } = await standalone(t, {
    ready: () => {
      if (readiness === 'throw') throw new Error('boom');
      return readiness;
    },
  });
  assert.equal((await send(server, 'GET', '/healthz')).status, 200);
  const notReady = await send(server, 'GET', '/readyz');
  assert.deepEqual([notReady.status, notReady.body], [503, 'no valid bundle loaded yet\n']);
  readiness = false;
  assert.deepEqual([(await send(server, 'GET', '/readyz')).status, (await send(server, 'GET', '/readyz')).body], [503, 'not ready\n']);
  readiness = 'throw';
  const failing = await send(server, 'GET', '/readyz');
  assert.equal(failing.status, 503);
  assert.match(failing.body, /readiness check failed: boom/);
  readiness = true;
  assert.equal((await send(server, 'GET', '/readyz')).status, 200);
  assert.equal((await send(server, 'HEAD', '/healthz')).status, 200);

  counter.inc(3);
  const metrics = await send(server, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(String(metrics.headers['content-type']), /^text\/plain/);
  assert.match(metrics.body, /^portcullis_test_total 3$/m);

  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const r = await send(server, 'POST', path);
    assert.equal(r.status, 405, path);
    assert.match(String(r.headers.allow), /GET/);
  }
  assert.equal((await send(server, 'GET', '/nope')).status, 404);
  assert.equal((await send(server, 'GET', '/healthz/')).status, 404, 'paths are exact');
});

test('cluster mode has no approvals routes, even when given approvals and a token', async (t) => {
  const { server, auth } = await standalone(t, { mode: 'cluster' });
  for (const path of ['/v1/approvals', '/v1/approvals/apr-0123456789', '/v1']) {
    assert.equal((await send(server, 'GET', path, { headers: auth })).status, 404, path);
  }
  assert.equal((await send(server, 'GET', '/healthz')).status, 200);
});

test('standalone approvals without a long enough token refuse to start', async () => {
  const base = { port: 0, metrics: new Registry(), ready: () => true, mode: 'standalone' as const, approvals: new LocalApprovals() };
  await assert.rejects(startAdminServer(base), /admin token/);
  await assert.rejects(startAdminServer({ ...base, adminToken: 'short' }), /at least 32/);
});

test('the approvals API needs the admin token', async (t) => {
  const { server, approvals, token } = await standalone(t);
  const { id } = approvals.request(requestInput());
  const cases: [string, Record<string, string>][] = [
    ['no header', {}],
    ['wrong token', { authorization: `Bearer ${generateAdminToken()}` }],
    ['token prefix', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['token plus suffix', { authorization: `Bearer ${token}x` }],
    ['basic scheme', { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` }],
    ['token without scheme', { authorization: token }],
    ['two tokens', { authorization: `Bearer ${token} ${token}` }],
  ];
  for (const [name, headers] of cases) {
    for (const [method, path] of [['GET', '/v1/approvals'], ['GET', `/v1/approvals/${id}`], ['GET', '/v1/approvals/unknown'], ['POST', `/v1/approvals/${id}/approve`]] as const) {
      const r = await send(server, method, path, { headers: { ...headers, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"approver":{"user":"alice"}}' } : {}) });
      assert.equal(r.status, 401, `${name}: ${method} ${path}`);
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
  }
  assert.equal(approvals.get(id)?.phase, 'Pending', 'nothing was decided');
  // The scheme is case-insensitive.
  assert.equal((await send(server, 'GET', '/v1/approvals', { headers: { authorization: `bearer ${token}` } })).status, 200);
});

test('list and get show the request as the CRD names it', async (t) => {
  const { server, approvals, auth } = await standalone(t);
  const a = approvals.request(requestInput({ pod: 'agent-pod' }));
  const b = approvals.request(requestInput({ session: 's-2' }));
  approvals.decide(b.id, 'deny', { user: 'alice', groups: [] }, 'no');

  const list = await send(server, 'GET', '/v1/approvals', { headers: auth });
  assert.equal(list.status, 200);
  assert.match(String(list.headers['content-type']), /^application\/json/);
  assert.equal(list.headers['cache-control'], 'no-store');
  const items = (list.json() as { items: ApprovalJson[] }).items;
  assert.deepEqual(items.map((i) => [i.id, i.phase]), [[a.id, 'Pending'], [b.id, 'Denied']]);
  const first = items[0] as ApprovalJson;
  assert.deepEqual(
    { ...first, createdAt: undefined, expiresAt: undefined },
    {
      id: a.id, phase: 'Pending', policy: 'orders-agents', rule: 'writes-need-approval', resource: 'orders-db', session: 's-1', pod: 'agent-pod',
      requester: 'agent-1', command: "update orders set status = 'shipped' where id = 7", fingerprint: 'fp-1',
      approvers: { users: ['alice'], groups: ['sre'] }, createdAt: undefined, expiresAt: undefined,
    },
  );
  assert.equal(Date.parse(first.expiresAt) - Date.parse(first.createdAt), 60_000);

  const pending = (await send(server, 'GET', '/v1/approvals?phase=Pending', { headers: auth })).json() as { items: ApprovalJson[] };
  assert.deepEqual(pending.items.map((i) => i.id), [a.id]);
  assert.equal((await send(server, 'GET', '/v1/approvals?phase=Maybe', { headers: auth })).status, 400);

  const one = await send(server, 'GET', `/v1/approvals/${b.id}`, { headers: auth });
  assert.deepEqual([one.status, (one.json() as ApprovalJson).decidedBy, (one.json() as ApprovalJson).reason], [200, 'alice', 'no']);
  const missing = await send(server, 'GET', '/v1/approvals/apr-ffffffffff', { headers: auth });
  assert.equal(missing.status, 404);
  assert.match((missing.json() as { error: string }).error, /not found/);
  for (const path of ['/v1/approvals/apr-1/approve/x', '/v1/other', '/v1/approvals/a%2Fb']) {
    assert.equal((await send(server, 'GET', path, { headers: auth })).status, 404, path);
  }
  assert.equal((await send(server, 'DELETE', `/v1/approvals/${a.id}`, { headers: auth })).status, 405);
  assert.equal((await send(server, 'GET', `/v1/approvals/${a.id}/approve`, { headers: auth })).status, 405);
  assert.equal((await send(server, 'POST', '/v1/approvals', { headers: auth })).status, 405);
});

test('approve and deny settle the held command with who decided and why', async (t) => {
  for (const verb of ['approve', 'deny'] as const) {
    const { approvals, decide, logged } = await standalone(t);
    const pending = approvals.request(requestInput());
    const r = await decide(pending.id, verb, { approver: { user: 'bob', groups: ['sre'] }, reason: 'change 42' });
    assert.equal(r.status, 200, r.body);
    const item = r.json() as ApprovalJson;
    assert.deepEqual([item.phase, item.decidedBy, item.reason], [verb === 'approve' ? 'Approved' : 'Denied', 'bob', 'change 42']);
    const expected: ApprovalOutcome = { outcome: verb === 'approve' ? 'approved' : 'denied', by: 'bob', reason: 'change 42' };
    assert.deepEqual(await pending.result, expected);
    assert.deepEqual(logged.map((l) => [l.level, (l.fields as { by: string }).by]), [['info', 'bob']]);
  }
});

test('refusals keep their message: 403 for who, 409 for when, 404 for what', async (t) => {
  const { approvals, decide } = await standalone(t);
  const decided = approvals.request(requestInput());
  approvals.decide(decided.id, 'approve', { user: 'alice', groups: [] });
  const expired = approvals.request(requestInput({ timeoutMs: 0 }));
  await expired.result;
  const open = approvals.request(requestInput());
  const cases: [string, string, unknown, number, RegExp][] = [
    ['self-approval', open.id, { approver: { user: 'agent-1', groups: ['sre'] } }, 403, /own request/],
    ['not an approver', open.id, { approver: { user: 'mallory', groups: ['dev'] } }, 403, /mallory is not an approver/],
    ['already decided', decided.id, { approver: { user: 'alice' } }, 409, /already Approved/],
    ['expired', expired.id, { approver: { user: 'alice' } }, 409, /already Expired/],
    ['unknown id', 'apr-0000000000', { approver: { user: 'alice' } }, 404, /not found/],
  ];
  for (const [name, id, body, status, message] of cases) {
    const r = await decide(id, 'approve', body);
    assert.equal(r.status, status, `${name}: ${r.body}`);
    assert.match((r.json() as { error: string }).error, message, name);
  }
  assert.equal(approvals.get(open.id)?.phase, 'Pending');
});

test('decision bodies are validated and bounded', async (t) => {
  const { server, approvals, auth, decide } = await standalone(t);
  const { id } = approvals.request(requestInput());
  const bad: [string, unknown, RegExp][] = [
    ['array', [], /JSON object/],
    ['no approver', { reason: 'x' }, /"approver"/],
    ['empty user', { approver: { user: '' } }, /approver.user/],
    ['user with newline', { approver: { user: 'alice\nbob' } }, /approver.user/],
    ['user with escape sequence', { approver: { user: 'alice\u001b[2J' } }, /approver.user/],
    ['groups not a list', { approver: { user: 'alice', groups: 'sre' } }, /approver.groups/],
    ['group not a string', { approver: { user: 'alice', groups: [1] } }, /approver.groups\[0\]/],
    ['unknown field', { approver: { user: 'alice' }, by: 'root' }, /unknown field "by"/],
    ['unknown approver field', { approver: { user: 'alice', admin: true } }, /approver.admin/],
    ['reason not a string', { approver: { user: 'alice' }, reason: 5 }, /"reason"/],
    ['reason too long', { approver: { user: 'alice' }, reason: 'x'.repeat(2000) }, /"reason"/],
  ];
  for (const [name, body, message] of bad) {
    const r = await decide(id, 'approve', body);
    assert.equal(r.status, 400, name);
    assert.match((r.json() as { error: string }).error, message, name);
  }
  const notJson = await send(server, 'POST', `/v1/approvals/${id}/approve`, { headers: { ...auth, 'content-type': 'application/json' }, body: '{"approver":' });
  assert.equal(notJson.status, 400);
  const form = await send(server, 'POST', `/v1/approvals/${id}/approve`, { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'approver=alice' });
  assert.equal(form.status, 415);
  const big = await send(server, 'POST', `/v1/approvals/${id}/approve`, {
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ approver: { user: 'alice' }, reason: 'x'.repeat(MAX_BODY_BYTES) }),
  });
  assert.equal(big.status, 413);
  assert.equal(approvals.get(id)?.phase, 'Pending', 'no refused body decided anything');
  // A decision with groups omitted and an empty reason is fine.
  const ok = await decide(id, 'approve', { approver: { user: 'alice' }, reason: ' ' });
  assert.equal(ok.status, 200);
  assert.equal((ok.json() as ApprovalJson).reason, undefined);
});

test('a chunked body over the bound is refused with 413 without a declared length', async (t) => {
  const { server, approvals, token } = await standalone(t);
  const { id } = approvals.request(requestInput());
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${server.url}/v1/approvals/${id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('{"approver":{"user":"alice"},"reason":"');
    req.write('x'.repeat(MAX_BODY_BYTES));
    // The body is never finished: the server must answer without waiting for the end.
  });
  assert.equal(status, 413);
  assert.equal(approvals.get(id)?.phase, 'Pending');
});

test('close stops listening and may be repeated', async () => {
  const server = await startAdminServer({ port: 0, metrics: new Registry(), ready: () => true, mode: 'cluster' });
  assert.equal((await send(server, 'GET', '/healthz')).status, 200);
  await server.close();
  await server.close();
  await assert.rejects(fetch(`${server.url}/healthz`));
});

test('a port in use is reported', async (t) => {
  const first = await startAdminServer({ port: 0, metrics: new Registry(), ready: () => true, mode: 'cluster' });
  t.after(() => first.close());
  await assert.rejects(startAdminServer({ port: first.port, metrics: new Registry(), ready: () => true, mode: 'cluster' }), /EADDRINUSE/);
});
