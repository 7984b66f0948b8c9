// The chart's copies of what the repository defines once: the CRDs (Helm installs charts/portcullis/crds/ before
// anything else, and a packaged chart cannot follow symlinks out of itself, so they are copies) and the sidecar
// defaults the injector applies when the operator runs without Helm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_SIDECAR } from '../../operator/webhooks/injector-config.ts';

const CHART = import.meta.dirname;
const REPO = resolve(CHART, '..', '..');

test('chart CRDs are byte-identical copies of crds/ (fix: cp crds/*.yaml charts/portcullis/crds/)', () => {
  const source = readdirSync(join(REPO, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
  const copies = readdirSync(join(CHART, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(copies, source);
  for (const f of source) {
    assert.equal(readFileSync(join(CHART, 'crds', f), 'utf8'), readFileSync(join(REPO, 'crds', f), 'utf8'), `charts/portcullis/crds/${f} differs from crds/${f}`);
  }
});

test('chart sidecar values equal the injector defaults', () => {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
    sidecar: { uid: number; adminPort: number; walSizeLimit: string; logLevel: string; resources: unknown; image: { pullPolicy: string } };
  };
  assert.equal(values.sidecar.uid, DEFAULT_SIDECAR.uid);
  assert.equal(values.sidecar.adminPort, DEFAULT_SIDECAR.adminPort);
  assert.equal(values.sidecar.walSizeLimit, DEFAULT_SIDECAR.walSizeLimit);
  assert.equal(values.sidecar.logLevel, DEFAULT_SIDECAR.logLevel);
  assert.equal(values.sidecar.image.pullPolicy, DEFAULT_SIDECAR.imagePullPolicy);
  assert.deepEqual(values.sidecar.resources, DEFAULT_SIDECAR.resources);
});
