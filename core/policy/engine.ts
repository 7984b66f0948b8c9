// The one policy engine every protocol adapter calls. A Bundle is compiled once into matcher functions; decide()
// then walks the command's parts: each part takes the most restrictive matching rule (deny > approve > allow) or the
// resource's defaultAction, and the command takes its most restrictive part. What cannot be analysed is denied.
import type { Command, Part } from '../analysis/command.ts';
import type { Bundle, BundleResource, BundleRule } from './bundle.ts';
import { actionRank, readVerbs, type Action } from './vocabulary.ts';
import { compileSqlMatcher, namesFunctionExplicitly } from './matchers/sql.ts';
import { compileKubernetesMatcher } from './matchers/kubernetes.ts';
import { compileHttpMatcher } from './matchers/http.ts';
import { compileSshMatcher } from './matchers/ssh.ts';

export interface Decision {
  readonly action: Action;
  /** The rule that decided, absent when the resource's defaultAction or the analysis decided. */
  readonly rule?: string;
  /** `namespace/name` of the rule's policy. */
  readonly policy?: string;
  /** The rule's message, shown to the agent. */
  readonly message?: string;
  readonly reasons: readonly string[];
}

interface CompiledRule {
  readonly source: BundleRule;
  readonly rank: number;
  readonly matches: (part: Part) => boolean;
}

export interface CompiledResource {
  readonly spec: BundleResource;
  readonly rules: readonly CompiledRule[];
  /** Some allow rule (or an allow default) permits a read: kubectl's discovery requests are then allowed too. */
  readonly allowsAnyRead: boolean;
}

export interface Engine {
  readonly bundle: Bundle;
  resource(name: string): CompiledResource | undefined;
  decide(resource: string, command: Command): Decision;
}

const maxReasonLines = 32;

export function createEngine(bundle: Bundle): Engine {
  const resources = new Map<string, CompiledResource>();
  for (const r of bundle.resources) resources.set(r.name, compileResource(r));
  return {
    bundle,
    resource: (name) => resources.get(name),
    decide(name, command) {
      const r = resources.get(name);
      if (!r) return deny(`resource "${name}" is not in this pod's policy bundle`);
      return decideCommand(r, command);
    },
  };
}

function compileResource(spec: BundleResource): CompiledResource {
  const rules: CompiledRule[] = spec.rules.map((rule) => ({
    source: rule,
    rank: actionRank[rule.action],
    matches: compilePartMatcher(rule),
  }));
  const allowsAnyRead =
    spec.defaultAction === 'allow' ||
    spec.rules.some((r) => r.action === 'allow' && r.kubernetes !== undefined && r.kubernetes.nonResourceURLs === undefined &&
      (r.kubernetes.verbs === undefined || r.kubernetes.verbs.some((v) => v === '*' || readVerbs.has(v))));
  return { spec, rules, allowsAnyRead };
}

function compilePartMatcher(rule: BundleRule): (part: Part) => boolean {
  if (rule.sql) {
    const m = compileSqlMatcher(rule.sql);
    return (p) => p.protocol === 'sql' && m(p);
  }
  if (rule.kubernetes) {
    const m = compileKubernetesMatcher(rule.kubernetes, rule.action);
    return (p) => p.protocol === 'kubernetes' && m(p);
  }
  if (rule.http) {
    const m = compileHttpMatcher(rule.http, rule.action);
    return (p) => p.protocol === 'http' && m(p);
  }
  if (rule.ssh) {
    const m = compileSshMatcher(rule.ssh);
    return (p) => p.protocol === 'ssh' && m(p);
  }
  return () => false;
}

function deny(reason: string): Decision {
  return { action: 'deny', reasons: [reason] };
}

interface PartOutcome {
  action: Action;
  rule?: BundleRule;
  reason: string;
}

function decideCommand(r: CompiledResource, command: Command): Decision {
  if (command.forbidden) return deny(`forbidden: ${command.forbidden}`);
  if (command.error) return deny(`cannot analyse: ${command.error}`);
  if (command.parts.length === 0) return deny('cannot analyse: the command has no statement to decide');
  let decisive: PartOutcome | undefined;
  const reasons: string[] = [];
  for (const part of command.parts) {
    const outcome = decidePart(r, part);
    if (reasons.length < maxReasonLines) reasons.push(outcome.reason);
    if (!decisive || actionRank[outcome.action] > actionRank[decisive.action]) decisive = outcome;
  }
  if (command.parts.length > maxReasonLines) reasons.push(`… and ${command.parts.length - maxReasonLines} more parts`);
  const d = decisive!;
  return {
    action: d.action,
    ...(d.rule ? { rule: d.rule.name, policy: d.rule.policy } : {}),
    ...(d.rule?.message ? { message: d.rule.message } : {}),
    reasons,
  };
}

function decidePart(r: CompiledResource, part: Part): PartOutcome {
  let best: CompiledRule | undefined;
  for (const rule of r.rules) {
    if ((!best || rule.rank > best.rank) && rule.matches(part)) {
      best = rule;
      if (best.rank === actionRank.deny) break;
    }
  }
  const what = describePart(part);
  if (part.protocol === 'sql' && part.dynamicSqlFunctions.length > 0 && best?.source.action !== 'deny') {
    for (const f of part.dynamicSqlFunctions) {
      const vouched = r.rules.some((rule) => rule.source.action === 'allow' && rule.source.sql?.functions !== undefined &&
        namesFunctionExplicitly(rule.source.sql.functions, f) && rule.matches(part));
      if (!vouched) {
        const name = f.schema ? `${f.schema}.${f.name}` : f.name;
        return { action: 'deny', reason: `${what}: cannot analyse: ${name}() runs SQL passed as text; no allow rule names it` };
      }
    }
  }
  if (best) {
    return { action: best.source.action, rule: best.source, reason: `${what}: rule "${best.source.name}" of ${best.source.policy} → ${best.source.action}` };
  }
  if (part.protocol === 'kubernetes' && part.discovery && r.allowsAnyRead) {
    return { action: 'allow', reason: `${what}: discovery endpoint, allowed because the policy allows reads` };
  }
  return { action: r.spec.defaultAction, reason: `${what}: no rule matched → defaultAction ${r.spec.defaultAction}` };
}

export function describePart(part: Part): string {
  switch (part.protocol) {
    case 'sql':
      return `${part.kind}${part.relation ? ` ${part.relation}` : ''}`;
    case 'kubernetes':
      if (part.kind === 'nonResource') return `${part.verb} ${part.path}`;
      return `${part.verb} ${part.apiGroup === '' ? '' : `${part.apiGroup}/`}${part.resource}${part.subresource ? `/${part.subresource}` : ''}` +
        `${part.allNamespaces ? ' in all namespaces' : part.namespace ? ` in ${part.namespace}` : ''}${part.name ? ` named ${part.name}` : ''}`;
    case 'http':
      return `${part.method} ${part.path}`;
    case 'ssh':
      return part.kind === 'exec' ? `exec ${JSON.stringify(part.command ?? '')}` : part.kind;
  }
}
