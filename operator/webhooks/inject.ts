// The pod mutating webhook (pod CREATE): decide whether the pod is an agent pod, refuse the shapes that would defeat
// isolation, and answer with the JSON patch that injects the sidecar (design §3).
//
// Namespace filtering: the webhook configuration's namespaceSelector (portcullis.dev/injection=enabled, and never
// the operator's own namespace) decides which pods reach us — the API server evaluates it against the live namespace
// labels. `injectionEnabled` (an informer-backed lookup, optional) re-checks it: `false` means the label is gone and
// the pod is left alone; `undefined` (namespace not in the cache yet) trusts the API server's selector.
import type { V1Pod } from '@kubernetes/client-node';
import { INJECT_ANNOTATION } from '../../core/api/index.ts';
import { allow, allowWithPatch, deny, pointerToken, type AdmissionRequest, type AdmissionResponse, type JsonPatchOp } from './admission.ts';
import { equalAfterDefaulting } from './defaulted-equal.ts';
import type { InjectorConfig } from './injector-config.ts';
import { ANNOTATION_INJECTED, ANNOTATION_POLICIES, ANNOTATION_RESOURCES, SIDECAR_CONTAINER } from './names.ts';
import { checkAgentMounts, checkAgentPod, checkCredentialReferences, checkReservedNames, refusal } from './pod-checks.ts';
import { agentContainers, findSidecar, podAnnotations, podLabels } from './pod-walk.ts';
import { InjectionError, renderInjection, stripInjection, type PolicySelection } from './sidecar-template.ts';

/** What the injector asks of the operator's caches. All lookups are synchronous reads of informer state. */
export interface InjectionDeps {
  /**
   * The AgentPolicies of `namespace` whose podSelector selects `labels`, and the ProtectedResources they name.
   * Throw when the selection cannot be decided (a selecting policy does not compile, a named resource is missing):
   * the pod is then refused with that message, since an agent never starts with a policy other than its own.
   */
  policiesFor(namespace: string, labels: Readonly<Record<string, string>>): PolicySelection;
  /** Names of the Secrets the namespace's ProtectedResources use as credentials. */
  credentialsSecrets(namespace: string): ReadonlySet<string>;
  /** Whether the namespace is labelled portcullis.dev/injection=enabled; undefined when the cache does not know it. */
  injectionEnabled?(namespace: string): boolean | undefined;
}

/** The parts of a pod the injection writes; a patch replaces each one that differs as a whole. */
const PATCHED_SPEC_FIELDS = ['initContainers', 'containers', 'volumes', 'automountServiceAccountToken'] as const;

export type PodDecision =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'refuse'; readonly message: string }
  | { readonly kind: 'plain'; readonly pod: V1Pod }
  | { readonly kind: 'agent'; readonly pod: V1Pod; readonly selection: PolicySelection; readonly expected: V1Pod };

/**
 * Classifies a pod of an admission request and runs every check that applies to it. Shared by the mutating
 * webhook (which then patches agent pods) and the validating one (which checks the final object).
 */
