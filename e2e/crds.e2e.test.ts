// Issue 3 acceptance for crds/: they install on a real API server, are discoverable and documented, reject invalid
// objects server-side with a message naming the field (OpenAPI schema, strict field validation and CEL rules,
// including transition rules on updates and status), and accept the examples of the API contract.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  REPO_ROOT, createNamespace, deleteNamespace, ensureCluster, kubectl, uniqueName,
} from './lib/cluster.ts';

await ensureCluster();
const CRDS = join(REPO_ROOT, 'crds');
const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const ns = uniqueName('e2e-crds');
const GROUP_VERSION = 'portcullis.dev/v1alpha1';

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };

before(async () => {
  // Literally what a platform team runs.
  await kubectl(['apply', '-f', CRDS]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', CRDS]);
  await createNamespace(ns, { 'portcullis.dev/e2e': 'crds' });
});
after(async () => {
  await deleteNamespace(ns);
});

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// ---- valid objects, one per kind (the first two from the contract's examples) ----
function exampleOf(kind: string): Obj {
  for (const file of readdirSync(EXAMPLES)) {
    for (const doc of readFileSync(join(EXAMPLES, file), 'utf8').split(/^---$/m)) {
      const parsed = parseYaml(doc) as Obj | null;
      if (parsed?.kind === kind) return parsed;
    }
  }
  throw new Error(`no ${kind} in examples/policies`);
}

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const VALID: Record<string, () => Obj> = {
  ProtectedResource: () => exampleOf('ProtectedResource'),
  AgentPolicy: () => exampleOf('AgentPolicy'),
  ApprovalRequest: () => ({
    apiVersion: GROUP_VERSION, kind: 'ApprovalRequest', metadata: { name: 'x' },
    spec: {
      policy: 'support-agent', rule: 'order-writes', resource: 'orders-db', pod: 'support-agent-0', session: 'session-1',
      requester: 'system:serviceaccount:agents:support-agent', protocol: 'postgres',
      command: "UPDATE orders SET status = 'refunded' WHERE id = 7", fingerprint: 'f'.repeat(32),
      expiresAt: '2030-01-01T00:10:00Z',
    },
  }),
  AgentSession: () => ({
    apiVersion: GROUP_VERSION, kind: 'AgentSession', metadata: { name: 'x' },
    spec: {
      pod: 'support-agent-0', namespace: 'agents', resource: 'orders-db', protocol: 'postgres',
      subject: 'system:serviceaccount:agents:support-agent', startedAt: '2030-01-01T00:00:00Z',
    },
  }),
  SessionChunk: () => ({
    apiVersion: GROUP_VERSION, kind: 'SessionChunk', metadata: { name: 'x' },
    spec: {
      session: 'session-1', sequence: 0, hash: HASH_A, events: Buffer.from('{"e":1}\n').toString('base64'),
      eventCount: 1, firstEventAt: '2030-01-01T00:00:00Z', lastEventAt: '2030-01-01T00:00:01Z',
    },
  }),
};

function named(kind: string, name: string): Obj {
  const o = VALID[kind]!();
  o.metadata = { name, namespace: ns };
  return o;
}

async function create(o: Obj, allowFailure = false) {
  return kubectl(['create', '-f', '-'], { input: JSON.stringify(o), allowFailure });
}

async function patchStatus(o: Obj, status: object, allowFailure = false) {
  return kubectl(['patch', String(o.kind).toLowerCase(), o.metadata.name, '--namespace', ns, '--subresource=status',
    '--type=merge', '-p', JSON.stringify({ status })], { allowFailure });
}

// ---- discovery and documentation ----
test('kubectl apply -f crds/ installs five CRDs in the portcullis category', async () => {
  const resources = await kubectl(['api-resources', '--categories=portcullis', '-o', 'name']);
  assert.deepEqual(resources.stdout.trim().split('\n').sort(), [
    'agentpolicies.portcullis.dev', 'agentsessions.portcullis.dev', 'approvalrequests.portcullis.dev',
    'protectedresources.portcullis.dev', 'sessionchunks.portcullis.dev',
  ]);
  // Re-applying is a no-op, not an error (CI and users apply repeatedly).
  await kubectl(['apply', '-f', CRDS]);
});

test('kubectl get portcullis lists objects of every kind in the category', async () => {
  for (const kind of Object.keys(VALID)) await create(named(kind, `listed-${kind.toLowerCase()}`));
  const out = (await kubectl(['get', 'portcullis', '--namespace', ns])).stdout;
  for (const kind of Object.keys(VALID)) {
    assert.match(out, new RegExp(`${kind.toLowerCase()}\\.portcullis\\.dev/listed-${kind.toLowerCase()}`), out);
  }
});

test('kubectl explain agentpolicy.spec shows the schema documentation', async () => {
  const crd = parseYaml(readFileSync(join(CRDS, 'agentpolicies.portcullis.dev.yaml'), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { description: string; properties: Record<string, unknown> } } } } }[] };
  };
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
  const firstWords = spec.description.split(/\s+/).slice(0, 5).join(' ');
  // The published OpenAPI follows the CRD by a moment.
  const out = await eventually('agentpolicy.spec in the published OpenAPI', async () => {
    const r = await kubectl(['explain', 'agentpolicy.spec'], { allowFailure: true });
    return r.code === 0 && r.stdout.includes('FIELDS:') ? r.stdout : undefined;
  });
  assert.match(out, /KIND:\s+AgentPolicy/);
  assert.ok(out.replace(/\s+/g, ' ').includes(firstWords), `explain shows the description ("${firstWords}…"):\n${out}`);
  for (const field of Object.keys(spec.properties)) assert.match(out, new RegExp(`^\\s+${field}\\s`, 'm'), `field ${field}`);
  const deeper = await kubectl(['explain', 'agentpolicy.spec.resources.rules.action']);
  assert.match(deeper.stdout, /allow/);
});

