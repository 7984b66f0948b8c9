// Structural sanity checks of crds/*.yaml that need no cluster: what `kubectl apply` and `kubectl explain` rely on,
// the bounds that keep CEL rules within the API server's cost budget, references inside CEL rules and printer
// columns, and agreement with the vocabularies the policy compiler enforces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCrds, type CrdInfo } from '../../scripts/gen-api-types.ts';
import type { OpenApiSchema } from './schema.ts';
import { API_VERSION, CATEGORY, GROUP, VERSION } from './index.ts';
import { actions, isKnownStatementKind, kubernetesVerbs, maskingStrategies, sqlStatementKinds } from '../policy/vocabulary.ts';
import { parseDuration } from '../util/duration.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const crds = readCrds();
const byKind = new Map(crds.map((c) => [c.kind, c]));

interface Node {
  readonly path: string;
  readonly schema: OpenApiSchema;
}

/** Every schema node of a CRD, with its path (`.spec.x`, `[]` for list items, `{}` for map values). */
function nodes(crd: CrdInfo): Node[] {
  const out: Node[] = [];
  const walk = (schema: OpenApiSchema, path: string) => {
    out.push({ path, schema });
    for (const [k, child] of Object.entries(schema.properties ?? {})) walk(child, `${path}.${k}`);
    if (schema.items) walk(schema.items, `${path}[]`);
    if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, `${path}{}`);
  };
  walk(crd.schema, '');
  return out;
}

interface RawCrd {
  apiVersion: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { listKind: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: unknown;
      additionalPrinterColumns: { name: string; jsonPath: string; type: string }[];
    }[];
  };
}

function rawCrd(crd: CrdInfo): RawCrd {
  return parse(readFileSync(join(import.meta.dirname, '../..', crd.file), 'utf8')) as RawCrd;
}

/** Resolves a dotted path (`.a.b`, `[]` steps into list items) from a schema node; undefined when it does not exist. */
function resolve(schema: OpenApiSchema, path: string): OpenApiSchema | undefined {
  let node: OpenApiSchema | undefined = schema;
  for (const raw of path.split('.').filter(Boolean)) {
    const list = raw.endsWith('[]');
    const key = list ? raw.slice(0, -2) : raw;
    node = node?.properties?.[key];
    if (list) node = node?.items;
  }
  return node;
}

const expectedKinds = ['AgentPolicy', 'AgentSession', 'ApprovalRequest', 'ProtectedResource', 'SessionChunk'];

test('there is one CRD per kind of the API, in group portcullis.dev, version v1alpha1', () => {
  assert.deepEqual(crds.map((c) => c.kind).sort(), expectedKinds);
  assert.equal(API_VERSION, `${GROUP}/${VERSION}`);
  for (const crd of crds) {
    const raw = rawCrd(crd);
    assert.equal(raw.apiVersion, 'apiextensions.k8s.io/v1', crd.file);
    assert.equal(raw.metadata.name, `${crd.plural}.${GROUP}`, `${crd.file}: metadata.name must be <plural>.<group>`);
    assert.equal(crd.file, `crds/${raw.metadata.name}.yaml`);
    assert.equal(raw.spec.group, GROUP);
    assert.equal(raw.spec.scope, 'Namespaced', `${crd.kind} must be namespaced`);
    assert.equal(raw.spec.versions.length, 1);
    const version = raw.spec.versions[0]!;
    assert.deepEqual([version.name, version.served, version.storage], [VERSION, true, true], crd.kind);
    assert.deepEqual(version.subresources, { status: {} }, `${crd.kind} needs the status subresource`);
    assert.ok(crd.categories.includes(CATEGORY), `${crd.kind} must be in category ${CATEGORY}`);
    assert.equal(raw.spec.names.listKind, `${crd.kind}List`);
    assert.equal(crd.singular, crd.kind.toLowerCase());
  }
});

// Short names of built-in resources and of widely installed CRDs: a clash makes `kubectl get <short>` ambiguous.
const takenShortNames = new Set([
  'cm', 'cs', 'csr', 'ds', 'deploy', 'ep', 'ev', 'hpa', 'ing', 'limits', 'netpol', 'no', 'ns', 'pdb', 'po', 'pc',
  'psp', 'pv', 'pvc', 'quota', 'rc', 'rs', 'sa', 'sc', 'sts', 'svc', 'crd', 'crds', 'cj', 'vac', 'ip',
  'pr', 'tr', 'cert', 'certs', 'app', 'apps', 'vs', 'dr', 'gw', 'se', 'pol', 'cpol', 'ap',
]);

test('short names are unique, lower case and clash with no built-in or well-known short name', () => {
  const all = crds.flatMap((c) => c.shortNames);
  assert.equal(new Set(all).size, all.length, `duplicate short names: ${all.join(', ')}`);
  for (const crd of crds) {
    assert.ok(crd.shortNames.length > 0, `${crd.kind} has no short name`);
    for (const s of crd.shortNames) {
      assert.match(s, /^[a-z]+$/);
      assert.ok(!takenShortNames.has(s), `${crd.kind}: short name ${s} is taken`);
    }
  }
});

