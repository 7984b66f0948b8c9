// The offline validator: the examples pass, broken objects fail with the field-named errors the API server gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadManifests } from '../manifests/load.ts';
import {
  formatFieldErrors,
  isApiKind,
  validateAgainstSchema,
  validateObject,
  type AgentPolicy,
  type AgentSession,
  type ApprovalRequest,
  type OpenApiSchema,
  type ProtectedResource,
  type SessionChunk,
} from './index.ts';

const examplesDir = join(import.meta.dirname, '../../examples/policies');
const examples = loadManifests([examplesDir]);
const example = <T>(kind: string, name: string): T => {
  const found = examples.find((m) => m.object.kind === kind && m.object.metadata.name === name);
  assert.ok(found, `example ${kind} ${name} missing`);
  return structuredClone(found.object) as unknown as T;
};
const errorsOf = (obj: unknown) => formatFieldErrors(validateObject(obj));

// Typed samples of the operator-written kinds: tsc checks them against the generated types, the tests against the schema.
const hash = (c: string) => c.repeat(64);
const approvalRequest: ApprovalRequest = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name: 'support-agent-7f3c', namespace: 'agents' },
  spec: {
    policy: 'support-agent',
    rule: 'order-writes',
    resource: 'orders-db',
    pod: 'support-agent-5d9f-abcde',
    session: 'orders-db-1a2b3c',
    requester: 'system:serviceaccount:agents:support-agent',
    protocol: 'postgres',
    command: "UPDATE public.orders SET status = 'refunded' WHERE id = 42",
    fingerprint: hash('a'),
    expiresAt: '2026-11-27T10:10:00Z',
  },
  status: { phase: 'Approved', decidedBy: 'alice', decidedAt: '2026-11-27T10:02:00Z', reason: 'refund ticket 881' },
};
const agentSession: AgentSession = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'AgentSession',
  metadata: { name: 'orders-db-1a2b3c', namespace: 'agents' },
  spec: {
    pod: 'support-agent-5d9f-abcde',
    namespace: 'agents',
    resource: 'orders-db',
    protocol: 'postgres',
    subject: 'system:serviceaccount:agents:support-agent',
    startedAt: '2026-11-27T10:00:00.123Z',
  },
  status: {
    counts: { commands: 12, allowed: 9, denied: 2, approved: 1, maskedValues: 40 },
    chunkCount: 2,
    headHash: hash('b'),
    endedAt: '2026-11-27T10:30:00Z',
    endReason: 'client closed the connection',
  },
};
const sessionChunk: SessionChunk = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'SessionChunk',
  metadata: { name: 'orders-db-1a2b3c-1', namespace: 'agents' },
  spec: {
    session: 'orders-db-1a2b3c',
    sequence: 1,
    previousHash: hash('c'),
    hash: hash('d'),
    events: Buffer.from('{"type":"command"}\n').toString('base64'),
    eventCount: 1,
    firstEventAt: '2026-11-27T10:00:01Z',
    lastEventAt: '2026-11-27T10:00:01Z',
  },
};

test('every Portcullis object of examples/policies validates, and there is one of each kind the contract shows', () => {
  const ours = examples.filter((m) => isApiKind(m.object.kind));
  assert.deepEqual(ours.map((m) => `${m.object.kind}/${m.object.metadata.name}`).sort(), [
    'AgentPolicy/support-agent',
    'ProtectedResource/orders-db',
    'ProtectedResource/prod-cluster',
  ]);
  for (const m of ours) assert.deepEqual(errorsOf(m.object), [], m.source);
  // Every Secret a ProtectedResource names is among the examples, so `kubectl apply -f examples/policies` is whole.
  const secrets = new Set(examples.filter((m) => m.object.kind === 'Secret').map((m) => m.object.metadata.name));
  for (const m of ours.filter((o) => o.object.kind === 'ProtectedResource')) {
    const pr = m.object as unknown as ProtectedResource;
    assert.ok(secrets.has(pr.spec.credentials!.secretRef.name), `${m.source}: Secret ${pr.spec.credentials!.secretRef.name} missing`);
  }
});

test('the operator-written kinds validate', () => {
  for (const obj of [approvalRequest, agentSession, sessionChunk]) assert.deepEqual(errorsOf(obj), [], obj.kind);
});

