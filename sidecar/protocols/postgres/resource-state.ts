// Bundle + Secrets → everything a PostgreSQL session of one resource needs, built once per bundle load (engine,
// decision cache, masking plan, upstream target and credentials).
import type { OfflineBundle } from '../../../core/manifests/offline-bundle.ts';
import type { Engine } from '../../../core/policy/engine.ts';
import { SqlDecider, objectId } from '../../../core/policy/sql-decider.ts';
import { analysePostgres, type PgTrackedState } from '../../../core/analysis/postgres/analyse.ts';
import { normalizePostgres, reusableUnderNormalisation } from '../../../core/analysis/postgres/normalize.ts';
import { fastShape } from '../../../core/analysis/postgres/fast-shape.ts';
import type { PgAnalysis } from '../../../core/analysis/postgres/types.ts';
import { compileMasker } from '../../../core/masking/masker.ts';
import { compileGlob } from '../../../core/policy/glob.ts';
import { foldSqlPattern } from '../../../core/policy/matchers/sql.ts';
import { parseDuration } from '../../../core/util/duration.ts';
import type { Verifier } from '../../auth/jwt-verifier.ts';
import type { PgResourceState } from './runtime.ts';
import { detectorRowMasker } from './detector-planner.ts';
import { noMasking, type ResultPlanner } from './result-masking.ts';
import { connectUpstream, type UpstreamConnection, type UpstreamTarget } from './upstream.ts';

export class ResourceConfigError extends Error {}

/** The cache key of a statement's analysis: everything in the session state that can change it. */
export function pgStateKey(s: PgTrackedState): string {
  const path = s.searchPathUnknown !== undefined ? `?${s.searchPathUnknown}` : s.searchPath.join(',');
  const txn = s.transaction ? objectId(s.transaction) : 0;
  const temp = s.tempRelations ? objectId(s.tempRelations) : 0;
  const reset = s.resetSearchPath ? s.resetSearchPath.join(',') : '';
  return `${path}|${reset}|${s.user ?? ''}|${roleKey(s.currentRole)}|${roleKey(s.sessionAuthorization)}|${objectId(s.prepared)}|${txn}|${temp}`;
}

function roleKey(r: PgTrackedState['currentRole']): string {
  if (r === undefined) return '';
  if (r === null) return '-';
  return typeof r === 'string' ? `r:${r}` : `?${r.unknown}`;
}

export function buildPgResourceState(
  name: string,
  loaded: OfflineBundle,
  engine: Engine,
  verifier: Verifier,
  hashKey: Buffer,
  makePlanner?: (base: ResultPlanner, st: { resource: PgResourceState['resource']; hashKey: Buffer; connect: () => Promise<UpstreamConnection> }) => ResultPlanner,
): PgResourceState {
  const { bundle, secrets } = loaded;
  const resource = bundle.resources.find((r) => r.name === name);
  if (!resource) throw new ResourceConfigError(`resource ${name} is not in the bundle`);
  const secret = secrets.get(resource.credentialsSecret);
  if (!secret) throw new ResourceConfigError(`Secret ${resource.credentialsSecret} (credentials of ${name}) not found`);
  if (!secret.username || !secret.password) throw new ResourceConfigError(`Secret ${resource.credentialsSecret} needs keys username and password`);
  const ep = resource.endpoint as { host?: string; port?: number; tls?: { mode?: string; caSecretRef?: { name: string; key?: string }; serverName?: string } };
  if (!ep.host || !ep.port) throw new ResourceConfigError(`resource ${name}: endpoint needs host and port`);
  const mode = (ep.tls?.mode ?? 'disable') as UpstreamTarget['tls']['mode'];
  let ca: string | undefined;
  if (ep.tls?.caSecretRef) {
    const caSecret = secrets.get(ep.tls.caSecretRef.name);
    ca = caSecret?.[ep.tls.caSecretRef.key ?? 'ca.crt'];
    if (!ca) throw new ResourceConfigError(`resource ${name}: CA Secret ${ep.tls.caSecretRef.name} key ${ep.tls.caSecretRef.key ?? 'ca.crt'} not found`);
  }
  const target: UpstreamTarget = {
    host: ep.host,
    port: ep.port,
    tls: { mode, ...(ca ? { ca } : {}), ...(ep.tls?.serverName ? { serverName: ep.tls.serverName } : {}) },
  };
  const classes = resource.masking.map((m) => {
    const c = resource.classifications.find((x) => x.name === m.classification)!;
    return { name: c.name, detectors: c.detectors, strategy: m.strategy };
  });
  const masker = compileMasker(classes, hashKey);
  const base: ResultPlanner = resource.masking.length === 0 ? noMasking : {
    needed: true,
    plan: (fields) => detectorRowMasker(masker, fields),
    planCopy: () => detectorRowMasker(masker, [{ name: 'copy', tableOid: 0, columnAttr: 0, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 }]),
    invalidate: () => undefined,
  };
  const credentials = { username: secret.username, password: secret.password, ...(secret.database ? { database: secret.database } : {}) };
  // The planner's own catalog connection, with the same credentials: it sees the catalog as the agent's role would.
  const connect = () => connectUpstream(target, credentials, new Map([['application_name', 'portcullis-catalog'], ['client_encoding', 'UTF8']]));
  const planner = makePlanner ? makePlanner(base, { resource, hashKey, connect }) : base;
  const policies = new Map(bundle.policies.map((p) => [p.id, p]));
  const graces = resource.policies.map((id) => policies.get(id)?.subjects?.sessionGrace ?? '5m');
  const sessionGrace = graces.sort((a, b) => parseDuration(a) - parseDuration(b))[0] ?? '5m';
  const decider = new SqlDecider<PgTrackedState>({
    engine,
    resource: name,
    analyse: (text, state) => analysePostgres(text, state) as ReturnType<typeof analysePostgres> & { stateAfter: PgTrackedState },
    stateKey: pgStateKey,
    secondKey: normalizePostgres,
    reusable: (a, state) => reusableUnderNormalisation(a as PgAnalysis, state),
    fastKey: fastShape,
  });
  // Tables named by a masked classification's columns (`schema.table` of `schema.table.column` globs).
  const classifiedTables = resource.masking.flatMap((m) => resource.classifications.find((c) => c.name === m.classification)?.columns ?? [])
    .map((col) => compileGlob(foldSqlPattern(col.split('.').slice(0, -1).join('.'))));
  return {
    bundle,
    engine,
    resource,
    ...(resource.masking.length > 0 ? { textMasker: masker } : {}),
    isClassifiedRelation: (relation) => classifiedTables.some((m) => m(relation)),
    decider,
    target,
    credentials,
    planner,
    verifier,
    policy: (id) => policies.get(id),
    sessionGrace,
  };
}
