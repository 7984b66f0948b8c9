// `kubectl-portcullis explain`: an offline dry run of the policy a pod would get. Same loader, compiler, analysers
// and engine as the sidecar, so what explain says is what the sidecar does.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadManifests } from '../core/manifests/load.ts';
import { offlineBundle } from '../core/manifests/offline-bundle.ts';
import { parseLabels } from '../core/policy/selector.ts';
import { createEngine, type Decision, type Engine } from '../core/policy/engine.ts';
import type { Command } from '../core/analysis/command.ts';
import { analysePostgres, initPostgresParser } from '../core/analysis/postgres/analyse.ts';
import { offlineSearchPath } from '../core/analysis/postgres/types.ts';
import { analyseMysql } from '../core/analysis/mysql/analyse.ts';
import { analyseKubernetes } from '../core/analysis/kubernetes/request-info.ts';
import { analyseHttp } from '../core/analysis/http/request.ts';
import { analyseSsh } from '../core/analysis/ssh/command-line.ts';

export const explainUsage = `Usage:
  kubectl-portcullis explain -f FILE_OR_DIR... [--labels k=v,...] [--namespace NS] --resource NAME
      (--sql QUERY | --k8s "METHOD PATH" | --http "METHOD PATH" [--header k:v]... [--body JSON] | --ssh COMMAND)
  kubectl-portcullis explain -f FILE_OR_DIR... [--labels k=v,...] --batch < requests.jsonl

Prints one JSON decision {"action","rule","policy","reasons"} per request. Batch lines are JSON objects:
  {"resource":"orders-db","sql":"SELECT 1"}
  {"resource":"prod-cluster","k8s":{"method":"GET","path":"/api/v1/namespaces/x/pods","headers":{}}}
  {"resource":"api","http":{"method":"POST","path":"/v1/orders","headers":{},"body":"{...}"}}
  {"resource":"bastion","ssh":"rm -rf /tmp/x"}
Exit status: 0 when decisions were made (deny included), 1 for unreadable or invalid files, 2 for bad usage.`;

export class UsageError extends Error {}

export interface ExplainRequest {
  resource: string;
  sql?: string;
  k8s?: { method: string; path: string; headers?: Record<string, string> };
  http?: { method: string; path: string; headers?: Record<string, string>; body?: string };
  ssh?: string;
}

export interface ExplainOutput {
  action: string;
  rule: string | null;
  policy: string | null;
  message?: string;
  reasons: readonly string[];
}

/** MySQL resolves unqualified tables in the session's database: the credentials Secret's `database`, if any. */
export type DatabaseOf = (resource: string) => string | undefined;

export function analyseRequest(engine: Engine, req: ExplainRequest, databaseOf: DatabaseOf = () => undefined): Command {
  const r = engine.resource(req.resource);
  if (!r) throw new UsageError(`resource "${req.resource}" is not in the selected policies (known: ${engine.bundle.resources.map((x) => x.name).join(', ') || 'none'})`);
  const protocol = r.spec.protocol;
  const want = protocol === 'postgres' || protocol === 'mysql' ? 'sql' : protocol === 'kubernetes' ? 'k8s' : protocol;
  const given = (['sql', 'k8s', 'http', 'ssh'] as const).filter((k) => req[k] !== undefined);
  if (given.length !== 1 || given[0] !== want) {
    throw new UsageError(`resource "${req.resource}" speaks ${protocol}: give exactly one --${want} request`);
  }
  switch (protocol) {
    case 'postgres':
      return analysePostgres(req.sql!, { searchPath: offlineSearchPath, prepared: new Map() });
    case 'mysql':
      return analyseMysql(req.sql!, { ...(databaseOf(req.resource) ? { database: databaseOf(req.resource)! } : {}) });
    case 'kubernetes':
      return analyseKubernetes({ method: req.k8s!.method, path: req.k8s!.path, headers: req.k8s!.headers ?? {} });
    case 'http':
      return analyseHttp({ method: req.http!.method, path: req.http!.path, headers: req.http!.headers ?? {}, ...(req.http!.body !== undefined ? { body: req.http!.body } : {}) });
    case 'ssh':
      return analyseSsh({ kind: 'exec', command: req.ssh! });
  }
}

