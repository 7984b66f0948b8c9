// The pod validating webhook. Validating webhooks run after every mutating one, so this sees the pod exactly as it
// will be stored and catches what a later mutation (another vendor's webhook) or a bypassed injector would let by:
//   CREATE  — the same decision as the injector; an agent pod must carry exactly the sidecar we render;
//   UPDATE  — the sidecar container of an injected pod is immutable (pod updates may change images: swapping the
//             sidecar's image would hand its credentials to any code);
//   pods/ephemeralcontainers UPDATE — a debug container added later gets the agent checks and may not target the
//             sidecar's process namespace, mount its volumes or read a credentials Secret.
import { isDeepStrictEqual } from 'node:util';
import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from './admission.ts';
import { decidePod, isInjectedAsExpected, type InjectionDeps } from './inject.ts';
import type { InjectorConfig } from './injector-config.ts';
import { SIDECAR_CONTAINER } from './names.ts';
import { checkAgentContainer, checkAgentMounts, checkCredentialReferences, refusal } from './pod-checks.ts';
import { findSidecar, type ContainerRef } from './pod-walk.ts';

export function validatePod(req: AdmissionRequest, deps: InjectionDeps, config: InjectorConfig): AdmissionResponse {
  if (req.subResource === 'ephemeralcontainers') return validateEphemeral(req, deps, config);
  if (req.subResource) return allow(req.uid);
  if (req.operation === 'CREATE') return validateCreate(req, deps, config);
  if (req.operation === 'UPDATE') return validateUpdate(req);
  return allow(req.uid);
}

function validateCreate(req: AdmissionRequest, deps: InjectionDeps, config: InjectorConfig): AdmissionResponse {
  const decision = decidePod(req, deps, config);
  switch (decision.kind) {
    case 'ignore':
    case 'plain':
      return allow(req.uid);
    case 'refuse':
      return deny(req.uid, decision.message);
    case 'agent':
      if (isInjectedAsExpected(decision.pod, decision.expected)) return allow(req.uid);
      return deny(
        req.uid,
        'portcullis: AgentPolicies select this pod but it does not carry the Portcullis sidecar as the injector renders it ' +
          '(a later mutating webhook changed it, or the injector was bypassed); an agent never starts unprotected',
      );
  }
}

function validateUpdate(req: AdmissionRequest): AdmissionResponse {
  const before = asPod(req.oldObject);
  const after = asPod(req.object);
  if (!before || !after) return deny(req.uid, 'portcullis: the request carries no pod object', 400);
  const was = findSidecar(before);
  if (!was) return allow(req.uid);
  if (!isDeepStrictEqual(was, findSidecar(after))) {
    return deny(req.uid, `portcullis: the ${SIDECAR_CONTAINER} container of an injected pod cannot be changed; recreate the pod instead`);
  }
  return allow(req.uid);
}

function validateEphemeral(req: AdmissionRequest, deps: InjectionDeps, config: InjectorConfig): AdmissionResponse {
  const before = asPod(req.oldObject);
  const after = asPod(req.object);
  if (!before || !after) return deny(req.uid, 'portcullis: the request carries no pod object', 400);
  const namespace = req.namespace ?? after.metadata?.namespace ?? '';
  if (namespace === config.operatorNamespace || deps.injectionEnabled?.(namespace) === false) return allow(req.uid);
  const existing = new Set((before.spec?.ephemeralContainers ?? []).map((c) => c.name));
  const added: ContainerRef[] = [];
  for (const [index, container] of (after.spec?.ephemeralContainers ?? []).entries()) {
    if (existing.has(container.name)) continue;
    added.push({ list: 'ephemeralContainers', index, container, where: `spec.ephemeralContainers[${index}] ${JSON.stringify(container.name)}` });
  }
  if (added.length === 0) return allow(req.uid);
  const problems = checkCredentialReferences(after.spec!, deps.credentialsSecrets(namespace), { containers: added });
  if (findSidecar(after)) {
    for (const ref of added) {
      if ((ref.container as V1EphemeralContainer).targetContainerName === SIDECAR_CONTAINER) {
        problems.push(`${ref.where} targets ${SIDECAR_CONTAINER}: sharing the sidecar's process namespace exposes its credentials`);
      }
      problems.push(...checkAgentMounts(ref), ...checkAgentContainer(ref, after.spec!, config));
    }
  }
  return problems.length > 0 ? deny(req.uid, refusal(problems)) : allow(req.uid);
}

function asPod(v: unknown): V1Pod | undefined {
  return typeof v === 'object' && v !== null && typeof (v as V1Pod).spec === 'object' ? (v as V1Pod) : undefined;
}
