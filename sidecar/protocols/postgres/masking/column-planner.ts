// Column-level masking for PostgreSQL results (catalog + parse-tree lineage) on top of the detector backstop.
//
// For each result set (RowDescription) or COPY … TO STDOUT, the planner decides once which columns are classified:
// by the table OID + attribute number PostgreSQL reports (resolved through the catalog, views followed to their
// base columns), and for expressions by lineage of the statement that produced the result. Classified columns are
// masked whole with their classification's strategy (the strictest where several meet); the detector backstop (`base`)
// then runs on every text cell column masking left alone. Plans are cached per statement text, session state and
// row shape; the catalog is read on the planner's own upstream connection, once per OID/name, and forgotten on DDL.
//
// Failure modes (fail closed):
// - the catalog cannot be reached or keeps missing facts: the plan is rejected — the session then ends rather than
//   send a column that might be classified;
// - binary COPY of a classified column: rejected likewise (binary rows are not rewritten);
// - lineage unknown: the column is masked whole when the statement reads a relation with classified columns (or may
//   read anything: user-defined functions, CALL, an EXECUTE or FETCH whose statement the planner did not see).
//
// Wiring the planner needs from the session (session.ts, resource-state.ts, result-masking.ts are the lead's):
// 1. resource-state.ts gives the planner its catalog connection:
//      const credentials = { username: secret.username, password: secret.password, ...(secret.database ? { database: secret.database } : {}) };
//      makePlanner(base, { resource, hashKey,
//        connect: () => connectUpstream(target, credentials, new Map([['application_name', 'portcullis-catalog']])) })
//    (and makePlanner's parameter type gains `connect: () => Promise<UpstreamConnection>`). Without `connect`
//    columnPlanner returns `base` unchanged (detectors only), as the placeholder did.
// 2. result-masking.ts: ResultPlanner gains
//      forwarded?(session: object, command: CommandContext, stateBefore: PgTrackedState): void;
//    and session.ts calls it for every command it forwards, before the bytes go out — in #forwardQuery
//    `st.planner.forwarded?.(this, cmd, this.#state)` (this.#state is still the state the command was analysed
//    with), and in #forwardBatch for each Execute's context, with the state that Execute was decided in (the
//    previous Execute's stateAfter). EXECUTE and FETCH of statements/cursors from earlier commands then have
//    lineage; without the call their computed columns are masked whole (OID-named columns stay exact).
// 3. Optional: #strictViolation passes `stateBefore` too (`{ command, stateBefore: this.#state }`), so a command
//    that changes search_path after the filtering statement resolves names exactly (StrictSource).
// 4. main.ts should close() the planner of every replaced resource state, not only removed ones (each holds at
//    most one catalog connection, itself closed after a minute idle).
import { createHash } from 'node:crypto';
import type { PgTrackedState } from '../../../../core/analysis/postgres/session-tracker.ts';
import {
  emptyLineageSession,
  lineageOfStatements,
  parseStatements,
  type LineageSession,
  type StatementLineage,
} from '../../../../core/analysis/postgres/lineage.ts';
import type { BundleResource } from '../../../../core/policy/bundle.ts';
import type { FieldDescription } from '../codec/index.ts';
import type { CommandContext } from '../command-context.ts';
import type { ResultPlanner, ResultSource, RowMasker } from '../result-masking.ts';
import type { Connect } from './catalog-client.ts';
import { Catalog, Missing } from './catalog.ts';
import { Classifier, compileClasses, type MaskClass } from './classify.ts';
import { copyFormat } from './copy-format.ts';
import { CopyMasker } from './copy-masker.ts';
import { planCopyColumns, planFields, type FieldPlan } from './field-plan.ts';
import { ColumnRowMasker } from './row-masker.ts';
import { checkStrict } from './strict.ts';

export interface ColumnPlannerContext {
  readonly resource: BundleResource;
  readonly hashKey: Buffer;
  /** Opens the catalog's own connection to the resource's server (its target and credentials). */
  readonly connect?: Connect;
}

/**
 * What strictViolation is given: the command, and — when the session passes it — the state the command was
 * analysed with (names then resolve exactly; without it, the state after the command is used).
 */
export type StrictSource = Omit<ResultSource, 'statementIndex'> & { readonly stateBefore?: PgTrackedState };