type Mutation<T> = (o: T) => void;
const policyCases: [string, Mutation<AgentPolicy>, string[]][] = [
  ['misspelt action', (p) => void (p.spec.resources[0]!.rules![1]!.action = 'allw' as never), [
    'spec.resources[0].rules[1].action: Unsupported value "allw": supported values: "allow", "deny", "approve"',
  ]],
  ['misspelt field', (p) => void Object.assign(p.spec.resources[0]!, { defaultActon: 'allow' }), [
    'spec.resources[0].defaultActon: Unknown field "defaultActon": not declared in the schema',
  ]],
  ['unknown statement kind', (p) => void (p.spec.resources[0]!.rules![0]!.sql!.statements = ['selct']), [
    `spec.resources[0].rules[0].sql.statements[0]: Invalid value: "selct": should match '^([a-z_]*\\*[a-z_*]*|select|insert|update|delete|merge|truncate|copy_to|copy_from|copy_file|copy_program|(create|alter|drop)_[a-z_]+|grant|revoke|call|do|set|set_role|show|transaction|prepare|execute|deallocate|explain|vacuum|analyze|lock|listen|unlisten|notify|comment|refresh_materialized_view|reindex|cluster|discard|checkpoint|other|load_data|replace|handler|kill|use)$'`,
  ]],
  ['unknown verb', (p) => void (p.spec.resources[1]!.rules![0]!.kubernetes!.verbs = ['get', 'exec' as never]), [
    'spec.resources[1].rules[0].kubernetes.verbs[1]: Unsupported value "exec": supported values: "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "post", "put", "head", "options", "*"',
  ]],
  ['rule without name', (p) => void delete (p.spec.resources[0]!.rules![2] as Partial<{ name: string }>).name, [
    'spec.resources[0].rules[2].name: Required value',
  ]],
  ['rule name not a DNS label', (p) => void (p.spec.resources[0]!.rules![0]!.name = 'Reads'), [
    `spec.resources[0].rules[0].name: Invalid value: "Reads": should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'`,
  ]],
  ['masking strategy', (p) => void (p.spec.resources[0]!.masking![0]!.strategy = 'mask' as never), [
    'spec.resources[0].masking[0].strategy: Unsupported value "mask": supported values: "redact", "last4", "hash", "null"',
  ]],
  ['empty masking classification', (p) => void (p.spec.resources[0]!.masking![0]!.classification = ''), [
    'spec.resources[0].masking[0].classification: Invalid value: "": should be at least 1 chars long',
  ]],
  ['duration in words', (p) => void (p.spec.approval!.timeout = '10 minutes'), [
    `spec.approval.timeout: Invalid value: "10 minutes": should match '^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$'`,
  ]],
  ['responses level', (p) => void (p.spec.recording!.responses = 'all' as never), [
    'spec.recording.responses: Unsupported value "all": supported values: "none", "summary", "full"',
  ]],
  ['no resources', (p) => void (p.spec.resources = []), ['spec.resources: Invalid value: 0: should have at least 1 items']],
  ['resources missing', (p) => void delete (p.spec as Partial<AgentPolicy['spec']>).resources, ['spec.resources: Required value']],
  ['selector values not a list', (p) => void ((p.spec.agents.podSelector as Record<string, unknown>).matchLabels = { app: ['x'] }), [
    'spec.agents.podSelector.matchLabels[app]: Invalid value: ["x"]: must be of type string',
  ]],
  ['unboundedWrite as a string', (p) => void ((p.spec.resources[0]!.rules![2]!.sql as Record<string, unknown>).unboundedWrite = 'yes'), [
    'spec.resources[0].rules[2].sql.unboundedWrite: Invalid value: "yes": must be of type boolean',
  ]],
  ['too many rules', (p) => void (p.spec.resources[0]!.rules = Array.from({ length: 65 }, (_, i) => ({ name: `r${i}`, action: 'allow' as const, sql: { statements: ['select'] } }))), [
    'spec.resources[0].rules: Too many: 65: must have at most 64 items',
  ]],
  ['two errors at once, in document order', (p) => {
    p.spec.resources[0]!.defaultAction = 'approve' as never;
    p.spec.approval!.approvers.groups = ['x'.repeat(254)];
  }, [
    'spec.resources[0].defaultAction: Unsupported value "approve": supported values: "allow", "deny"',
    'spec.approval.approvers.groups[0]: Too long: may not be more than 253 characters',
  ]],
];