// ---- the contract's examples and valid lifecycles are accepted ----
test('the examples of the API contract are accepted', async () => {
  // Every object of examples/policies, moved into this suite's namespace so runs never collide.
  const created: string[] = [];
  for (const file of readdirSync(EXAMPLES).sort()) {
    for (const doc of readFileSync(join(EXAMPLES, file), 'utf8').split(/^---$/m)) {
      const o = parseYaml(doc) as Obj | null;
      if (!o) continue;
      if (o.kind === 'Namespace') {
        await kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(o) });
        continue;
      }
      o.metadata.namespace = ns;
      await create(o);
      created.push(`${String(o.kind)}/${o.metadata.name}`);
    }
  }
  assert.ok(created.some((c) => c.startsWith('ProtectedResource/')), created.join(', '));
  assert.ok(created.some((c) => c.startsWith('AgentPolicy/')), created.join(', '));
});

test('valid status lifecycles are accepted', async () => {
  const request = named('ApprovalRequest', 'lifecycle');
  await create(request);
  await patchStatus(request, { phase: 'Pending' });
  await patchStatus(request, { phase: 'Approved', decidedBy: 'alice', decidedAt: '2030-01-01T00:05:00Z', reason: 'ok' });
  const session = named('AgentSession', 'lifecycle');
  await create(session);
  const counts = { commands: 3, allowed: 2, denied: 1, approved: 0, maskedValues: 4 };
  await patchStatus(session, { counts, chunkCount: 1, headHash: HASH_A });
  await patchStatus(session, { counts: { ...counts, commands: 4, allowed: 3 }, chunkCount: 2, headHash: HASH_B,
    endedAt: '2030-01-01T01:00:00Z', endReason: 'client closed' });
  const chunk = named('SessionChunk', 'lifecycle-1');
  chunk.spec.sequence = 1;
  chunk.spec.previousHash = HASH_A;
  await create(chunk);
});

// ---- rejections: each names the offending field ----
interface Rejection {
  readonly why: string;
  /** The field path the API server's message must name. */
  readonly field: string;
  /** Change a valid object before creating it… */
  readonly create?: (o: Obj) => void;
  /** …or create it valid, then change it and replace it… */
  readonly update?: (o: Obj) => void;
  /** …or create it valid, set statusBefore, then write status. */
  readonly statusBefore?: object;
  readonly status?: object;
}

const rules = (o: Obj) => (o.spec.resources as { rules: Record<string, unknown>[] }[])[0]!.rules;
const endpoint = (o: Obj) => o.spec.endpoint as Record<string, unknown>;

