// Generates the TypeScript side of the v1alpha1 API from the CRDs, which are the single source of truth:
//   core/api/types.generated.ts    one interface per kind (+ <Kind>Spec / <Kind>Status and nested types), JSDoc from
//                                  the schema descriptions, optionality from `required`, enums as literal unions;
//   core/api/schemas.generated.ts  the schemas without descriptions, for the offline validator (core/api/validate.ts),
//                                  so tools that ship without crds/ still check objects exactly as the CRDs say.
// Usage: node scripts/gen-api-types.ts            write the files (only when they changed)
//        node scripts/gen-api-types.ts --check    exit 1 if a committed file differs from what the CRDs generate
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { OpenApiSchema } from '../core/api/schema.ts';

export interface CrdInfo {
  readonly file: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly schema: OpenApiSchema;
}

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../..');
export const typesFile = 'core/api/types.generated.ts';
export const schemasFile = 'core/api/schemas.generated.ts';

// Names for nested types, by schema path (`Kind.spec.x`, `[]` = list item, `{}` = map value). A path not listed
// gets its parent's name + the property name. One name on several paths is allowed only for identical shapes
// (descriptions aside) — e.g. Condition — and is emitted once.
const typeNames: Readonly<Record<string, string>> = {
  'ProtectedResource.spec.protocol': 'Protocol',
  'ProtectedResource.spec.endpoint': 'ResourceEndpoint',
  'ProtectedResource.spec.endpoint.tls': 'EndpointTLS',
  'ProtectedResource.spec.endpoint.tls.mode': 'TLSMode',
  'ProtectedResource.spec.endpoint.tls.caSecretRef': 'SecretKeyReference',
  'ProtectedResource.spec.credentials': 'ResourceCredentials',
  'ProtectedResource.spec.credentials.secretRef': 'SecretReference',
  'ProtectedResource.spec.expose': 'ResourceExpose',
  'ProtectedResource.spec.classifications[]': 'Classification',
  'ProtectedResource.spec.classifications[].kubernetes[]': 'KubernetesFieldSelector',
  'ProtectedResource.spec.classifications[].detectors[]': 'Detector',
  'ProtectedResource.status.conditions[]': 'Condition',
  'AgentPolicy.spec.agents': 'PolicyAgents',
  'AgentPolicy.spec.agents.podSelector': 'LabelSelector',
  'AgentPolicy.spec.agents.podSelector.matchExpressions[]': 'LabelSelectorRequirement',
  'AgentPolicy.spec.subjects': 'PolicySubjects',
  'AgentPolicy.spec.subjects.issuers[]': 'TokenIssuer',
  'AgentPolicy.spec.resources[]': 'PolicyResource',
  'AgentPolicy.spec.resources[].defaultAction': 'DefaultAction',
  'AgentPolicy.spec.resources[].rules[]': 'PolicyRule',
  'AgentPolicy.spec.resources[].rules[].action': 'RuleAction',
  'AgentPolicy.spec.resources[].rules[].sql': 'SqlMatcher',
  'AgentPolicy.spec.resources[].rules[].kubernetes': 'KubernetesMatcher',
  'AgentPolicy.spec.resources[].rules[].kubernetes.verbs[]': 'KubernetesVerb',
  'AgentPolicy.spec.resources[].rules[].http': 'HttpMatcher',
  'AgentPolicy.spec.resources[].rules[].http.methods[]': 'HttpMethod',
  'AgentPolicy.spec.resources[].rules[].ssh': 'SshMatcher',
  'AgentPolicy.spec.resources[].masking[]': 'MaskingRule',
  'AgentPolicy.spec.resources[].masking[].strategy': 'MaskingStrategy',
  'AgentPolicy.spec.approval': 'PolicyApproval',
  'AgentPolicy.spec.approval.approvers': 'Approvers',
  'AgentPolicy.spec.recording': 'PolicyRecording',
  'AgentPolicy.spec.recording.responses': 'RecordedResponses',
  'AgentPolicy.status.restartRequired[]': 'RestartRequiredPod',
  'AgentPolicy.status.conditions[]': 'Condition',
  'ApprovalRequest.spec.protocol': 'Protocol',
  'ApprovalRequest.status.phase': 'ApprovalPhase',
  'AgentSession.spec.protocol': 'Protocol',
  'AgentSession.status.counts': 'SessionCounts',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads every CRD of crds/ (sorted by file name, so the output order never depends on the file system). */
export function readCrds(dir = join(repoRoot, 'crds')): CrdInfo[] {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out: CrdInfo[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`crds/${file}: invalid YAML: ${doc.errors[0]!.message}`);
      const crd: unknown = doc.toJS();
      if (crd == null) continue;
      out.push(crdInfo(crd, `crds/${file}`));
    }
  }
  if (out.length === 0) throw new Error(`no CRDs found in ${dir}`);
  return out;
}

