// Cluster mode: service-account tokens as the API server issues them (bound to a pod) must be bound to this pod.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { JWTPayload } from 'jose';
import { AuthError, createVerifier, type AuthErrorCode, type VerifierConfig } from './jwt-verifier.ts';
import { makeKey, sign, testClock, type TestKey } from './test-fixtures.ts';

const CLUSTER = 'https://kubernetes.default.svc.cluster.local';
const IDP = 'https://idp.example';
const clock = testClock();
let clusterKey: TestKey;
let idpKey: TestKey;

before(async () => {
  [clusterKey, idpKey] = await Promise.all([makeKey('RS256'), makeKey('ES256')]);
});

function config(podBinding: VerifierConfig['podBinding'], extra: Partial<VerifierConfig> = {}): VerifierConfig {
  return {
    issuers: [
      { issuer: CLUSTER, audiences: ['portcullis'], jwks: { keys: { keys: [clusterKey.jwk] } } },
      { issuer: IDP, audiences: ['portcullis'], jwks: { keys: { keys: [idpKey.jwk] } } },
    ],
    ...(podBinding === undefined ? {} : { podBinding }),
    now: clock.now,
    ...extra,
  };
}

/** Claims laid out as a projected service-account token of pod `pod` (the API server's private claim). */
function serviceAccountClaims(pod: { name: string; uid: string } | undefined, namespace = 'agents', sa = 'support-agent'): JWTPayload {
  const now = clock.sec();
  return {
    iss: CLUSTER,
    sub: `system:serviceaccount:${namespace}:${sa}`,
    aud: ['portcullis'],
    iat: now,
    nbf: now,
    exp: now + 3600,
    'kubernetes.io': {
      namespace,
      serviceaccount: { name: sa, uid: '6c7c4a3e-0000-4000-8000-000000000001' },
      ...(pod === undefined ? {} : { pod }),
      node: { name: 'node-1', uid: '6c7c4a3e-0000-4000-8000-000000000009' },
      warnafter: now + 3000,
    },
  };
}

const POD = { name: 'support-agent-7d9f', uid: '6c7c4a3e-0000-4000-8000-00000000000a' };

async function code(cfg: VerifierConfig, claims: JWTPayload, key = clusterKey): Promise<AuthErrorCode | 'ok'> {
  return createVerifier(cfg)
    .verify(await sign(key, claims))
    .then(
      () => 'ok' as const,
      (e: unknown) => {
        assert.ok(e instanceof AuthError, String(e));
        return e.code;
      },
    );
}

test('a service-account token bound to this pod is accepted, with the account groups', async () => {
  const identity = await createVerifier(config({ ...POD, namespace: 'agents' })).verify(await sign(clusterKey, serviceAccountClaims(POD)));
  assert.equal(identity.subject, 'system:serviceaccount:agents:support-agent');
  assert.deepEqual(identity.groups, ['system:serviceaccounts', 'system:serviceaccounts:agents']);
});

test('pod binding table', async () => {
  const human: JWTPayload = { iss: IDP, sub: 'alice', aud: 'portcullis', exp: clock.sec() + 600, groups: ['sre'] };
  const cases: Array<{ name: string; binding: VerifierConfig['podBinding']; claims: JWTPayload; key?: TestKey; want: AuthErrorCode | 'ok' }> = [
    { name: 'same pod, name only', binding: { name: POD.name }, claims: serviceAccountClaims(POD), want: 'ok' },
    { name: 'another pod', binding: POD, claims: serviceAccountClaims({ name: 'other-pod', uid: POD.uid }), want: 'pod_binding' },
    { name: 'same name, another uid (re-created pod)', binding: POD, claims: serviceAccountClaims({ name: POD.name, uid: 'x' }), want: 'pod_binding' },
    { name: 'same pod name, other namespace', binding: { ...POD, namespace: 'agents' }, claims: serviceAccountClaims(POD, 'other'), want: 'pod_binding' },
    { name: 'token not bound to a pod', binding: POD, claims: serviceAccountClaims(undefined), want: 'pod_binding' },
    {
      name: 'service-account subject without the kubernetes.io claim',
      binding: POD,
      claims: { ...serviceAccountClaims(POD), 'kubernetes.io': undefined },
      want: 'pod_binding',
    },
    { name: 'no binding configured: another pod is fine', binding: undefined, claims: serviceAccountClaims({ name: 'x', uid: 'y' }), want: 'ok' },
    { name: "a human's OIDC token carries no pod", binding: POD, claims: human, key: idpKey, want: 'ok' },
    {
      name: 'kubernetes.io claim naming another account than sub',
      binding: POD,
      claims: { ...serviceAccountClaims(POD), sub: 'system:serviceaccount:agents:admin' },
      want: 'invalid_claims',
    },
    { name: 'malformed kubernetes.io claim', binding: POD, claims: { ...serviceAccountClaims(POD), 'kubernetes.io': 'agents' }, want: 'invalid_claims' },
    {
      name: 'malformed pod in the claim',
      binding: POD,
      claims: serviceAccountClaims({ name: POD.name } as { name: string; uid: string }),
      want: 'invalid_claims',
    },
  ];
  for (const c of cases) assert.equal(await code(config(c.binding), c.claims, c.key), c.want, c.name);
});

test('required groups match the derived service-account groups', async () => {
  const cfg = config(POD, { claims: { groups: ['system:serviceaccounts:agents'] } });
  assert.equal(await code(cfg, serviceAccountClaims(POD)), 'ok');
  assert.equal(await code(cfg, serviceAccountClaims(POD, 'other')), 'claims');
});
