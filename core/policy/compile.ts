// Policy compiler: ProtectedResources + the AgentPolicies that select a pod → one hashed Bundle.
// Pure (no I/O). Errors name the policy, the rule and the field, so `kubectl apply` and `explain` can say exactly
// what to fix. Several policies pool their rules per resource; order never matters (deny > approve > allow).
import {
  bundleFormatVersion,
  hashBundle,
  type Bundle,
  type BundleClassification,
  type BundleMasking,
  type BundlePolicy,
  type BundleResource,
  type BundleRule,
} from './bundle.ts';
import { actions, isKnownStatementKind, kubernetesVerbs, maskingStrategies, type MaskingStrategy } from './vocabulary.ts';
import { compileGlob } from './glob.ts';
import { parseDuration } from '../util/duration.ts';
import { parseJsonPath } from '../analysis/http/json-path.ts';
import { DETECTOR_NAMES, isKnownDetector } from '../masking/detectors.ts';

/** The shape the compiler reads; the generated CRD types are assignable to it. */
export interface ObjectRef {
  metadata: { name: string; namespace?: string; generation?: number };
}
// Inputs are typed loosely on purpose: they come from YAML files and the API server, and every field is checked here.
export type ProtectedResourceInput = ObjectRef & { spec: unknown };
export type AgentPolicyInput = ObjectRef & { spec: unknown };

export interface CompileIssue {
  /** `AgentPolicy ns/name` or `ProtectedResource ns/name`. */
  object: string;
  /** Field path, e.g. `spec.resources[0].rules[1].sql.statements[0]`. */
  field: string;
  rule?: string;
  message: string;
}

export class CompileError extends Error {
  readonly issues: readonly CompileIssue[];
  constructor(issues: CompileIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'CompileError';
    this.issues = issues;
  }
}

export function formatIssue(i: CompileIssue): string {
  return `${i.object}: ${i.field}${i.rule ? ` (rule "${i.rule}")` : ''}: ${i.message}`;
}