function crdInfo(crd: unknown, file: string): CrdInfo {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (!isObj(crd) || crd.kind !== 'CustomResourceDefinition') return fail('not a CustomResourceDefinition');
  const spec = isObj(crd.spec) ? crd.spec : fail('spec missing');
  const names = isObj(spec.names) ? spec.names : fail('spec.names missing');
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObj) : [];
  const storage = versions.find((v) => v.storage === true) ?? fail('no storage version');
  const schema = isObj(storage.schema) && isObj(storage.schema.openAPIV3Schema) ? storage.schema.openAPIV3Schema : fail('no openAPIV3Schema');
  const str = (v: unknown, what: string): string => (typeof v === 'string' ? v : fail(`${what} missing`));
  const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  return {
    file,
    group: str(spec.group, 'spec.group'),
    version: str(storage.name, 'version name'),
    kind: str(names.kind, 'spec.names.kind'),
    plural: str(names.plural, 'spec.names.plural'),
    singular: str(names.singular, 'spec.names.singular'),
    shortNames: strs(names.shortNames),
    categories: strs(names.categories),
    schema: schema as OpenApiSchema,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// types.generated.ts

const header = (what: string) =>
  `// Code generated by scripts/gen-api-types.ts from crds/*.yaml — DO NOT EDIT.\n` +
  `// ${what}\n// Change the CRDs, then run: node scripts/gen-api-types.ts\n`;

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const propKey = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));

/** Shape of a schema for "same name, same type" checks: everything but descriptions. */
function shapeKey(schema: OpenApiSchema): string {
  return JSON.stringify(stripDescriptions(schema));
}

