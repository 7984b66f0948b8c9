// The generator: deterministic, up to date with crds/, and faithful to the schema (optionality, enums, docs, maps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateApiFiles,
  generateTypes,
  readCrds,
  repoRoot,
  schemasFile,
  staleFiles,
  stripDescriptions,
  typesFile,
  type CrdInfo,
} from '../../scripts/gen-api-types.ts';
import type { OpenApiSchema } from './schema.ts';
import { crdSchemas } from './schemas.generated.ts';

const crds = readCrds();

test('generation is deterministic and independent of the order the CRDs are read in', () => {
  const first = generateApiFiles(crds);
  const again = generateApiFiles(readCrds());
  const reversed = generateApiFiles([...crds].reverse());
  assert.deepEqual([...first.keys()], [typesFile, schemasFile]);
  for (const [path, text] of first) {
    assert.equal(again.get(path), text, path);
    assert.equal(reversed.get(path), text, path);
  }
});

test('the committed generated files are up to date with crds/', () => {
  assert.deepEqual(staleFiles(generateApiFiles(crds)), []);
});

test('`gen-api-types.ts --check` passes on the committed tree', () => {
  const run = spawnSync(process.execPath, [join(repoRoot, 'scripts/gen-api-types.ts'), '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

test('staleFiles names the file and the first differing line, or a missing file', () => {
  const root = mkdtempSync(join(tmpdir(), 'gen-api-'));
  try {
    mkdirSync(join(root, 'core/api'), { recursive: true });
    const files = generateApiFiles(crds);
    const types = files.get(typesFile)!;
    const lines = types.split('\n');
    lines[6] = '// edited by hand';
    writeFileSync(join(root, typesFile), lines.join('\n'));
    assert.deepEqual(staleFiles(files, root), [
      `${typesFile}: differs from what crds/ generates, first at line 7`,
      `${schemasFile}: missing`,
    ]);
    writeFileSync(join(root, typesFile), types);
    writeFileSync(join(root, schemasFile), files.get(schemasFile)!);
    assert.deepEqual(staleFiles(files, root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('each kind exports <Kind>, <Kind>Spec and <Kind>Status with apiVersion, kind, metadata, spec and status?', () => {
  const text = generateTypes(crds);
  for (const kind of ['ProtectedResource', 'AgentPolicy', 'ApprovalRequest', 'AgentSession', 'SessionChunk']) {
    const body = text.match(new RegExp(`export interface ${kind} \\{\\n([\\s\\S]*?)\\n\\}`))?.[1];
    assert.ok(body, `no interface ${kind}`);
    const fields = body.split('\n').filter((l) => /^ {2}\w/.test(l)).map((l) => l.trim());
    assert.deepEqual(fields, [
      `apiVersion: 'portcullis.dev/v1alpha1';`,
      `kind: '${kind}';`,
      'metadata: ObjectMeta;',
      `spec: ${kind}Spec;`,
      `status?: ${kind}Status;`,
    ]);
    assert.match(text, new RegExp(`export (interface|type) ${kind}Spec\\b`));
    assert.match(text, new RegExp(`export (interface|type) ${kind}Status\\b`));
  }
});

test('the embedded schemas are the CRD schemas without descriptions', () => {
  for (const crd of crds) {
    assert.deepEqual(crdSchemas[crd.kind as keyof typeof crdSchemas], stripDescriptions(crd.schema));
    assert.ok(!JSON.stringify(crdSchemas[crd.kind as keyof typeof crdSchemas]).includes('"description"'));
  }
});

// A synthetic CRD exercising every mapping rule of the generator.
function fixture(spec: OpenApiSchema, file = 'crds/widgets.example.dev.yaml'): CrdInfo {
  return {
    file,
    group: 'example.dev',
    version: 'v1',
    kind: 'Widget',
    plural: 'widgets',
    singular: 'widget',
    shortNames: [],
    categories: [],
    schema: {
      type: 'object',
      description: 'A widget.',
      required: ['spec'],
      properties: {
        apiVersion: { type: 'string', description: 'API version.' },
        kind: { type: 'string', description: 'Kind.' },
        metadata: { type: 'object', description: 'Metadata.' },
        spec,
      },
    },
  };
}

test('schema → TypeScript mapping: required, enums, lists, maps, defaults, docs', () => {
  const text = generateTypes([
    fixture({
      type: 'object',
      description: 'What the widget is. Globs such as */proxy stay inside the comment.',
      required: ['size'],
      properties: {
        size: { type: 'integer', description: 'Size.' },
        colour: { type: 'string', enum: ['red', 'blue'], default: 'red', description: 'Colour.' },
        tags: { type: 'array', description: 'Tags.', items: { type: 'string', description: 'A tag.' } },
        modes: { type: 'array', description: 'Modes.', items: { type: 'string', enum: ['a', 'b'], description: 'A mode.' } },
        labels: { type: 'object', description: 'Labels.', additionalProperties: { type: 'string', description: 'Value.' } },
        parts: {
          type: 'array',
          description: 'Parts.',
          items: { type: 'object', description: 'A part.', required: ['id'], properties: { id: { type: 'string', description: 'Id.' }, 'x-y': { type: 'boolean', description: 'Odd key.' } } },
        },
      },
    }),
  ]);
  assert.match(text, /export interface Widget \{\n[\s\S]*\n {2}spec: WidgetSpec;\n\}/);
  assert.match(text, /\/\*\* What the widget is\. Globs such as \*\\\/proxy stay inside the comment\. \*\/\nexport interface WidgetSpec \{/);
  assert.match(text, /\/\*\* Size\. \*\/\n {2}size: number;/);
  assert.match(text, /\/\*\*\n {3}\* Colour\.\n {3}\* @defaultValue "red"\n {3}\*\/\n {2}colour\?: "red" \| "blue";/);
  assert.match(text, /\n {2}tags\?: string\[\];/);
  assert.match(text, /\n {2}modes\?: \("a" \| "b"\)\[\];/);
  assert.match(text, /\n {2}labels\?: Record<string, string>;/);
  assert.match(text, /\n {2}parts\?: WidgetSpecPartsItem\[\];/);
  assert.match(text, /\/\*\* A part\. \*\/\nexport interface WidgetSpecPartsItem \{\n {2}\/\*\* Id\. \*\/\n {2}id: string;\n {2}\/\*\* Odd key\. \*\/\n {2}"x-y"\?: boolean;\n\}/);
  assert.match(text, /export type PortcullisObject = Widget;/);
});

test('one type name for two different shapes is refused', () => {
  const condition = (extra: Record<string, OpenApiSchema>): OpenApiSchema => ({
    type: 'array',
    description: 'Conditions.',
    items: { type: 'object', description: 'A condition.', properties: { type: { type: 'string', description: 'Type.' }, ...extra } },
  });
  const good = crds.find((c) => c.kind === 'ProtectedResource')!;
  const status = good.schema.properties!.status!;
  const tampered: CrdInfo = {
    ...good,
    schema: {
      ...good.schema,
      properties: { ...good.schema.properties, status: { ...status, properties: { ...status.properties, conditions: condition({ extra: { type: 'string', description: 'x' } }) } } },
    },
  };
  assert.throws(() => generateTypes([tampered, ...crds.filter((c) => c.kind !== 'ProtectedResource')]), /type name Condition is used for different shapes/);
});
