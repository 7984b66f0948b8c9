import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { mutatePod } from './inject.ts';
import { findSidecar } from './pod-walk.ts';
import { validatePod } from './validate-pod.ts';
import { agentPod, applyPatch, fakeDeps, patchOf, podRequest, serverDefaulted, testConfig } from './testing.ts';

const config = testConfig();

function injected(): V1Pod {
  const pod = agentPod();
  return serverDefaulted(applyPatch(pod, patchOf(mutatePod(podRequest(pod), fakeDeps(), config))));
}

const clone = (p: V1Pod): V1Pod => JSON.parse(JSON.stringify(p)) as V1Pod;

describe('validatePod: CREATE sees the final pod', () => {
  it('an agent pod injected as rendered is allowed', () => {
    const res = validatePod(podRequest(injected()), fakeDeps(), config);
    assert.equal(res.allowed, true, res.status?.message);
  });

  it('an agent pod without the sidecar (injector bypassed) is refused', () => {
    const res = validatePod(podRequest(agentPod()), fakeDeps(), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /does not carry the Portcullis sidecar as the injector renders it/);
  });

  it('a later mutation that changes the sidecar is refused', () => {
    const pod = injected();
    findSidecar(pod)!.image = 'other.example/sidecar:1';
    const res = validatePod(podRequest(pod), fakeDeps(), config);
    assert.equal(res.allowed, false);
  });

  it('a later mutation that makes an agent container privileged is refused with the isolation reason', () => {
    const pod = injected();
    pod.spec!.containers[0]!.securityContext = { privileged: true };
    const res = validatePod(podRequest(pod), fakeDeps(), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /"agent" is privileged/);
  });

  it('a non-agent pod reading a credentials Secret is refused; one that does not is allowed', () => {
    const bad = agentPod({ labels: { app: 'web' }, spec: { volumes: [{ name: 'c', secret: { secretName: 'orders-db-agent' } }] } });
    assert.equal(validatePod(podRequest(bad), fakeDeps(), config).allowed, false);
    assert.equal(validatePod(podRequest(agentPod({ labels: { app: 'web' } })), fakeDeps(), config).allowed, true);
  });
});

describe('validatePod: UPDATE keeps the sidecar as injected', () => {
  it('changing the sidecar\'s image is refused', () => {
    const before = injected();
    const after = clone(before);
    findSidecar(after)!.image = 'evil.example/reads-credentials:1';
    const res = validatePod(podRequest(after, { operation: 'UPDATE', oldObject: before }), fakeDeps(), config);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /portcullis-sidecar container of an injected pod cannot be changed/);
  });

  it('changing an agent image, labels or annotations is allowed', () => {
    const before = injected();
    const after = clone(before);
    after.spec!.containers[0]!.image = 'registry.example/agent:2';
    after.metadata!.labels = { ...after.metadata!.labels, rev: '2' };
    assert.equal(validatePod(podRequest(after, { operation: 'UPDATE', oldObject: before }), fakeDeps(), config).allowed, true);
  });

  it('a pod without a sidecar is not our business on UPDATE', () => {
    const before = agentPod({ labels: { app: 'web' } });
    assert.equal(validatePod(podRequest(before, { operation: 'UPDATE', oldObject: before }), fakeDeps(), config).allowed, true);
  });
});

describe('validatePod: ephemeral containers added later', () => {
  const debug = (extra: Partial<V1EphemeralContainer>): V1EphemeralContainer => ({ name: 'debugger', image: 'busybox', ...extra });
  function withEphemeral(pod: V1Pod, ...containers: V1EphemeralContainer[]): V1Pod {
    const out = clone(pod);
    out.spec!.ephemeralContainers = [...(out.spec!.ephemeralContainers ?? []), ...containers];
    return out;
  }
  function review(before: V1Pod, after: V1Pod) {
    return validatePod(podRequest(after, { operation: 'UPDATE', oldObject: before, subResource: 'ephemeralcontainers' }), fakeDeps(), config);
  }

  const refused: { name: string; container: Partial<V1EphemeralContainer>; message: RegExp }[] = [
    { name: 'targeting the sidecar', container: { targetContainerName: 'portcullis-sidecar' }, message: /targets portcullis-sidecar/ },
    {
      name: 'mounting the credentials volume',
      container: { volumeMounts: [{ name: 'portcullis-cred-orders-db', mountPath: '/c' }] },
      message: /mounts "portcullis-cred-orders-db", a volume of the Portcullis sidecar/,
    },
    { name: 'mounting the WAL', container: { volumeMounts: [{ name: 'portcullis-wal', mountPath: '/w' }] }, message: /"portcullis-wal"/ },
    {
      name: 'reading a credentials Secret through env',
      container: { env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'orders-db-agent', key: 'password' } } }] },
      message: /env PW reads Secret "orders-db-agent"/,
    },
    { name: 'envFrom a credentials Secret', container: { envFrom: [{ secretRef: { name: 'orders-db-agent' } }] }, message: /envFrom\[0\]/ },
    { name: 'privileged', container: { securityContext: { privileged: true } }, message: /"debugger" is privileged/ },
    { name: 'SYS_PTRACE', container: { securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }, message: /SYS_PTRACE/ },
    { name: 'running as the sidecar UID', container: { securityContext: { runAsUser: 65532 } }, message: /runs as UID 65532/ },
  ];
  for (const c of refused) {
    it(`refused: ${c.name}`, () => {
      const before = injected();
      const res = review(before, withEphemeral(before, debug(c.container)));
      assert.equal(res.allowed, false);
      assert.match(res.status?.message ?? '', c.message);
      assert.match(res.status?.message ?? '', /spec\.ephemeralContainers\[0\] "debugger"/);
    });
  }

  it('a plain debug container targeting the agent is allowed', () => {
    const before = injected();
    assert.equal(review(before, withEphemeral(before, debug({ targetContainerName: 'agent' }))).allowed, true);
  });

  it('only the containers added by this update are checked', () => {
    const before = withEphemeral(injected(), debug({ name: 'old', securityContext: { privileged: true } }));
    const res = review(before, withEphemeral(before, debug({ name: 'new' })));
    assert.equal(res.allowed, true, res.status?.message);
  });

  it('in a pod without the sidecar only the credentials check applies', () => {
    const before = agentPod({ labels: { app: 'web' } });
    assert.equal(review(before, withEphemeral(before, debug({ securityContext: { privileged: true } }))).allowed, true);
    const bad = debug({ envFrom: [{ secretRef: { name: 'orders-db-agent' } }] });
    assert.equal(review(before, withEphemeral(before, bad)).allowed, false);
  });

  it('a request without the old pod is a bad request', () => {
    const res = validatePod(podRequest(injected(), { operation: 'UPDATE', subResource: 'ephemeralcontainers' }), fakeDeps(), config);
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 400);
  });
});