/** What the session tells the planner so that EXECUTE and FETCH results have lineage. */
export interface SessionLineageHooks {
  forwarded(session: object, command: CommandContext, stateBefore: PgTrackedState): void;
}

export function columnPlanner(base: ResultPlanner, ctx: ColumnPlannerContext): ResultPlanner & Partial<SessionLineageHooks> {
  const classes = compileClasses(ctx.resource);
  if (classes.length === 0 || ctx.connect === undefined) return base;
  return new ColumnPlanner(base, classes, new Catalog(ctx.connect), ctx.hashKey);
}

/** How many catalog round trips one plan may take (views of views add one each) before it fails closed. */
const maxRounds = 20;

interface PlanInput {
  readonly text: string;
  readonly statementIndex: number;
  readonly state: PgTrackedState;
  readonly session: LineageSession;
  /** Relations the analyser found for this statement (a second opinion on what it reads). */
  readonly relations: readonly string[];
}

type Attempt<T> = { readonly done: T } | { readonly missing: Missing };

export class ColumnPlanner implements ResultPlanner, SessionLineageHooks {
  readonly needed = true;
  readonly strictViolation?: (source: StrictSource) => string | undefined;
  readonly #base: ResultPlanner;
  readonly #classes: readonly MaskClass[];
  readonly #catalog: Catalog;
  readonly #hashKey: Buffer;
  readonly #parsed = new Lru<string, unknown[] | { error: string }>(512);
  readonly #plans = new Lru<string, readonly FieldPlan[]>(2048);
  readonly #strictCache = new Lru<string, string | null>(1024);
  /** The last plan per statement text (or shape), checked against the exact RowDescription bytes and the state it
   * was made in: a repeated statement skips parsing the description and building the plan key. */
  #memo = new Map<string, PlanMemo>();
  readonly #sessions = new WeakMap<object, LineageSession>();
  readonly #strict: boolean;

  constructor(base: ResultPlanner, classes: readonly MaskClass[], catalog: Catalog, hashKey: Buffer) {
    this.#base = base;
    this.#classes = classes;
    this.#catalog = catalog;
    this.#hashKey = hashKey;
    this.#strict = classes.some((c) => c.strict);
    if (this.#strict) {
      this.strictViolation = (source) => this.#checkStrict(source.command, source.stateBefore);
      this.#warm();
    }
  }

  /** The masker planned before for this statement and this exact RowDescription body, if still valid. */
  planned(description: Buffer, source: ResultSource): RowMasker | undefined {
    const cmd = source.command;
    const key = memoKey(cmd);
    if (key === undefined) return undefined;
    const m = this.#memo.get(key);
    if (m === undefined || m.statementIndex !== source.statementIndex) return undefined;
    const notes = cmd.planning as CommandNotes | undefined;
    if ((notes?.session ?? emptyLineageSession) !== m.session) return undefined;
    // Sessions hold equal but distinct state objects: compare what names resolve by, as the plan cache key does.
    const state = (notes?.state ?? cmd.analysis.stateAfter) as PgTrackedState;
    if (state !== m.state && stateKey(state) !== stateKey(m.state)) return undefined;
    return description.equals(m.description) ? m.masker : undefined;
  }