function jsdoc(description: string | undefined, indent: string, extra: readonly string[] = []): string {
  const paragraphs = [...(description ? [description] : []), ...extra];
  if (paragraphs.length === 0) return '';
  const width = Math.max(40, 116 - indent.length);
  const lines: string[] = [];
  for (const p of paragraphs) {
    let line = '';
    for (const word of p.replace(/\*\//g, '*\\/').split(/\s+/).filter(Boolean)) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    if (line !== '') lines.push(line);
  }
  if (lines.length === 1 && `${indent}/** ${lines[0]} */`.length <= 120) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

class TypeEmitter {
  private readonly decls: string[] = [];
  private readonly declared = new Map<string, { shape: string; path: string }>();

  text(): string {
    return this.decls.join('\n');
  }

  /** A root kind: apiVersion/kind literals, ObjectMeta, spec and status. */
  emitKind(crd: CrdInfo): void {
    const { kind, schema } = crd;
    const props = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const slot = this.reserve(kind, `${kind}`, schema);
    let body = '';
    body += jsdoc(props.apiVersion?.description, '  ');
    body += `  apiVersion: '${crd.group}/${crd.version}';\n`;
    body += jsdoc(props.kind?.description, '  ');
    body += `  kind: '${kind}';\n`;
    body += jsdoc(props.metadata?.description, '  ');
    body += `  metadata: ObjectMeta;\n`;
    for (const [name, child] of Object.entries(props)) {
      if (name === 'apiVersion' || name === 'kind' || name === 'metadata') continue;
      const type = this.typeOf(child, `${kind}.${name}`, `${kind}${pascal(name)}`);
      body += jsdoc(child.description, '  ', defaultDoc(child));
      body += `  ${propKey(name)}${required.has(name) ? '' : '?'}: ${type};\n`;
    }
    this.decls[slot] = `${jsdoc(schema.description, '')}export interface ${kind} {\n${body}}\n`;
  }

  private reserve(name: string, path: string, schema: OpenApiSchema): number {
    const shape = shapeKey(schema);
    const seen = this.declared.get(name);
    if (seen) {
      if (seen.shape !== shape) throw new Error(`type name ${name} is used for different shapes at ${seen.path} and ${path}`);
      return -1;
    }
    this.declared.set(name, { shape, path });
    this.decls.push('');
    return this.decls.length - 1;
  }

  private typeOf(schema: OpenApiSchema, path: string, suggested: string): string {
    if (schema['x-kubernetes-int-or-string']) return 'number | string';
    if (schema.enum) {
      const union = schema.enum.map((v) => JSON.stringify(v)).join(' | ');
      const name = typeNames[path];
      if (!name) return union;
      const slot = this.reserve(name, path, { type: schema.type, enum: schema.enum });
      if (slot >= 0) this.decls[slot] = `${jsdoc(schema.description, '')}export type ${name} = ${union};\n`;
      return name;
    }
    switch (schema.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        if (!schema.items) throw new Error(`${path}: array without items`);
        const item = this.typeOf(schema.items, `${path}[]`, `${suggested}Item`);
        return item.includes(' ') ? `(${item})[]` : `${item}[]`;
      }
      case 'object':
        return this.objectType(schema, path, suggested);
      default:
        throw new Error(`${path}: schema without a supported type (${String(schema.type)})`);
    }
  }

  private objectType(schema: OpenApiSchema, path: string, suggested: string): string {
    if (schema.properties) {
      const name = typeNames[path] ?? suggested;
      const slot = this.reserve(name, path, schema);
      if (slot < 0) return name;
      const required = new Set(schema.required ?? []);
      let body = '';
      for (const [prop, child] of Object.entries(schema.properties)) {
        const type = this.typeOf(child, `${path}.${prop}`, `${name}${pascal(prop)}`);
        body += jsdoc(child.description, '  ', defaultDoc(child));
        body += `  ${propKey(prop)}${required.has(prop) ? '' : '?'}: ${type};\n`;
      }
      this.decls[slot] = `${jsdoc(schema.description, '')}export interface ${name} {\n${body}}\n`;
      return name;
    }
    if (isObj(schema.additionalProperties)) {
      return `Record<string, ${this.typeOf(schema.additionalProperties as OpenApiSchema, `${path}{}`, `${suggested}Value`)}>`;
    }
    const open = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
    if (typeNames[path]) throw new Error(`${path}: a named type needs properties`);
    const alias = `Record<string, ${open ? 'unknown' : 'never'}>`;
    // Top-level spec/status get a name even when empty, so every kind exports <Kind>Spec and <Kind>Status.
    if (/^[A-Za-z]+\.(spec|status)$/.test(path)) {
      const slot = this.reserve(suggested, path, schema);
      if (slot >= 0) this.decls[slot] = `${jsdoc(schema.description, '')}export type ${suggested} = ${alias};\n`;
      return suggested;
    }
    return alias;
  }
}

function defaultDoc(schema: OpenApiSchema): string[] {
  return schema.default === undefined ? [] : [`@defaultValue ${JSON.stringify(schema.default)}`];
}

/** The CRDs in file order, whatever order they were given in, so the output is stable. */
const inFileOrder = (crds: readonly CrdInfo[]) => [...crds].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

export function generateTypes(unordered: readonly CrdInfo[]): string {
  const crds = inFileOrder(unordered);
  const emitter = new TypeEmitter();
  for (const crd of crds) emitter.emitKind(crd);
  const kinds = crds.map((c) => c.kind);
  return (
    header('The v1alpha1 API as TypeScript types: one interface per kind, with <Kind>Spec and <Kind>Status.') +
    `import type { ObjectMeta } from './meta.ts';\n\n` +
    emitter.text() +
    `\n/** Every kind of the API. */\nexport type PortcullisObject = ${kinds.join(' | ')};\n`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// schemas.generated.ts

/** A copy of the schema without `description`s (the validator needs the rules, not the docs). */
export function stripDescriptions(schema: OpenApiSchema): OpenApiSchema {
  const out: Obj = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description') continue;
    if (key === 'properties' && isObj(value)) {
      const props: Obj = {};
      for (const [name, child] of Object.entries(value)) props[name] = stripDescriptions(child as OpenApiSchema);
      out[key] = props;
    } else if ((key === 'items' || key === 'additionalProperties') && isObj(value)) {
      out[key] = stripDescriptions(value as OpenApiSchema);
    } else out[key] = value;
  }
  return out as OpenApiSchema;
}

export function generateSchemas(unordered: readonly CrdInfo[]): string {
  const crds = inFileOrder(unordered);
  const kinds = crds.map((c) => c.kind);
  const schemas: Obj = {};
  const info: Obj = {};
  for (const c of crds) {
    schemas[c.kind] = stripDescriptions(c.schema);
    info[c.kind] = { group: c.group, version: c.version, plural: c.plural, singular: c.singular, shortNames: c.shortNames, categories: c.categories };
  }
  return (
    header('The CRDs\' OpenAPI schemas (descriptions stripped) and names, for the offline validator and API clients.') +
    `import type { OpenApiSchema } from './schema.ts';\n\n` +
    `/** Every kind the CRDs define. */\nexport type ApiKind = ${kinds.map((k) => `'${k}'`).join(' | ')};\n\n` +
    `/** Every kind the CRDs define, in crds/ file order. */\nexport const apiKinds: readonly ApiKind[] = ${JSON.stringify(kinds)};\n\n` +
    `export interface CrdNames {\n  group: string;\n  version: string;\n  plural: string;\n  singular: string;\n` +
    `  shortNames: readonly string[];\n  categories: readonly string[];\n}\n\n` +
    `/** Group, version and resource names of each kind (what API paths and kubectl use). */\n` +
    `export const crdNames: Readonly<Record<ApiKind, CrdNames>> = ${JSON.stringify(info, null, 2)};\n\n` +
    `/** The openAPIV3Schema of each kind's storage version. */\n` +
    `export const crdSchemas: Readonly<Record<ApiKind, OpenApiSchema>> = ${JSON.stringify(schemas, null, 2)};\n`
  );
}

/** Everything the generator writes, keyed by repository-relative path. */
export function generateApiFiles(crds: readonly CrdInfo[] = readCrds()): Map<string, string> {
  return new Map([
    [typesFile, generateTypes(crds)],
    [schemasFile, generateSchemas(crds)],
  ]);
}

/** Repository-relative paths whose committed content differs from `expected`, with the first differing line. */
export function staleFiles(expected: ReadonlyMap<string, string>, root = repoRoot): string[] {
  const stale: string[] = [];
  for (const [path, want] of expected) {
    const full = join(root, path);
    const have = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    if (have === want) continue;
    if (have === undefined) {
      stale.push(`${path}: missing`);
      continue;
    }
    const a = have.split('\n');
    const b = want.split('\n');
    let line = 0;
    while (line < a.length && line < b.length && a[line] === b[line]) line++;
    stale.push(`${path}: differs from what crds/ generates, first at line ${line + 1}`);
  }
  return stale;
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`usage: node scripts/gen-api-types.ts [--check]   (unknown argument ${unknown[0]})`);
    return 2;
  }
  const files = generateApiFiles();
  const stale = staleFiles(files);
  if (check) {
    if (stale.length === 0) return 0;
    console.error('The generated API files are out of date with crds/*.yaml:');
    for (const s of stale) console.error(`  ${s}`);
    console.error('Run `node scripts/gen-api-types.ts` and commit the result.');
    return 1;
  }
  for (const [path, content] of files) {
    const full = join(repoRoot, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
    writeFileSync(full, content);
    console.log(`wrote ${path}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
