// Validating webhooks for AgentPolicy and ProtectedResource (CREATE/UPDATE). Schema-level problems are the API
// server's (OpenAPI + CEL in the CRDs); here the policy is compiled exactly as the operator will compile it, so one
// that cannot work is refused at `kubectl apply` with the compiler's field-named message, as Kyverno does.
//
// Decisions:
//   - A policy naming a ProtectedResource that does not exist (yet) is allowed with a warning: `kubectl apply -f dir`
//     applies files in name order, and the AgentPolicy's status reports it until the resource arrives.
//   - A ProtectedResource change that breaks a policy which compiled before is refused, naming the policy and why.
//     A policy that was already broken only earns a warning (the change is not what broke it).
//   - Only spec changes are checked: metadata-only updates (labels, finalizers) and objects being deleted pass, so a
//     broken object can always be relabelled or deleted. Deletes are never refused (namespace deletion must finish).
import { isDeepStrictEqual } from 'node:util';
import { CompileError, compileBundle, formatIssue, type AgentPolicyInput, type CompileIssue, type ProtectedResourceInput } from '../../core/policy/compile.ts';
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from './admission.ts';

/** Informer-backed listers (the operator's Store<T> satisfies this). */
export interface Lister<T> {
  list(namespace?: string): readonly T[];
}

export interface PolicyValidationDeps {
  readonly resources: Lister<ProtectedResourceInput>;
  readonly policies: Lister<AgentPolicyInput>;
}

interface Candidate {
  readonly namespace: string;
  readonly name: string;
  readonly object: { metadata: { name: string; namespace: string; generation?: number }; spec: unknown };
}

/** The object under review, or an answer when there is nothing to check. */
function candidate(req: AdmissionRequest): Candidate | AdmissionResponse {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow(req.uid);
  if (req.subResource) return allow(req.uid);
  const obj = req.object as { metadata?: { name?: string; generateName?: string; namespace?: string; deletionTimestamp?: string }; spec?: unknown } | undefined;
  if (typeof obj !== 'object' || obj === null || typeof obj.metadata !== 'object') {
    return deny(req.uid, 'portcullis: the request carries no object', 400);
  }
  if (obj.metadata.deletionTimestamp) return allow(req.uid);
  if (req.operation === 'UPDATE') {
    const old = req.oldObject as { spec?: unknown } | undefined;
    if (old && isDeepStrictEqual(old.spec, obj.spec)) return allow(req.uid);
  }
  const namespace = req.namespace ?? obj.metadata.namespace ?? '';
  const name = obj.metadata.name ?? req.name ?? `${obj.metadata.generateName ?? ''}<generated>`;
  return { namespace, name, object: { metadata: { ...obj.metadata, name, namespace }, spec: obj.spec } };
}

function compileIssues(namespace: string, resources: readonly ProtectedResourceInput[], policies: readonly AgentPolicyInput[]): CompileIssue[] {
  try {
    compileBundle(namespace, resources, policies);
    return [];
  } catch (e) {
    if (e instanceof CompileError) return [...e.issues];
    // Anything else is a compiler bug: refuse rather than admit what we could not check.
    return [{ object: `${namespace}`, field: '(compiler)', message: (e as Error).message }];
  }
}

const RESOURCE_FIELD = /^spec\.resources\[(\d+)\]\.resource$/;

/** AgentPolicy CREATE/UPDATE. */
export function validateAgentPolicy(req: AdmissionRequest, deps: PolicyValidationDeps): AdmissionResponse {
  const c = candidate(req);
  if ('uid' in c) return c;
  const resources = deps.resources.list(c.namespace);
  const present = new Set(resources.map((r) => r.metadata.name));
  const issues = compileIssues(c.namespace, resources, [c.object]);
  const entries = (c.object.spec as { resources?: { resource?: unknown }[] } | undefined)?.resources ?? [];
  const warnings: string[] = [];
  const errors: CompileIssue[] = [];
  for (const issue of issues) {
    const m = RESOURCE_FIELD.exec(issue.field);
    const named = m ? entries[Number(m[1])]?.resource : undefined;
    if (typeof named === 'string' && !present.has(named)) {
      warnings.push(`${formatIssue(issue)}; the policy applies once the ProtectedResource exists`);
    } else errors.push(issue);
  }
  if (errors.length > 0) {
    return deny(req.uid, `portcullis: AgentPolicy ${c.namespace}/${c.name} does not compile:\n${errors.map(formatIssue).join('\n')}`, 422);
  }
  return allow(req.uid, warnings);
}

/** ProtectedResource CREATE/UPDATE. */
export function validateProtectedResource(req: AdmissionRequest, deps: PolicyValidationDeps): AdmissionResponse {
  const c = candidate(req);
  if ('uid' in c) return c;
  const before = deps.resources.list(c.namespace).filter((r) => r.metadata.name !== c.name);
  const old = deps.resources.list(c.namespace).find((r) => r.metadata.name === c.name) ?? (req.oldObject as ProtectedResourceInput | undefined);
  const after = [...before, c.object];
  const oldSet = old ? [...before, old] : before;

  // The resource on its own: compile it under a policy that names it with no rules.
  const probe: AgentPolicyInput = {
    metadata: { name: '(validation)', namespace: c.namespace },
    spec: { agents: { podSelector: {} }, resources: [{ resource: c.name }] },
  };
  const own = compileIssues(c.namespace, after, [probe]).filter((i) => i.object.startsWith('ProtectedResource'));
  if (own.length > 0) {
    return deny(req.uid, `portcullis: ProtectedResource ${c.namespace}/${c.name} is invalid:\n${own.map(formatIssue).join('\n')}`, 422);
  }

  const broken: string[] = [];
  const warnings: string[] = [];
  for (const policy of deps.policies.list(c.namespace)) {
    const entries = (policy.spec as { resources?: { resource?: unknown }[] } | undefined)?.resources ?? [];
    if (!entries.some((e) => e.resource === c.name)) continue;
    const now = compileIssues(c.namespace, after, [policy]);
    if (now.length === 0) continue;
    const id = `AgentPolicy ${c.namespace}/${policy.metadata.name}`;
    const text = now.map(formatIssue).join('\n');
    if (compileIssues(c.namespace, oldSet, [policy]).length === 0) broken.push(`${id} would no longer compile:\n${text}`);
    else warnings.push(`${id} names this resource and does not compile with it: ${text}`);
  }
  if (broken.length > 0) {
    return deny(req.uid, `portcullis: this change to ProtectedResource ${c.namespace}/${c.name} breaks ${broken.length === 1 ? 'a policy' : `${broken.length} policies`}:\n${broken.join('\n')}`, 422);
  }
  return allow(req.uid, warnings);
}
