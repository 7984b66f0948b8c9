// Reads the Kubernetes manifests a cluster would hold — ProtectedResources, AgentPolicies and the Secrets they name —
// from files and directories, for the offline tools (explain, the standalone sidecar). Errors name the file and the
// document, so a typo never turns into a silently different policy.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; generation?: number };
  spec?: unknown;
  [k: string]: unknown;
}

export interface LoadedManifest {
  readonly object: Manifest;
  /** `file` or `file#2` (1-based document number) — where to look when something is wrong. */
  readonly source: string;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const manifestFile = /\.(ya?ml|json)$/i;

/** Expands directories (sorted, not recursive into dot-dirs) into manifest files. */
export function manifestFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ManifestError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.startsWith('.')) continue;
        const child = join(p, name);
        if (statSync(child).isDirectory()) out.push(...manifestFiles([child]));
        else if (manifestFile.test(name)) out.push(child);
      }
    } else out.push(p);
  }
  return out;
}

export function loadManifests(paths: readonly string[]): LoadedManifest[] {
  const out: LoadedManifest[] = [];
  for (const file of manifestFiles(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ManifestError(`${file}: cannot read: ${(e as Error).message}`);
    }
    out.push(...parseManifests(text, file));
  }
  return out;
}

export function parseManifests(text: string, file: string): LoadedManifest[] {
  const out: LoadedManifest[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) throw new ManifestError(`${file}: not a YAML stream`);
  docs.forEach((doc, i) => {
    const source = docs.length > 1 ? `${file}#${i + 1}` : file;
    if (doc.errors.length > 0) throw new ManifestError(`${source}: invalid YAML: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // empty document (e.g. a trailing ---)
    const items = isList(value) ? (value.items as unknown[]) : [value];
    items.forEach((item, j) => {
      const where = isList(value) ? `${source} items[${j}]` : source;
      out.push({ object: checkShape(item, where), source: where });
    });
  });
  return out;
}

function isList(v: unknown): v is { kind: string; items: unknown[] } {
  const o = v as { kind?: unknown; items?: unknown };
  return typeof o === 'object' && o !== null && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}

function checkShape(v: unknown, where: string): Manifest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(`${where}: a manifest must be a mapping`);
  const o = v as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string') throw new ManifestError(`${where}: apiVersion: Required value`);
  if (typeof o.kind !== 'string') throw new ManifestError(`${where}: kind: Required value`);
  const md = o.metadata as Record<string, unknown> | undefined;
  if (typeof md !== 'object' || md === null || typeof md.name !== 'string' || md.name === '') {
    throw new ManifestError(`${where}: metadata.name: Required value`);
  }
  return o as unknown as Manifest;
}