export function toOutput(d: Decision): ExplainOutput {
  return { action: d.action, rule: d.rule ?? null, policy: d.policy ?? null, ...(d.message ? { message: d.message } : {}), reasons: d.reasons };
}

function methodAndPath(flag: string, v: string): { method: string; path: string } {
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(v);
  if (!m) throw new UsageError(`--${flag} wants "METHOD PATH", got ${JSON.stringify(v)}`);
  return { method: m[1]!.toUpperCase(), path: m[2]! };
}

function headersFrom(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header wants "name: value", got ${JSON.stringify(h)}`);
    out[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return out;
}

/** Runs the command; returns the exit status. Output goes to `out`, diagnostics to `err`. */
export async function explainCommand(
  argv: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void; stdin: NodeJS.ReadableStream } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    stdin: process.stdin,
  },
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        labels: { type: 'string', short: 'l' },
        namespace: { type: 'string', short: 'n' },
        resource: { type: 'string', short: 'r' },
        sql: { type: 'string' },
        k8s: { type: 'string' },
        http: { type: 'string' },
        header: { type: 'string', multiple: true },
        body: { type: 'string' },
        ssh: { type: 'string' },
        batch: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`explain: ${(e as Error).message}\n${explainUsage}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${explainUsage}\n`);
    return 0;
  }
  if (!values.filename?.length) {
    io.err(`explain: -f FILE_OR_DIR is required\n${explainUsage}\n`);
    return 2;
  }
  let engine: Engine;
  let databaseOf: DatabaseOf = () => undefined;
  try {
    const labels = values.labels !== undefined ? parseLabels(values.labels) : undefined;
    const { bundle, secrets } = offlineBundle(loadManifests(values.filename), {
      ...(labels ? { labels } : {}),
      ...(values.namespace ? { namespace: values.namespace } : {}),
    });
    engine = createEngine(bundle);
    databaseOf = (name) => {
      const r = bundle.resources.find((x) => x.name === name);
      return r ? secrets.get(r.credentialsSecret)?.database : undefined;
    };
    await initPostgresParser();
  } catch (e) {
    io.err(`explain: ${(e as Error).message}\n`);
    return 1;
  }
  if (values.batch) return runBatch(engine, io, databaseOf);
  try {
    if (!values.resource) throw new UsageError('--resource NAME is required');
    const req: ExplainRequest = { resource: values.resource };
    if (values.sql !== undefined) req.sql = values.sql;
    if (values.k8s !== undefined) req.k8s = { ...methodAndPath('k8s', values.k8s), headers: headersFrom(values.header) };
    if (values.http !== undefined) {
      req.http = { ...methodAndPath('http', values.http), headers: headersFrom(values.header), ...(values.body !== undefined ? { body: values.body } : {}) };
    }
    if (values.ssh !== undefined) req.ssh = values.ssh;
    io.out(`${JSON.stringify(toOutput(engine.decide(req.resource, analyseRequest(engine, req, databaseOf))))}\n`);
    return 0;
  } catch (e) {
    io.err(`explain: ${(e as Error).message}\n`);
    return 2;
  }
}

async function runBatch(engine: Engine, io: { out: (s: string) => void; err: (s: string) => void; stdin: NodeJS.ReadableStream }, databaseOf: DatabaseOf): Promise<number> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  let status = 0;
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      const req = JSON.parse(line) as ExplainRequest;
      if (typeof req !== 'object' || req === null || typeof req.resource !== 'string') throw new UsageError('each line needs a "resource"');
      io.out(`${JSON.stringify(toOutput(engine.decide(req.resource, analyseRequest(engine, req, databaseOf))))}\n`);
    } catch (e) {
      // Keep output lines aligned with input lines: a bad request still gets a line (an error, not a decision).
      io.out(`${JSON.stringify({ error: `line ${n}: ${(e as Error).message}` })}\n`);
      status = 2;
    }
  }
  return status;
}