const resourceCases: [string, Mutation<ProtectedResource>, string[]][] = [
  ['protocol', (r) => void (r.spec.protocol = 'postgresql' as never), [
    'spec.protocol: Unsupported value "postgresql": supported values: "postgres", "mysql", "kubernetes", "http", "ssh"',
  ]],
  ['port out of range', (r) => void (r.spec.endpoint.port = 70000), ['spec.endpoint.port: Invalid value: 70000: should be less than or equal to 65535']],
  ['port zero', (r) => void (r.spec.expose!.port = 0), ['spec.expose.port: Invalid value: 0: should be greater than or equal to 1']],
  ['port as a string', (r) => void ((r.spec.endpoint as Record<string, unknown>).port = '5432'), [
    'spec.endpoint.port: Invalid value: "5432": must be of type integer',
  ]],
  ['tls mode', (r) => void (r.spec.endpoint.tls!.mode = 'prefer' as never), [
    'spec.endpoint.tls.mode: Unsupported value "prefer": supported values: "disable", "require", "verify-full"',
  ]],
  ['detector', (r) => void (r.spec.classifications![0]!.detectors = ['credit-card', 'passport' as never]), [
    'spec.classifications[0].detectors[1]: Unsupported value "passport": supported values: "credit-card", "email", "iban", "us-ssn", "phone", "jwt", "aws-access-key", "private-key"',
  ]],
  ['duplicate detector', (r) => void (r.spec.classifications![1]!.detectors = ['email', 'email']), [
    'spec.classifications[1].detectors[1]: Duplicate value: "email"',
  ]],
  ['column not schema.table.column', (r) => void (r.spec.classifications![0]!.columns = ['card_number']), [
    `spec.classifications[0].columns[0]: Invalid value: "card_number": should match '^[^.\\s]+\\.[^.\\s]+\\.[^.\\s]+$'`,
  ]],
  ['secret without a name', (r) => void ((r.spec.credentials!.secretRef as unknown as Record<string, unknown>).name = undefined), [
    'spec.credentials.secretRef.name: Required value',
  ]],
  ['env value not a string', (r) => void ((r.spec.expose!.env as Record<string, unknown>).PGPORT = 5432), [
    'spec.expose.env[PGPORT]: Invalid value: 5432: must be of type string',
  ]],
  ['metadata name', (r) => void (r.metadata.name = 'Orders_DB'), [
    `metadata.name: Invalid value: "Orders_DB": must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', at most 253 characters)`,
  ]],
  ['spec missing', (r) => void delete (r as Partial<ProtectedResource>).spec, ['spec: Required value']],
];

for (const [name, mutate, expected] of policyCases) {
  test(`AgentPolicy: ${name}`, () => {
    const p = example<AgentPolicy>('AgentPolicy', 'support-agent');
    mutate(p);
    assert.deepEqual(errorsOf(p), expected);
  });
}

for (const [name, mutate, expected] of resourceCases) {
  test(`ProtectedResource: ${name}`, () => {
    const r = example<ProtectedResource>('ProtectedResource', 'orders-db');
    mutate(r);
    assert.deepEqual(errorsOf(r), expected);
  });
}

