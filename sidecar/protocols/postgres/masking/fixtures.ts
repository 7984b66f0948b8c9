// Shared test fixtures: a resource with classifications, a fake catalog of it, and helpers to plan and mask rows
// the way the session does.
import { analysePostgres } from '../../../../core/analysis/postgres/analyse.ts';
import type { PgTrackedState } from '../../../../core/analysis/postgres/session-tracker.ts';
import { compileMasker } from '../../../../core/masking/masker.ts';
import type { BundleResource } from '../../../../core/policy/bundle.ts';
import { buildDataRow, parseDataRow, type FieldDescription } from '../codec/index.ts';
import { newCommandContext, type CommandContext } from '../command-context.ts';
import { detectorRowMasker } from '../detector-planner.ts';
import type { ResultPlanner, RowMasker } from '../result-masking.ts';
import { Catalog } from './catalog.ts';
import { compileClasses } from './classify.ts';
import { ColumnPlanner } from './column-planner.ts';
import { FakeCatalogServer, type FakeCatalogData } from './testing.ts';

export const hashKey = Buffer.alloc(32, 7);
export const sessionState: PgTrackedState = { searchPath: ['$user', 'public'], prepared: new Map() };

export function resource(masking: BundleResource['masking'] = defaultMasking): BundleResource {
  return {
    name: 'db',
    namespace: 'agents',
    protocol: 'postgres',
    endpoint: { host: '127.0.0.1', port: 5432 },
    credentialsSecret: 'db',
    expose: {},
    classifications: [
      { name: 'card', columns: ['public.customers.card'], jsonPaths: [], kubernetes: [], detectors: ['credit-card'] },
      { name: 'contact', columns: ['public.customers.email', 'Public.Customers.Nick'], jsonPaths: [], kubernetes: [], detectors: ['email'] },
      { name: 'secret', columns: ['vault.*.secret'], jsonPaths: [], kubernetes: [], detectors: [] },
      { name: 'born', columns: ['public.customers.born'], jsonPaths: [], kubernetes: [], detectors: [] },
    ],
    defaultAction: 'deny',
    rules: [],
    masking,
    policies: ['agents/p'],
  };
}

export const defaultMasking: BundleResource['masking'] = [
  { classification: 'card', strategy: 'last4', strict: false, policy: 'agents/p' },
  { classification: 'contact', strategy: 'redact', strict: true, policy: 'agents/p' },
  { classification: 'secret', strategy: 'null', strict: false, policy: 'agents/p' },
  { classification: 'born', strategy: 'hash', strict: false, policy: 'agents/p' },
];

export const OID = { customers: 16384, orders: 16400, v: 16410, vv: 16420, child: 16430, keys: 16440, mv: 16450, notes: 16460, contacts: 16470 };
export const T = { int4: 23, text: 25, varchar: 1043, bpchar: 1042, jsonb: 3802, json: 114, date: 1082, numeric: 1700, citext: 17000, mood: 17001, xml: 142 };

export const catalogData: FakeCatalogData = {
  relations: [
    {
      oid: OID.customers,
      schema: 'public',
      name: 'customers',
      columns: [['id', T.int4], ['name', T.text], ['card', T.text], ['email', T.varchar], ['note', T.bpchar], ['doc', T.jsonb], ['born', T.date], ['nick', T.citext], ['mood', T.mood]],
      // a dropped column between name and card: attnums are not positions
      attnums: [1, 2, 4, 5, 6, 7, 8, 9, 10],
    },
    { oid: OID.orders, schema: 'public', name: 'orders', columns: [['id', T.int4], ['customer_id', T.int4], ['total', T.numeric]] },
    {
      oid: OID.v,
      schema: 'public',
      name: 'v',
      relkind: 'v',
      columns: [['id', T.int4], ['name', T.text], ['cc', T.text], ['rc', T.text]],
      viewDef: ' SELECT customers.id,\n    customers.name,\n    customers.card AS cc,\n    reverse(customers.card) AS rc\n   FROM public.customers;',
    },
    {
      oid: OID.vv,
      schema: 'public',
      name: 'vv',
      relkind: 'v',
      columns: [['x', T.text], ['name', T.text]],
      viewDef: ' SELECT v.rc AS x,\n    v.name\n   FROM public.v;',
    },
    { oid: OID.child, schema: 'public', name: 'customers_2024', columns: [['id', T.int4], ['name', T.text], ['card', T.text]], parents: [OID.customers] },
    { oid: OID.keys, schema: 'vault', name: 'keys', columns: [['id', T.int4], ['secret', T.text]] },
    { oid: OID.mv, schema: 'public', name: 'mv', relkind: 'm', columns: [['card', T.text]], viewDef: ' SELECT customers.card\n   FROM public.customers;' },
    { oid: OID.notes, schema: 'public', name: 'notes', columns: [['id', T.int4], ['body', T.text]] },
    {
      oid: OID.contacts,
      schema: 'public',
      name: 'contacts',
      relkind: 'v',
      columns: [['id', T.int4], ['mail', T.varchar]],
      viewDef: ' SELECT customers.id,\n    customers.email AS mail\n   FROM public.customers;',
    },
  ],
  userFunctions: ['my_fn'],
  types: { [T.citext]: 'S', [T.mood]: 'E' },
};

export function field(name: string, tableOid: number, columnAttr: number, typeOid: number, format: 0 | 1 = 0): FieldDescription {
  return { name, tableOid, columnAttr, typeOid, typeLen: -1, typeMod: -1, format };
}

export interface Harness {
  readonly server: FakeCatalogServer;
  readonly planner: ColumnPlanner;
  readonly base: ResultPlanner;
}

export function harness(data: FakeCatalogData = catalogData, res: BundleResource = resource()): Harness {
  const server = new FakeCatalogServer(data);
  const masker = compileMasker(
    res.masking.map((m) => {
      const c = res.classifications.find((x) => x.name === m.classification)!;
      return { name: c.name, detectors: c.detectors, strategy: m.strategy };
    }),
    hashKey,
  );
  const base: ResultPlanner = {
    needed: true,
    plan: (fields) => detectorRowMasker(masker, fields),
    planCopy: () => detectorRowMasker(masker, [field('copy', 0, 0, T.text)]),
    invalidate: () => undefined,
  };
  const planner = new ColumnPlanner(base, compileClasses(res), new Catalog(server), hashKey);
  return { server, planner, base };
}

export function command(text: string, state: PgTrackedState = sessionState): CommandContext {
  return newCommandContext(1, text, analysePostgres(text, state));
}

/** Masks one row; returns the values the agent would see. */
export function maskRow(m: RowMasker, values: readonly (string | null)[]): (string | null)[] {
  const row = buildDataRow(values);
  const out = m.maskRow(row, 5, row.length) ?? row;
  return parseDataRow(out.subarray(5)).values.map((v) => (v === null ? null : v.toString('utf8')));
}