test('every schema node is typed and described (kubectl explain documents every field)', () => {
  for (const crd of crds) {
    for (const { path, schema } of nodes(crd)) {
      const where = `${crd.kind}${path}`;
      assert.ok(schema.type, `${where} has no type (structural schemas need one everywhere)`);
      // The API server refuses anything but the type on metadata ("metadata is implicitly specified").
      if (path === '.metadata') {
        assert.deepEqual(schema, { type: 'object' }, `${where} must be exactly {type: object}`);
        continue;
      }
      assert.ok(schema.description && schema.description.trim().length > 0, `${where} has no description`);
      if (schema.properties && schema.additionalProperties) assert.fail(`${where}: properties and additionalProperties together`);
      for (const r of schema.required ?? []) assert.ok(schema.properties?.[r], `${where}: required ${r} is not a property`);
      for (const v of schema.enum ?? []) assert.equal(typeof v, schema.type === 'integer' ? 'number' : schema.type, `${where}: enum value ${String(v)}`);
      if (schema.pattern) assert.doesNotThrow(() => new RegExp(schema.pattern!), `${where}: pattern`);
    }
  }
});

test('every list, map and string is bounded, so CEL cost estimates stay within the API server budget', () => {
  for (const crd of crds) {
    for (const { path, schema } of nodes(crd)) {
      const where = `${crd.kind}${path}`;
      if (path === '.metadata' || path === '.apiVersion' || path === '.kind') continue;
      if (schema.type === 'array') assert.ok(schema.maxItems !== undefined, `${where}: list without maxItems`);
      if (schema.type === 'object' && schema.additionalProperties) assert.ok(schema.maxProperties !== undefined, `${where}: map without maxProperties`);
      if (schema.type === 'string' && !schema.enum && schema.format !== 'date-time') {
        assert.ok(schema.maxLength !== undefined, `${where}: string without maxLength`);
      }
    }
  }
});

test('list-map keys are required fields of the items, and set lists hold scalars', () => {
  for (const crd of crds) {
    for (const { path, schema } of nodes(crd)) {
      if (schema['x-kubernetes-list-type'] === 'map') {
        const keys = schema['x-kubernetes-list-map-keys'] ?? [];
        assert.ok(keys.length > 0, `${crd.kind}${path}: map list without keys`);
        for (const k of keys) assert.ok(schema.items?.required?.includes(k), `${crd.kind}${path}: key ${k} must be required`);
      }
      if (schema['x-kubernetes-list-type'] === 'set') assert.notEqual(schema.items?.type, 'object', `${crd.kind}${path}`);
    }
  }
});

test('CEL rules have messages and refer only to fields that exist', () => {
  let rules = 0;
  for (const crd of crds) {
    for (const { path, schema } of nodes(crd)) {
      for (const v of schema['x-kubernetes-validations'] ?? []) {
        rules++;
        const where = `${crd.kind}${path}: ${v.rule}`;
        assert.ok(v.message && v.message.length > 0, `${where}: no message`);
        if (v.fieldPath) assert.ok(resolve(schema, v.fieldPath), `${where}: fieldPath ${v.fieldPath} does not exist`);
        if (v.reason) assert.ok(['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'].includes(v.reason), where);
        // self.a.b / oldSelf.a.b chains must name declared properties (a typo would be a compile error in the server).
        for (const m of v.rule.matchAll(/\b(?:self|oldSelf)((?:\.[A-Za-z_]\w*)+)/g)) {
          let node: OpenApiSchema | undefined = schema;
          for (const seg of m[1]!.split('.').filter(Boolean)) {
            if (!node || node.type !== 'object' || !node.properties) break; // a method call or a map key
            node = node.properties[seg];
            assert.ok(node, `${where}: no field ${seg} in ${m[0]}`);
          }
        }
      }
    }
  }
  assert.ok(rules >= 30, `expected the cross-field rules of the brief, found ${rules}`);
});