  plan(fields: readonly FieldDescription[], source: ResultSource, description?: Buffer): RowMasker | Promise<RowMasker> {
    const input = this.#input(source);
    // Lineage does not depend on constants: statements of one shape share a plan (the shape comes from the parser).
    const key = `${input.statementIndex}\u0001${stateKey(input.state)}\u0001${fieldsKey(fields)}\u0001${textKey(source.command.shape ?? input.text)}`;
    const cached = this.#plans.get(key);
    if (cached !== undefined) {
      const masker = this.#rowMasker(cached, fields, source);
      if (description !== undefined && !(masker instanceof Promise)) this.#remember(description, source, input, masker);
      return masker;
    }
    const attempt = (): Attempt<{ plans: FieldPlan[]; cacheable: boolean }> => {
      const missing = new Missing();
      const classifier = new Classifier(this.#classes, this.#catalog, missing);
      const stmt = this.#statement(input, classifier);
      const plans = planFields(fields, stmt, input.relations, classifier);
      return missing.empty ? { done: { plans, cacheable: stmt?.usesSession !== true } } : { missing };
    };
    const finish = (r: { plans: FieldPlan[]; cacheable: boolean }) => {
      if (r.cacheable) this.#plans.set(key, r.plans);
      const masker = this.#rowMasker(r.plans, fields, source);
      if (r.cacheable && description !== undefined && !(masker instanceof Promise)) this.#remember(description, source, input, masker);
      return masker;
    };
    try {
      const first = attempt();
      if ('done' in first) return finish(first.done);
      return this.#resolve(attempt, first.missing).then(finish);
    } catch (e) {
      // Whatever went wrong, the session must not stream rows it could not plan: it ends on a rejected plan.
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  planCopy(source: ResultSource, columnCount: number, binary: boolean): RowMasker | Promise<RowMasker> {
    const input = this.#input(source);
    let stmt: StatementLineage | undefined;
    const attempt = (): Attempt<FieldPlan[]> => {
      const missing = new Missing();
      const classifier = new Classifier(this.#classes, this.#catalog, missing);
      stmt = this.#statement(input, classifier);
      const plans = planCopyColumns(columnCount, stmt, input.relations, classifier);
      return missing.empty ? { done: plans } : { missing };
    };
    const finish = (plans: FieldPlan[]): RowMasker | Promise<RowMasker> => {
      const base = this.#base.planCopy(source, columnCount, binary);
      if (plans.length === 0) return base;
      const fmt = copyFormat(stmt?.copy?.options ?? new Map());
      if (binary || fmt.binary) throw new Error('binary COPY of classified columns cannot be masked');
      const build = (d: RowMasker) => new CopyMasker(fmt, plans, columnCount, d, this.#hashKey);
      return base instanceof Promise ? base.then(build) : build(base);
    };
    try {
      const first = attempt();
      if ('done' in first) return finish(first.done);
      return this.#resolve(attempt, first.missing).then(finish);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  forwarded(session: object, command: CommandContext, stateBefore: PgTrackedState): void {
    const store = this.#sessions.get(session) ?? emptyLineageSession;
    const notes: CommandNotes = { state: stateBefore, session: store };
    command.planning = notes;
    if (command.analysis.storedQueries !== true) return;
    const parsed = this.#parse(command.text);
    if (!Array.isArray(parsed)) return;
    this.#sessions.set(session, lineageOfStatements(parsed, stateBefore, { session: store }).session);
  }

  invalidate(): void {
    this.#catalog.invalidate();
    this.#plans.clear();
    this.#memo = new Map();
    this.#strictCache.clear();
    if (this.#strict) this.#warm();
  }

  close(): void {
    this.#catalog.close();
  }

  // ---- internals ---------------------------------------------------------------------------------------------

  #remember(description: Buffer, source: ResultSource, input: PlanInput, masker: RowMasker): void {
    const key = memoKey(source.command);
    if (key === undefined) return;
    if (this.#memo.size >= maxMemo) this.#memo.clear();
    // A copy: a view would keep the whole socket chunk alive.
    this.#memo.set(key, { description: Buffer.from(description), statementIndex: source.statementIndex, state: input.state, session: input.session, masker });
  }

  #input(source: ResultSource): PlanInput {
    const cmd = source.command;
    const rec = cmd.planning as CommandNotes | undefined;
    const relations: string[] = [];
    for (const p of cmd.analysis.parts) {
      if (p.statement === source.statementIndex && p.relation !== undefined && !relations.includes(p.relation)) relations.push(p.relation);
    }
    return {
      text: cmd.text,
      statementIndex: source.statementIndex,
      state: rec?.state ?? (cmd.analysis.stateAfter as PgTrackedState),
      session: rec?.session ?? emptyLineageSession,
      relations,
    };
  }

  #parse(text: string): unknown[] | { error: string } {
    let p = this.#parsed.get(text);
    if (p === undefined) {
      p = parseStatements(text);
      // A large statement's tree is large: kept only while small ones are (bounded memory).
      if (text.length <= maxCachedText) this.#parsed.set(text, p);
    }
    return p;
  }

  #statement(input: PlanInput, classifier: Classifier): StatementLineage | undefined {
    const parsed = this.#parse(input.text);
    if (!Array.isArray(parsed)) return undefined;
    const lin = lineageOfStatements(parsed, input.state, { catalog: classifier.lineageCatalog, session: input.session });
    return lin.statements[input.statementIndex];
  }

  /** Fetches what was missing and tries again, until the plan is complete (or fails closed). */
  async #resolve<T>(attempt: () => Attempt<T>, missing: Missing): Promise<T> {
    let m = missing;
    for (let round = 0; round < maxRounds; round++) {
      await this.#catalog.fetch(m);
      const r = attempt();
      if ('done' in r) return r.done;
      m = r.missing;
    }
    throw new Error(`masking catalog facts still missing after ${maxRounds} rounds: ${m.describe()}`);
  }

  #rowMasker(plans: readonly FieldPlan[], fields: readonly FieldDescription[], source: ResultSource): RowMasker | Promise<RowMasker> {
    const masked = new Set(plans.map((p) => p.index));
    // The backstop skips what column masking replaces: marked binary, it is not scanned.
    const baseFields = masked.size === 0 ? fields : fields.map((f, i) => (masked.has(i) ? { ...f, format: 1 as const } : f));
    const d = this.#base.plan(baseFields, source);
    if (plans.length === 0) return d;
    const build = (detectors: RowMasker) => new ColumnRowMasker(plans, fields.length, detectors, this.#hashKey);
    return d instanceof Promise ? d.then(build) : build(d);
  }

  #checkStrict(cmd: CommandContext, stateBefore: PgTrackedState | undefined): string | undefined {
    const state = stateBefore ?? (cmd.analysis.stateAfter as PgTrackedState);
    const key = `${stateKey(state)}\u0001${textKey(cmd.text)}`;
    const cached = this.#strictCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const parsed = this.#parse(cmd.text);
    if (!Array.isArray(parsed)) return undefined; // unparseable: the analyser denies it
    const r = checkStrict({ statements: parsed, state }, this.#classes, this.#catalog);
    if (r.violation !== undefined) {
      this.#strictCache.set(key, r.violation);
      return r.violation;
    }
    if (r.missing !== undefined) {
      this.#catalog.fetch(r.missing).catch(() => undefined);
      return `strict masking: portcullis is still reading the catalog (${r.missing.describe()}); retry the statement`;
    }
    this.#strictCache.set(key, null);
    return undefined;
  }

  /** Strict decisions are synchronous: have every relation described before the agent asks. */
  #warm(): void {
    this.#catalog.loadAll().catch(() => undefined);
  }
}

/** What the planner notes on each command as it is forwarded. */
interface CommandNotes {
  readonly state: PgTrackedState;
  readonly session: LineageSession;
}

interface PlanMemo {
  readonly description: Buffer;
  readonly statementIndex: number;
  readonly state: PgTrackedState;
  readonly session: LineageSession;
  readonly masker: RowMasker;
}

/** The memo's key for a command: its shape (shared by statements that differ only in constants) or text; none for
 * very long texts (not worth keeping). */
function memoKey(cmd: CommandContext): string | undefined {
  const key = cmd.shape ?? cmd.text;
  return key.length > maxCachedText ? undefined : key;
}

/** Statements whose last plan is remembered; beyond it the memo starts over (the plan cache still holds them). */
const maxMemo = 1024;

/** Texts longer than this are cached by digest, and their parse trees not at all. */
const maxCachedText = 16 * 1024;

function textKey(text: string): string {
  return text.length <= maxCachedText ? text : `#${createHash('sha256').update(text).digest('base64')}`;
}

function fieldsKey(fields: readonly FieldDescription[]): string {
  let k = '';
  for (const f of fields) k += `${f.tableOid}.${f.columnAttr}.${f.typeOid}.${f.format},`;
  return k;
}

/** Everything in the session state that changes how names in a statement resolve (memoised: states are immutable). */
const stateKeys = new WeakMap<PgTrackedState, string>();
function stateKey(s: PgTrackedState): string {
  let k = stateKeys.get(s);
  if (k === undefined) {
    k = JSON.stringify([s.searchPath, s.searchPathUnknown, s.user, s.currentRole, s.sessionAuthorization, s.tempRelations ? [...s.tempRelations] : 0]);
    stateKeys.set(s, k);
  }
  return k;
}

/** A small least-recently-used map. */
class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  constructor(max: number) {
    this.#max = max;
  }

  get(k: K): V | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }

  set(k: K, v: V): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K);
  }

  clear(): void {
    this.#map.clear();
  }
}