const protocolMatcher: Record<string, 'sql' | 'kubernetes' | 'http' | 'ssh'> = {
  postgres: 'sql',
  mysql: 'sql',
  kubernetes: 'kubernetes',
  http: 'http',
  ssh: 'ssh',
};
const matcherKeys = ['sql', 'kubernetes', 'http', 'ssh'] as const;
const strategyRank: Record<MaskingStrategy, number> = { last4: 0, hash: 1, redact: 2, null: 3 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;

function id(o: ObjectRef): string {
  return `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}

/**
 * Compile the policies that select one pod (all in `namespace`) against the namespace's ProtectedResources.
 * Throws CompileError listing every problem found, not just the first.
 */
export function compileBundle(
  namespace: string,
  resources: readonly ProtectedResourceInput[],
  policies: readonly AgentPolicyInput[],
): Bundle {
  const issues: CompileIssue[] = [];
  const byName = new Map<string, ProtectedResourceInput>();
  for (const r of resources) if ((r.metadata.namespace ?? namespace) === namespace) byName.set(r.metadata.name, r);

  const sorted = [...policies].sort((a, b) => id(a).localeCompare(id(b)));
  const compiledPolicies: BundlePolicy[] = [];
  const pooled = new Map<string, BundleResource>();

  for (const policy of sorted) {
    const object = `AgentPolicy ${id(policy)}`;
    const add = (field: string, message: string, rule?: string) => issues.push({ object, field, message, rule });
    if ((policy.metadata.namespace ?? namespace) !== namespace) {
      add('metadata.namespace', `policy is not in namespace ${namespace}`);
      continue;
    }
    const spec = isObj(policy.spec) ? policy.spec : {};
    const compiledPolicy = compilePolicyMeta(policy, spec, add);
    compiledPolicies.push(compiledPolicy);
    const entries = Array.isArray(spec.resources) ? spec.resources : [];
    if (entries.length === 0) add('spec.resources', 'at least one resource is required');
    const seenResources = new Set<string>();
    entries.forEach((entry: unknown, ri: number) => {
      const base = `spec.resources[${ri}]`;
      if (!isObj(entry) || typeof entry.resource !== 'string') return add(`${base}.resource`, 'required');
      const rname = entry.resource;
      if (seenResources.has(rname)) return add(`${base}.resource`, `resource "${rname}" is listed twice`);
      seenResources.add(rname);
      const pr = byName.get(rname);
      if (!pr) return add(`${base}.resource`, `ProtectedResource "${rname}" not found in namespace ${namespace}`);
      const target = pooled.get(rname) ?? newPooledResource(pr, namespace, issues);
      if (!target) return;
      pooled.set(rname, target);
      target.policies.push(compiledPolicy.id);
      const defaultAction = entry.defaultAction ?? 'deny';
      if (defaultAction !== 'allow' && defaultAction !== 'deny') {
        add(`${base}.defaultAction`, `must be allow or deny, got ${JSON.stringify(defaultAction)}`);
      } else if (defaultAction === 'deny') {
        // allow only if every policy naming the resource says allow.
        target.defaultAction = 'deny';
      }
      compileRules(entry, base, target, compiledPolicy, add);
      compileMasking(entry, base, target, compiledPolicy.id, add);
    });
  }
  if (issues.length > 0) throw new CompileError(issues);

  const content: Omit<Bundle, 'hash'> = {
    formatVersion: bundleFormatVersion,
    key: compiledPolicies.map((p) => p.id),
    namespace,
    policies: compiledPolicies,
    resources: [...pooled.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
  return { ...content, hash: hashBundle(content) };
}

function compilePolicyMeta(policy: AgentPolicyInput, spec: Obj, add: (f: string, m: string) => void): BundlePolicy {
  const durationField = (field: string, value: unknown, fallback: string): string => {
    const v = value ?? fallback;
    if (typeof v !== 'string') {
      add(field, 'must be a duration such as 10m');
      return fallback;
    }
    try {
      parseDuration(v);
    } catch (e) {
      add(field, (e as Error).message);
    }
    return v;
  };
  let subjects: BundlePolicy['subjects'] = null;
  if (isObj(spec.subjects)) {
    const s = spec.subjects;
    const issuers = (Array.isArray(s.issuers) ? s.issuers : []).map((iss: unknown, i: number) => {
      if (!isObj(iss) || typeof iss.issuer !== 'string') {
        add(`spec.subjects.issuers[${i}].issuer`, 'required');
        return { issuer: '', audiences: [] };
      }
      return {
        issuer: iss.issuer,
        audiences: strings(iss.audiences) ?? ['portcullis'],
        ...(typeof iss.jwksUri === 'string' ? { jwksUri: iss.jwksUri } : {}),
      };
    });
    const claims: Record<string, string[]> = {};
    if (isObj(s.claims)) {
      for (const [k, v] of Object.entries(s.claims)) {
        const list = strings(v);
        if (!list) add(`spec.subjects.claims.${k}`, 'must be a list of accepted values');
        else claims[k] = list;
      }
    }
    subjects = { sessionGrace: durationField('spec.subjects.sessionGrace', s.sessionGrace, '5m'), issuers, claims };
  }
  let approval: BundlePolicy['approval'] = null;
  if (isObj(spec.approval)) {
    const a = spec.approval;
    const approvers = isObj(a.approvers) ? a.approvers : {};
    approval = {
      users: strings(approvers.users) ?? [],
      groups: strings(approvers.groups) ?? [],
      timeout: durationField('spec.approval.timeout', a.timeout, '10m'),
      grantWindow: durationField('spec.approval.grantWindow', a.grantWindow, '0s'),
    };
    if (approval.users.length === 0 && approval.groups.length === 0) {
      add('spec.approval.approvers', 'name at least one approver user or group');
    }
  }
  const rec = isObj(spec.recording) ? spec.recording : {};
  const responses = rec.responses ?? 'summary';
  if (responses !== 'none' && responses !== 'summary' && responses !== 'full') {
    add('spec.recording.responses', `must be none, summary or full, got ${JSON.stringify(responses)}`);
  }
  return {
    id: id(policy),
    ...(policy.metadata.generation !== undefined ? { generation: policy.metadata.generation } : {}),
    subjects,
    approval,
    recording: {
      responses: responses as BundlePolicy['recording']['responses'],
      retention: durationField('spec.recording.retention', rec.retention, '720h'),
    },
  };
}

function newPooledResource(pr: ProtectedResourceInput, namespace: string, issues: CompileIssue[]): BundleResource | undefined {
  const object = `ProtectedResource ${id(pr)}`;
  const spec = isObj(pr.spec) ? pr.spec : {};
  const protocol = spec.protocol;
  if (typeof protocol !== 'string' || !(protocol in protocolMatcher)) {
    issues.push({ object, field: 'spec.protocol', message: `unsupported protocol ${JSON.stringify(protocol)}` });
    return undefined;
  }
  const credentials = isObj(spec.credentials) && isObj(spec.credentials.secretRef) ? spec.credentials.secretRef : {};
  const expose = isObj(spec.expose) ? spec.expose : {};
  const classifications: BundleClassification[] = (Array.isArray(spec.classifications) ? spec.classifications : [])
    .filter(isObj)
    .map((c) => ({
      name: String(c.name ?? ''),
      columns: strings(c.columns) ?? [],
      jsonPaths: strings(c.jsonPaths) ?? [],
      kubernetes: (Array.isArray(c.kubernetes) ? c.kubernetes : []).filter(isObj).map((k) => ({
        resource: String(k.resource ?? ''),
        fields: strings(k.fields) ?? [],
      })),
      detectors: strings(c.detectors) ?? [],
    }));
  classifications.forEach((c, i) => c.detectors.forEach((d, j) => {
    if (!isKnownDetector(d)) {
      issues.push({ object, field: `spec.classifications[${i}].detectors[${j}]`, message: `unknown detector "${d}" (known: ${DETECTOR_NAMES.join(', ')})` });
    }
  }));
  return {
    name: pr.metadata.name,
    namespace,
    protocol: protocol as BundleResource['protocol'],
    endpoint: isObj(spec.endpoint) ? spec.endpoint : {},
    credentialsSecret: typeof credentials.name === 'string' ? credentials.name : '',
    expose: {
      ...(typeof expose.port === 'number' ? { port: expose.port } : {}),
      ...(isObj(expose.env) ? { env: expose.env as Record<string, string> } : {}),
      ...(typeof expose.kubeconfig === 'boolean' ? { kubeconfig: expose.kubeconfig } : {}),
    },
    classifications,
    defaultAction: 'allow',
    rules: [],
    masking: [],
    policies: [],
  };
}

function compileRules(
  entry: Obj,
  base: string,
  target: BundleResource,
  policy: BundlePolicy,
  add: (field: string, message: string, rule?: string) => void,
): void {
  const rules = Array.isArray(entry.rules) ? entry.rules : [];
  const names = new Set<string>();
  const expected = protocolMatcher[target.protocol]!;
  rules.forEach((raw: unknown, i: number) => {
    const path = `${base}.rules[${i}]`;
    if (!isObj(raw)) return add(path, 'must be an object');
    const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : undefined;
    if (!name) return add(`${path}.name`, 'required');
    const err = (field: string, message: string) => add(`${path}.${field}`, message, name);
    if (names.has(name)) err('name', `duplicate rule name "${name}"`);
    names.add(name);
    const action = raw.action;
    if (typeof action !== 'string' || !(actions as readonly string[]).includes(action)) {
      return err('action', `must be one of ${actions.join(', ')}, got ${JSON.stringify(action)}`);
    }
    if (action === 'approve' && !policy.approval) err('action', 'an approve rule needs spec.approval (who approves)');
    const present = matcherKeys.filter((k) => raw[k] !== undefined);
    if (present.length !== 1) {
      return err(expected, `a rule needs exactly one matcher block (${expected} for a ${target.protocol} resource), found ${present.length === 0 ? 'none' : present.join(', ')}`);
    }
    const key = present[0]!;
    if (key !== expected) return err(key, `a ${target.protocol} resource takes "${expected}" rules, not "${key}"`);
    const block = raw[key];
    if (!isObj(block) || Object.values(block).every((v) => v === undefined)) {
      return err(key, 'set at least one field of the matcher');
    }
    const checked = checkMatcher(key, block, (f, m) => err(`${key}.${f}`, m));
    const rule: BundleRule = { policy: policy.id, name, action: action as BundleRule['action'], [key]: checked };
    if (typeof raw.message === 'string') rule.message = raw.message;
    target.rules.push(rule);
  });
}

function checkMatcher(key: (typeof matcherKeys)[number], block: Obj, err: (field: string, message: string) => void): Obj {
  const listField = (f: string, check?: (v: string, at: string) => void): void => {
    const v = block[f];
    if (v === undefined) return;
    const list = strings(v);
    if (!list) return err(f, 'must be a list of strings');
    if (list.length === 0) return err(f, 'an empty list matches nothing; remove the field or add values');
    list.forEach((s, i) => {
      if (s === '') err(`${f}[${i}]`, 'must not be empty');
      else check?.(s, `${f}[${i}]`);
    });
  };
  const known = (f: string) => {
    for (const k of Object.keys(block)) if (!allowedFields[key].includes(k)) err(k, `unknown field (known: ${allowedFields[key].join(', ')})`);
    return f;
  };
  known('');
  switch (key) {
    case 'sql':
      listField('statements', (s, at) => {
        const ok = s.includes('*') ? [...knownKindSamples].some((k) => compileGlob(s)(k)) : isKnownStatementKind(s);
        if (!ok) err(at, `unknown statement kind "${s}"`);
      });
      listField('tables');
      listField('functions');
      if (block.unboundedWrite !== undefined && typeof block.unboundedWrite !== 'boolean') err('unboundedWrite', 'must be true or false');
      break;
    case 'kubernetes':
      listField('verbs', (s, at) => {
        if (s !== '*' && !kubernetesVerbs.has(s)) err(at, `unknown verb "${s}"`);
      });
      listField('apiGroups');
      listField('resources');
      listField('namespaces');
      listField('names');
      listField('nonResourceURLs', (s, at) => {
        if (!s.startsWith('/') && s !== '*') err(at, 'must start with /');
      });
      break;
    case 'http':
      listField('methods');
      listField('paths');
      for (const f of ['headers', 'jsonBody'] as const) {
        const v = block[f];
        if (v === undefined) continue;
        if (!isObj(v)) err(f, 'must map names to lists of values');
        else {
          for (const [k, vals] of Object.entries(v)) {
            if (!strings(vals)) err(`${f}.${k}`, 'must be a list of strings');
            if (f === 'jsonBody') {
              try {
                parseJsonPath(k);
              } catch (e) {
                err(`${f}.${k}`, `invalid JSONPath: ${(e as Error).message}`);
              }
            }
          }
        }
      }
      break;
    case 'ssh':
      listField('commands');
      for (const f of ['interactiveShell', 'sftp'] as const) {
        if (block[f] !== undefined && typeof block[f] !== 'boolean') err(f, 'must be true or false');
      }
      break;
  }
  return block;
}

const allowedFields: Record<(typeof matcherKeys)[number], string[]> = {
  sql: ['statements', 'tables', 'functions', 'unboundedWrite'],
  kubernetes: ['verbs', 'apiGroups', 'resources', 'namespaces', 'names', 'nonResourceURLs'],
  http: ['methods', 'paths', 'headers', 'jsonBody'],
  ssh: ['commands', 'interactiveShell', 'sftp'],
};

// Samples that globs over statement kinds must hit at least once ("drop_*" hits drop_table).
const knownKindSamples = new Set([
  'select', 'insert', 'update', 'delete', 'merge', 'truncate', 'copy_to', 'copy_from', 'copy_file', 'copy_program',
  'create_table', 'alter_table', 'drop_table', 'alter_system', 'grant', 'revoke', 'call', 'do', 'set', 'set_role',
  'show', 'transaction', 'prepare', 'execute', 'deallocate', 'explain', 'vacuum', 'analyze', 'lock', 'listen',
  'notify', 'comment', 'refresh_materialized_view', 'reindex', 'cluster', 'discard', 'checkpoint', 'other',
  'load_data', 'replace', 'handler', 'kill', 'use', 'unlisten',
]);

function compileMasking(entry: Obj, base: string, target: BundleResource, policyId: string, add: (f: string, m: string) => void): void {
  const list = Array.isArray(entry.masking) ? entry.masking : [];
  list.forEach((raw: unknown, i: number) => {
    const path = `${base}.masking[${i}]`;
    if (!isObj(raw)) return add(path, 'must be an object');
    const classification = raw.classification;
    const strategy = raw.strategy;
    if (typeof classification !== 'string' || !target.classifications.some((c) => c.name === classification)) {
      return add(`${path}.classification`, `ProtectedResource "${target.name}" has no classification ${JSON.stringify(classification)}`);
    }
    if (typeof strategy !== 'string' || !(maskingStrategies as readonly string[]).includes(strategy)) {
      return add(`${path}.strategy`, `must be one of ${maskingStrategies.join(', ')}, got ${JSON.stringify(strategy)}`);
    }
    const next: BundleMasking = { classification, strategy: strategy as MaskingStrategy, strict: raw.strict === true, policy: policyId };
    const existing = target.masking.find((m) => m.classification === classification);
    if (!existing) target.masking.push(next);
    else {
      // Pooled policies: the most restrictive strategy wins, and strict if any policy asks for it.
      if (strategyRank[next.strategy] > strategyRank[existing.strategy]) {
        existing.strategy = next.strategy;
        existing.policy = next.policy;
      }
      existing.strict ||= next.strict;
    }
  });
}