test('the cross-field rules the API needs are present', () => {
  const rulesOf = (kind: string) =>
    nodes(byKind.get(kind)!).flatMap(({ path, schema }) => (schema['x-kubernetes-validations'] ?? []).map((v) => ({ path, ...v })));
  const has = (kind: string, path: string, fragment: string) =>
    assert.ok(
      rulesOf(kind).some((r) => r.path === path && r.rule.includes(fragment)),
      `${kind}${path}: no rule containing ${fragment}`,
    );
  has('AgentPolicy', '.spec.resources[].rules[]', '== 1'); // exactly one matcher
  has('AgentPolicy', '.spec.resources[].rules', 'exists_one'); // unique rule names
  has('AgentPolicy', '.spec.resources', 'exists_one'); // unique resources
  has('AgentPolicy', '.spec', "x.action != 'approve'"); // approve needs approval
  has('AgentPolicy', '.spec.resources[].rules[].sql', 'has(self.statements)');
  has('AgentPolicy', '.spec.resources[].rules[].kubernetes', 'has(self.verbs)');
  has('AgentPolicy', '.spec.resources[].rules[].http', 'has(self.methods)');
  has('AgentPolicy', '.spec.resources[].rules[].ssh', 'has(self.commands)');
  has('ProtectedResource', '.spec', 'has(self.endpoint.url)');
  has('ProtectedResource', '.spec', 'self.expose.kubeconfig');
  has('ProtectedResource', '.spec.classifications[]', 'has(self.detectors)');
  has('ApprovalRequest', '.spec', 'self == oldSelf');
  has('ApprovalRequest', '.status', "oldSelf.phase == 'Pending'");
  has('AgentSession', '.spec', 'self == oldSelf');
  has('SessionChunk', '.spec', 'self == oldSelf');
});

test('printer columns point at fields of the schema', () => {
  for (const crd of crds) {
    const columns = rawCrd(crd).spec.versions[0]!.additionalPrinterColumns;
    assert.ok(columns.some((c) => c.name === 'Age'), `${crd.kind}: no Age column`);
    for (const c of columns) {
      assert.ok(['string', 'integer', 'number', 'boolean', 'date'].includes(c.type), `${crd.kind} ${c.name}: type ${c.type}`);
      if (c.jsonPath === '.metadata.creationTimestamp') continue;
      const path = c.jsonPath.replace(/\[\?\(.*?\)\]/g, '[]');
      assert.ok(resolve(crd.schema, path), `${crd.kind} column ${c.name}: ${c.jsonPath} is not in the schema`);
    }
  }
});

test('the duration pattern accepts exactly what the policy compiler parses', () => {
  const durations = nodes(byKind.get('AgentPolicy')!).filter((n) => n.schema.pattern?.includes('(ms|s|m|h)'));
  assert.deepEqual(durations.map((n) => n.path).sort(), ['.spec.approval.grantWindow', '.spec.approval.timeout', '.spec.recording.retention', '.spec.subjects.sessionGrace']);
  const samples = ['5m', '10m', '720h', '0s', '0', '1h30m', '1.5h', '300ms', '2h45m10s', '', '5', '5d', '-5m', '1h 30m', 'm', '10M', '1h-', '0x10s', '5 m'];
  for (const { path, schema } of durations) {
    const re = new RegExp(schema.pattern!);
    for (const s of samples) {
      let parses = true;
      try {
        parseDuration(s);
      } catch {
        parses = false;
      }
      assert.equal(re.test(s), parses, `${path}: pattern and parseDuration disagree on ${JSON.stringify(s)}`);
    }
  }
});

test('enums and patterns agree with the compiler vocabularies', () => {
  const policy = byKind.get('AgentPolicy')!.schema;
  const rule = resolve(policy, '.spec.resources[].rules[]')!;
  assert.deepEqual(rule.properties!.action!.enum, [...actions]);
  assert.deepEqual(resolve(policy, '.spec.resources[].masking[]')!.properties!.strategy!.enum, [...maskingStrategies]);
  assert.deepEqual(new Set(rule.properties!.kubernetes!.properties!.verbs!.items!.enum), new Set([...kubernetesVerbs, '*']));
  const statement = new RegExp(rule.properties!.sql!.properties!.statements!.items!.pattern!);
  for (const kind of [...sqlStatementKinds, 'create_table', 'alter_system', 'drop_materialized_view', 'drop_*', '*', 'create_*']) {
    assert.ok(statement.test(kind), `CRD rejects statement kind ${kind}`);
  }
  for (const typo of ['selct', 'SELECT', 'drop_', 'drop table', 'create', 'insert;', '']) {
    assert.equal(statement.test(typo), false, `CRD accepts ${JSON.stringify(typo)}`);
    assert.equal(isKnownStatementKind(typo), false);
  }
});

test('every protocol enum is the same list', () => {
  const protocols = [
    resolve(byKind.get('ProtectedResource')!.schema, '.spec.protocol')!.enum,
    resolve(byKind.get('ApprovalRequest')!.schema, '.spec.protocol')!.enum,
    resolve(byKind.get('AgentSession')!.schema, '.spec.protocol')!.enum,
  ];
  for (const p of protocols) assert.deepEqual(p, ['postgres', 'mysql', 'kubernetes', 'http', 'ssh']);
});

test('crds/ holds nothing but the CRDs', () => {
  const files = readdirSync(join(import.meta.dirname, '../../crds')).sort();
  assert.deepEqual(files, crds.map((c) => c.file.replace('crds/', '')));
});