const operatorCases: [string, () => unknown, string[]][] = [
  ['ApprovalRequest phase', () => ({ ...approvalRequest, status: { phase: 'Approve' } }), [
    'status.phase: Unsupported value "Approve": supported values: "Pending", "Approved", "Denied", "Expired"',
  ]],
  ['ApprovalRequest expiresAt not a date-time', () => ({ ...approvalRequest, spec: { ...approvalRequest.spec, expiresAt: 'in ten minutes' } }), [
    'spec.expiresAt: Invalid value: "in ten minutes": must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z',
  ]],
  ['ApprovalRequest without a fingerprint', () => ({ ...approvalRequest, spec: { ...approvalRequest.spec, fingerprint: undefined } }), [
    'spec.fingerprint: Required value',
  ]],
  ['AgentSession negative count', () => ({ ...agentSession, status: { counts: { ...agentSession.status!.counts!, denied: -1 } } }), [
    'status.counts.denied: Invalid value: -1: should be greater than or equal to 0',
  ]],
  ['AgentSession head hash', () => ({ ...agentSession, status: { headHash: 'ABC' } }), [
    `status.headHash: Invalid value: "ABC": should match '^[0-9a-f]{64}$'`,
  ]],
  ['SessionChunk events not base64', () => ({ ...sessionChunk, spec: { ...sessionChunk.spec, events: 'not base64!' } }), [
    'spec.events: Invalid value: "not base64!": must be base64-encoded',
  ]],
  ['SessionChunk events over the bound', () => ({ ...sessionChunk, spec: { ...sessionChunk.spec, events: 'A'.repeat(699056) } }), [
    'spec.events: Too long: may not be more than 699052 characters',
  ]],
  ['SessionChunk status fields', () => ({ ...sessionChunk, status: { verified: true } }), [
    'status.verified: Unknown field "verified": not declared in the schema',
  ]],
  ['wrong apiVersion', () => ({ ...sessionChunk, apiVersion: 'portcullis.dev/v1' }), [
    'apiVersion: Unsupported value "portcullis.dev/v1": supported values: "portcullis.dev/v1alpha1"',
  ]],
  ['unknown kind', () => ({ ...sessionChunk, kind: 'AgentSecret' }), [
    'kind: Unsupported value "AgentSecret": supported values: "AgentPolicy", "AgentSession", "ApprovalRequest", "ProtectedResource", "SessionChunk"',
  ]],
  ['no metadata', () => ({ ...sessionChunk, metadata: undefined }), ['metadata.name: Required value']],
  ['namespace not a label', () => ({ ...sessionChunk, metadata: { name: 'x', namespace: 'a.b' } }), [
    `metadata.namespace: Invalid value: "a.b": must be a lowercase RFC 1123 label (a-z, 0-9 and '-', at most 63 characters)`,
  ]],
  ['not an object', () => ['a list'], ['Invalid value: ["a list"]: must be an object']],
];

for (const [name, build, expected] of operatorCases) {
  test(name, () => assert.deepEqual(errorsOf(build()), expected));
}

test('null fields are dropped as the API server drops them; a null required field is missing', () => {
  const r = example<ProtectedResource>('ProtectedResource', 'orders-db');
  (r.spec as unknown as Record<string, unknown>).expose = null;
  assert.deepEqual(errorsOf(r), []);
  (r.spec as unknown as Record<string, unknown>).protocol = null;
  assert.deepEqual(errorsOf(r), ['spec.protocol: Required value']);
});

const s = (schema: OpenApiSchema) => schema;
const keywordCases: [string, OpenApiSchema, unknown, string[]][] = [
  ['maxLength counts characters, not UTF-16 units', s({ type: 'string', maxLength: 2 }), '😀😀', []],
  ['maxLength over', s({ type: 'string', maxLength: 2 }), '😀😀😀', ['x: Too long: may not be more than 2 characters']],
  ['number type', s({ type: 'number' }), Number.NaN, ['x: Invalid value: null: must be of type number']],
  ['integer rejects fractions', s({ type: 'integer' }), 1.5, ['x: Invalid value: 1.5: must be of type integer']],
  ['maxProperties', s({ type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } }), { a: 'x', b: 'y' }, ['x: Too many: 2: must have at most 1 items']],
  ['map-list duplicate key', s({
    type: 'array',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    items: { type: 'object', properties: { type: { type: 'string' }, n: { type: 'integer' } } },
  }), [{ type: 'Ready', n: 1 }, { type: 'Ready', n: 2 }], ['x[1]: Duplicate value: {"type":"Ready"}']],
  ['preserve-unknown-fields keeps anything', s({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }), { any: { thing: 1 } }, []],
  ['date-time with offset and fraction', s({ type: 'string', format: 'date-time' }), '2026-11-27T10:00:00.5+01:00', []],
  ['date-time that does not exist', s({ type: 'string', format: 'date-time' }), '2026-13-45T10:00:00Z', [
    'x: Invalid value: "2026-13-45T10:00:00Z": must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z',
  ]],
  ['null list item', s({ type: 'array', items: { type: 'string' } }), ['a', null], ['x[1]: Invalid value: null: must be of type string']],
  ['missing value', s({ type: 'string' }), undefined, ['x: Required value']],
  ['long values are cut short in messages', s({ type: 'string', pattern: '^a+$' }), 'b'.repeat(500), [
    `x: Invalid value: "${'b'.repeat(116)}...: should match '^a+$'`,
  ]],
];

for (const [name, schema, value, expected] of keywordCases) {
  test(`validateAgainstSchema: ${name}`, () => assert.deepEqual(formatFieldErrors(validateAgainstSchema(schema, value, 'x')), expected));
}