export function decidePod(req: AdmissionRequest, deps: InjectionDeps, config: InjectorConfig): PodDecision {
  const pod = req.object as V1Pod | undefined;
  if (typeof pod !== 'object' || pod === null || typeof pod.spec !== 'object' || pod.spec === null) {
    return { kind: 'refuse', message: 'portcullis: the request carries no pod object' };
  }
  const namespace = req.namespace ?? pod.metadata?.namespace ?? '';
  if (namespace === config.operatorNamespace) return { kind: 'ignore' };
  if (deps.injectionEnabled?.(namespace) === false) return { kind: 'ignore' };

  const secrets = deps.credentialsSecrets(namespace);
  const sidecar = findSidecar(pod);
  const optedOut = podAnnotations(pod)[INJECT_ANNOTATION] === 'false';
  let selection: PolicySelection = { policies: [], resources: [] };
  if (!optedOut) {
    try {
      selection = deps.policiesFor(namespace, podLabels(pod));
    } catch (e) {
      return { kind: 'refuse', message: `portcullis: cannot decide which AgentPolicies apply to this pod: ${(e as Error).message}` };
    }
  }
  if (optedOut || selection.policies.length === 0) {
    const problems = checkCredentialReferences(pod.spec, secrets);
    if (sidecar) {
      problems.unshift(`spec.initContainers: the container name ${SIDECAR_CONTAINER} is reserved for the Portcullis sidecar, and ${optedOut ? 'this pod opted out of injection' : 'no AgentPolicy selects this pod'}`);
    }
    return problems.length > 0 ? { kind: 'refuse', message: refusal(problems) } : { kind: 'plain', pod };
  }

  const problems: string[] = [];
  if (sidecar) {
    for (const ref of agentContainers(pod.spec)) problems.push(...checkAgentMounts(ref));
  }
  const user = sidecar ? stripInjection(pod) : pod;
  if (!sidecar) problems.push(...checkReservedNames(user.spec!));
  problems.push(...checkAgentPod(user, selection.resources, config));
  problems.push(...checkCredentialReferences(user.spec!, secrets));
  if (problems.length > 0) return { kind: 'refuse', message: refusal(problems) };
  let expected: V1Pod;
  try {
    expected = renderInjection(pod, selection, config);
  } catch (e) {
    if (e instanceof InjectionError) return { kind: 'refuse', message: `portcullis: the selected resources cannot be injected: ${e.message}` };
    throw e;
  }
  return { kind: 'agent', pod, selection, expected };
}

/** True when the stored pod already is exactly what the injector renders (up to the API server's defaulting). */
export function isInjectedAsExpected(pod: V1Pod, expected: V1Pod): boolean {
  if (podAnnotations(pod)[ANNOTATION_INJECTED] !== 'true') return false;
  for (const field of PATCHED_SPEC_FIELDS) {
    if (!equalAfterDefaulting(expected.spec?.[field], pod.spec?.[field])) return false;
  }
  const want = podAnnotations(expected);
  const have = podAnnotations(pod);
  return [ANNOTATION_INJECTED, ANNOTATION_POLICIES, ANNOTATION_RESOURCES].every((k) => want[k] === have[k]);
}

/** JSON patch turning `pod` into `target`: one whole-field `add` (= replace) per changed field. */
export function injectionPatch(pod: V1Pod, target: V1Pod): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  for (const field of PATCHED_SPEC_FIELDS) {
    const want = target.spec?.[field];
    const have = pod.spec?.[field];
    if (JSON.stringify(want) === JSON.stringify(have)) continue;
    if (want === undefined) ops.push({ op: 'remove', path: `/spec/${field}` });
    else ops.push({ op: 'add', path: `/spec/${field}`, value: want });
  }
  const want = target.metadata?.annotations;
  if (JSON.stringify(want) !== JSON.stringify(pod.metadata?.annotations)) {
    if (!pod.metadata) ops.push({ op: 'add', path: '/metadata', value: { annotations: want } });
    else ops.push({ op: 'add', path: `/metadata/${pointerToken('annotations')}`, value: want });
  }
  return ops;
}

/** The mutating webhook: pods CREATE. */
export function mutatePod(req: AdmissionRequest, deps: InjectionDeps, config: InjectorConfig): AdmissionResponse {
  if (req.operation !== 'CREATE' || req.subResource) return allow(req.uid);
  const decision = decidePod(req, deps, config);
  switch (decision.kind) {
    case 'ignore':
    case 'plain':
      return allow(req.uid);
    case 'refuse':
      return deny(req.uid, decision.message);
    case 'agent':
      // Idempotence: already injected as we would inject it (a reinvocation) → nothing to do. Anything else that
      // claims to be injected (a forged or stale sidecar) is rebuilt from scratch by the patch.
      if (isInjectedAsExpected(decision.pod, decision.expected)) return allow(req.uid);
      return allowWithPatch(req.uid, injectionPatch(decision.pod, decision.expected));
  }
}