const REJECTIONS: Record<string, readonly Rejection[]> = {
  ProtectedResource: [
    { why: 'unknown protocol', field: 'spec.protocol', create: (o) => { o.spec.protocol = 'oracle'; } },
    { why: 'missing endpoint', field: 'spec.endpoint', create: (o) => { delete o.spec.endpoint; } },
    { why: 'port out of range', field: 'spec.endpoint.port', create: (o) => { endpoint(o).port = 70000; } },
    { why: 'postgres endpoint given as a url (CEL)', field: 'spec.endpoint', create: (o) => {
      delete endpoint(o).host; delete endpoint(o).port; endpoint(o).url = 'https://db.example';
    } },
    { why: 'verify-full without a CA for postgres (CEL)', field: 'spec.endpoint.tls', create: (o) => { endpoint(o).tls = { mode: 'verify-full' }; } },
    { why: 'postgres without credentials (CEL)', field: 'spec.credentials', create: (o) => { delete o.spec.credentials; } },
    { why: 'unknown detector', field: 'spec.classifications[0].detectors[0]', create: (o) => {
      (o.spec.classifications as Record<string, unknown>[])[0]!.detectors = ['ssn'];
    } },
    { why: 'duplicate classification names (CEL)', field: 'spec.classifications', create: (o) => {
      const c = o.spec.classifications as Record<string, unknown>[];
      c.push({ ...c[0]! });
    } },
    { why: 'env name that is not an identifier (CEL)', field: 'spec.expose.env', create: (o) => {
      (o.spec.expose as { env: Record<string, string> }).env['1BAD'] = 'x';
    } },
    { why: 'unknown field (strict field validation)', field: 'spec.databaseName', create: (o) => { o.spec.databaseName = 'orders'; } },
  ],
  AgentPolicy: [
    { why: 'missing agents', field: 'spec.agents', create: (o) => { delete o.spec.agents; } },
    { why: 'unknown action', field: 'spec.resources[0].rules[0].action', create: (o) => { rules(o)[0]!.action = 'maybe'; } },
    { why: 'statement kind outside the vocabulary', field: 'spec.resources[0].rules[0].sql.statements[0]', create: (o) => {
      rules(o)[0]!.sql = { statements: ['selct'] };
    } },
    { why: 'two matcher blocks in one rule (CEL)', field: 'spec.resources[0].rules[0]', create: (o) => {
      rules(o)[0]!.kubernetes = { verbs: ['get'] };
    } },
    { why: 'duplicate rule names (CEL)', field: 'spec.resources[0].rules', create: (o) => { rules(o)[1]!.name = rules(o)[0]!.name; } },
    { why: 'approve rule without spec.approval (CEL)', field: 'spec.approval', create: (o) => { delete o.spec.approval; } },
    { why: 'approval timeout of zero (CEL)', field: 'spec.approval.timeout', create: (o) => {
      (o.spec.approval as Record<string, unknown>).timeout = '0s';
    } },
    { why: 'retention below an hour (CEL)', field: 'spec.recording.retention', create: (o) => {
      (o.spec.recording as Record<string, unknown>).retention = '10m';
    } },
    { why: 'unknown masking strategy', field: 'spec.resources[0].masking[0].strategy', create: (o) => {
      (o.spec.resources as { masking: Record<string, unknown>[] }[])[0]!.masking[0]!.strategy = 'shuffle';
    } },
    { why: 'In without values (CEL)', field: 'spec.agents.podSelector.matchExpressions[0].values', create: (o) => {
      o.spec.agents = { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } };
    } },
  ],
  ApprovalRequest: [
    { why: 'missing fingerprint', field: 'spec.fingerprint', create: (o) => { delete o.spec.fingerprint; } },
    { why: 'unknown protocol', field: 'spec.protocol', create: (o) => { o.spec.protocol = 'telnet'; } },
    { why: 'expiresAt that is not a timestamp', field: 'spec.expiresAt', create: (o) => { o.spec.expiresAt = 'in ten minutes'; } },
    { why: 'rule name longer than 63', field: 'spec.rule', create: (o) => { o.spec.rule = 'r'.repeat(64); } },
    { why: 'spec changed after creation (CEL)', field: 'spec', update: (o) => { o.spec.command = 'DELETE FROM orders'; } },
    { why: 'unknown phase', field: 'status.phase', status: { phase: 'Maybe' } },
    { why: 'approved without decidedBy (CEL)', field: 'status.decidedBy', status: { phase: 'Approved', decidedAt: '2030-01-01T00:05:00Z' } },
    { why: 'a decided request changed again (CEL transition)', field: 'status',
      statusBefore: { phase: 'Denied', decidedBy: 'bob', decidedAt: '2030-01-01T00:05:00Z' },
      status: { phase: 'Approved', decidedBy: 'mallory' } },
  ],
  AgentSession: [
    { why: 'missing startedAt', field: 'spec.startedAt', create: (o) => { delete o.spec.startedAt; } },
    { why: 'unknown protocol', field: 'spec.protocol', create: (o) => { o.spec.protocol = 'ftp'; } },
    { why: 'namespace longer than 63', field: 'spec.namespace', create: (o) => { o.spec.namespace = 'n'.repeat(64); } },
    { why: 'spec changed after creation (CEL)', field: 'spec', update: (o) => { o.spec.subject = 'someone-else'; } },
    { why: 'headHash that is not a SHA-256', field: 'status.headHash', status: { headHash: 'not-a-hash' } },
    { why: 'endedAt before startedAt (CEL)', field: 'status.endedAt', status: { endedAt: '2029-12-31T23:59:59Z' } },
    { why: 'counts decrease (CEL transition)', field: 'status.counts',
      statusBefore: { counts: { commands: 5, allowed: 5, denied: 0, approved: 0, maskedValues: 0 } },
      status: { counts: { commands: 1, allowed: 1, denied: 0, approved: 0, maskedValues: 0 } } },
    { why: 'chunkCount decreases (CEL transition)', field: 'status.chunkCount', statusBefore: { chunkCount: 3 }, status: { chunkCount: 2 } },
  ],
  SessionChunk: [
    { why: 'missing session', field: 'spec.session', create: (o) => { delete o.spec.session; } },
    { why: 'hash that is not a SHA-256', field: 'spec.hash', create: (o) => { o.spec.hash = 'abc'; } },
    { why: 'events that are not base64', field: 'spec.events', create: (o) => { o.spec.events = '%%% not base64 %%%'; } },
    { why: 'zero events', field: 'spec.eventCount', create: (o) => { o.spec.eventCount = 0; } },
    { why: 'sequence 1 without previousHash (CEL)', field: 'spec.previousHash', create: (o) => { o.spec.sequence = 1; } },
    { why: 'firstEventAt after lastEventAt (CEL)', field: 'spec.lastEventAt', create: (o) => { o.spec.firstEventAt = '2030-01-02T00:00:00Z'; } },
    { why: 'spec changed after creation (CEL)', field: 'spec', update: (o) => { o.spec.hash = HASH_B; } },
  ],
};

for (const [kind, cases] of Object.entries(REJECTIONS)) {
  test(`${kind} rejects invalid objects server-side, naming the field`, async (t) => {
    assert.ok(cases.length >= 5, 'at least five kinds of invalid objects');
    let i = 0;
    for (const c of cases) {
      await t.test(c.why, async () => {
        const o = named(kind, `bad-${kind.toLowerCase()}-${i++}`);
        let stderr: string;
        if (c.create) {
          c.create(o);
          const r = await create(o, true);
          assert.notEqual(r.code, 0, `accepted: ${JSON.stringify(o.spec)}`);
          stderr = r.stderr;
        } else if (c.update) {
          await create(o);
          c.update(o);
          const r = await kubectl(['replace', '-f', '-'], { input: JSON.stringify(o), allowFailure: true });
          assert.notEqual(r.code, 0, 'update accepted');
          stderr = r.stderr;
        } else {
          await create(o);
          if (c.statusBefore) await patchStatus(o, c.statusBefore);
          const r = await patchStatus(o, c.status ?? {}, true);
          assert.notEqual(r.code, 0, 'status write accepted');
          stderr = r.stderr;
        }
        assert.match(stderr, /is invalid|unknown field|strict decoding error/, stderr);
        // The field path as the API server prints it: followed by ':' (schema and CEL errors) or a quote (unknown field).
        const escaped = c.field.replace(/[.[\]]/g, (m) => `\\${m}`);
        assert.match(stderr, new RegExp(`${escaped}(:|")`), `names ${c.field}: ${stderr}`);
      });
    }
  });
}
