// The part of the session state a command can change, tracked statement by statement as PostgreSQL applies it:
// the search_path and the role settings that decide "$user" (with SET LOCAL, transaction-block and savepoint
// semantics), SQL-level prepared statements and the temporary relations this session may have.
//
// PostgreSQL's rules followed here (guc.c, xact.c):
// - SET lasts for the session, SET LOCAL until the end of the current transaction; COMMIT keeps SET values and drops
//   SET LOCAL ones; ROLLBACK (and ROLLBACK TO SAVEPOINT) restores the value from the start of the transaction
//   (savepoint). A multi-statement simple query is one implicit transaction, so a SET LOCAL in it lasts until the
//   end of the string, and a ROLLBACK in it also undoes the SETs before it.
// - RESET / SET … TO DEFAULT / RESET ALL / DISCARD ALL return to the session's reset value (the value the session
//   started with), which is the path of the first state the tracker saw unless the caller says otherwise.
// The tracker assumes every statement succeeds; see analyse.ts for what the caller does when one fails.
import type { SqlPart } from '../command.ts';
import type { PgSessionState } from './types.ts';

/**
 * A search_path: the schema list; or several lists when the analyser cannot tell which one is in effect (a
 * set_config that may or may not have run: names resolve under each, the stricter rule decides); or the reason it
 * cannot be known at all (then unqualified names are unanalysable).
 */
export type SearchPathValue =
  | readonly string[]
  | { readonly either: ReadonlyArray<readonly string[]> }
  | { readonly unknown: string };

/** The candidate paths of a value, or the reason it is unknown. */
export function pathCandidates(v: SearchPathValue): ReadonlyArray<readonly string[]> | string {
  if (Array.isArray(v)) return [v as readonly string[]];
  const o = v as { readonly either?: ReadonlyArray<readonly string[]>; readonly unknown?: string };
  return o.either ?? o.unknown ?? 'unknown search_path';
}

/** A role setting: null when not set (the session user applies), or the reason it cannot be known. */
export type RoleValue = string | null | { readonly unknown: string };

/**
 * The settings that change how names resolve, tracked together because they share PostgreSQL's transactional GUC
 * semantics: the search_path, SET ROLE and SET SESSION AUTHORIZATION (the last two decide what "$user" means).
 */
export interface SessionSettings {
  readonly path: SearchPathValue;
  readonly role: RoleValue;
  readonly auth: RoleValue;
}

interface Savepoint {
  readonly name: string;
  readonly current: SessionSettings;
  readonly session: SessionSettings;
}

/** What the tracker adds to PgSessionState; the caller passes stateAfter back unchanged as the next state. */
export interface PgTrackedFields {
  /** Set when the search_path cannot be known (e.g. set_config with a computed value); searchPath is then stale. */
  readonly searchPathUnknown?: string;
  /** The value RESET search_path / RESET ALL / DISCARD ALL return to. Default: the first state's searchPath. */
  readonly resetSearchPath?: readonly string[];
  /** SET ROLE in effect (current_user, and so "$user"); absent or null: none. */
  readonly currentRole?: RoleValue;
  /** SET SESSION AUTHORIZATION in effect; absent or null: the login user (`user`). */
  readonly sessionAuthorization?: RoleValue;
  /** Temporary relations the session may have (created earlier, not known to be dropped). */
  readonly tempRelations?: ReadonlySet<string>;
  /** Present while an explicit transaction block is open. */
  readonly transaction?: PgTransactionTracking;
}

export interface PgTransactionTracking {
  /** The settings when the transaction started (what ROLLBACK returns to). */
  readonly start: SessionSettings;
  /** The settings COMMIT keeps (SET values, not SET LOCAL ones). */
  readonly session: SessionSettings;
  readonly savepoints: readonly Savepoint[];
}

export type PgTrackedState = PgSessionState & PgTrackedFields;

type SettingName = keyof SessionSettings;

export class SessionTracker {
  private settings: SessionSettings;
  private session: SessionSettings;
  private readonly resetPath: readonly string[];
  private inBlock: boolean;
  private blockStart: SessionSettings;
  private implicitStart: SessionSettings;
  private savepoints: Savepoint[];
  private settingsTouched = false;

  private preparedMap: ReadonlyMap<string, readonly SqlPart[]>;
  private preparedCopied = false;

  /** Temporary relations created by this command (certain while the command runs). */
  readonly createdTemp = new Set<string>();
  private maybeTemp: ReadonlySet<string>;
  private tempTouched = false;

  private readonly input: PgTrackedState;

  constructor(input: PgTrackedState) {
    this.input = input;
    this.settings = {
      path: input.searchPathUnknown !== undefined ? { unknown: input.searchPathUnknown } : input.searchPath,
      role: input.currentRole ?? null,
      auth: input.sessionAuthorization ?? null,
    };
    this.resetPath = input.resetSearchPath ?? input.searchPath;
    const txn = input.transaction;
    this.inBlock = txn !== undefined;
    this.session = txn?.session ?? this.settings;
    this.blockStart = txn?.start ?? this.settings;
    this.implicitStart = this.settings;
    this.savepoints = txn ? [...txn.savepoints] : [];
    this.preparedMap = input.prepared;
    this.maybeTemp = input.tempRelations ?? emptySet;
  }

  // ---- settings ----------------------------------------------------------------------------------------------

  get path(): SearchPathValue {
    return this.settings.path;
  }

  /** The current search_path (same as `path`; kept for callers written against the first version). */
  get current(): SearchPathValue {
    return this.settings.path;
  }

  /** The user "$user" stands for: SET ROLE, else SET SESSION AUTHORIZATION, else the login user. */
  effectiveUser(): string | { readonly unknown: string } | undefined {
    const { role, auth } = this.settings;
    if (role !== null) return role;
    if (auth !== null) return auth;
    return this.input.user;
  }

  set<K extends SettingName>(name: K, value: SessionSettings[K], local: boolean): void {
    this.settingsTouched = true;
    this.settings = { ...this.settings, [name]: value };
    if (!local) this.session = { ...this.session, [name]: value };
  }

  setPath(value: SearchPathValue, local: boolean): void {
    this.set('path', value, local);
  }

  resetSearchPath(local: boolean): void {
    this.set('path', this.resetPath, local);
  }

  /** RESET ALL: the search_path back to its session start value (role and session_authorization are NO_RESET_ALL). */
  resetAll(): void {
    this.set('path', this.resetPath, false);
  }

  /** DISCARD ALL = SET SESSION AUTHORIZATION DEFAULT + RESET ALL (+ the rest, applied by the caller). */
  discardAll(): void {
    this.resetAll();
    this.set('role', null, false);
    this.set('auth', null, false);
  }

  // ---- transactions ------------------------------------------------------------------------------------------

  transaction(kind: string, savepointName: string | undefined, chain: boolean): void {
    switch (kind) {
      case 'TRANS_STMT_BEGIN':
      case 'TRANS_STMT_START':
        if (!this.inBlock) {
          this.inBlock = true;
          // The block continues the implicit transaction this command started: a ROLLBACK undoes both.
          this.blockStart = this.implicitStart;
        }
        return;
      case 'TRANS_STMT_COMMIT':
      case 'TRANS_STMT_PREPARE':
        this.endTransaction(this.session, chain, false);
        return;
      case 'TRANS_STMT_ROLLBACK':
        this.endTransaction(this.inBlock ? this.blockStart : this.implicitStart, chain, true);
        return;
      case 'TRANS_STMT_SAVEPOINT':
        this.savepoints.push({ name: savepointName ?? '', current: this.settings, session: this.session });
        this.settingsTouched = true;
        return;
      case 'TRANS_STMT_RELEASE': {
        const at = this.findSavepoint(savepointName);
        if (at >= 0) this.savepoints.length = at;
        this.settingsTouched = true;
        return;
      }
      case 'TRANS_STMT_ROLLBACK_TO': {
        const at = this.findSavepoint(savepointName);
        const sp = this.savepoints[at];
        if (sp) {
          this.settings = sp.current;
          this.session = sp.session;
          this.savepoints.length = at + 1;
        }
        this.settingsTouched = true;
        this.uncertainTemp();
        return;
      }
      default:
        return; // COMMIT PREPARED / ROLLBACK PREPARED act on another transaction
    }
  }

  private endTransaction(value: SessionSettings, chain: boolean, rollback: boolean): void {
    this.settingsTouched = true;
    this.settings = value;
    this.session = value;
    this.savepoints = [];
    this.inBlock = chain && this.inBlock;
    this.blockStart = value;
    this.implicitStart = value;
    if (rollback) this.uncertainTemp();
  }

  private findSavepoint(name: string | undefined): number {
    for (let i = this.savepoints.length - 1; i >= 0; i--) if (this.savepoints[i]?.name === name) return i;
    return -1;
  }

  // ---- prepared statements -----------------------------------------------------------------------------------

  prepared(name: string): readonly SqlPart[] | undefined {
    return this.preparedMap.get(name);
  }

  prepare(name: string, parts: readonly SqlPart[]): void {
    this.writablePrepared().set(name, parts);
  }

  deallocate(name: string | undefined): void {
    if (name === undefined) {
      if (this.preparedMap.size > 0) {
        this.preparedMap = new Map();
        this.preparedCopied = true;
      }
      return;
    }
    if (this.preparedMap.has(name)) this.writablePrepared().delete(name);
  }

  private writablePrepared(): Map<string, readonly SqlPart[]> {
    if (!this.preparedCopied) {
      this.preparedMap = new Map(this.preparedMap);
      this.preparedCopied = true;
    }
    return this.preparedMap as Map<string, readonly SqlPart[]>;
  }

  // ---- temporary relations -----------------------------------------------------------------------------------

  /** Whether `name` certainly (created in this command) or possibly (earlier) is a temporary relation. */
  tempStatus(name: string): 'certain' | 'possible' | undefined {
    if (this.createdTemp.has(name)) return 'certain';
    return this.maybeTemp.has(name) ? 'possible' : undefined;
  }

  createdTempRelation(name: string): void {
    this.createdTemp.add(name);
    this.tempTouched = true;
  }

  droppedTempRelation(name: string): void {
    this.createdTemp.delete(name);
    if (this.maybeTemp.has(name)) {
      const next = new Set(this.maybeTemp);
      next.delete(name);
      this.maybeTemp = next;
    }
    this.tempTouched = true;
  }

  discardTemp(): void {
    this.createdTemp.clear();
    this.maybeTemp = emptySet;
    this.tempTouched = true;
  }

  /** After a rollback, relations created in this command may be gone again: they become "possible". */
  private uncertainTemp(): void {
    if (this.createdTemp.size === 0) return;
    this.maybeTemp = new Set([...this.maybeTemp, ...this.createdTemp]);
    this.createdTemp.clear();
    this.tempTouched = true;
  }

  // ---- end of command ----------------------------------------------------------------------------------------

  /** The state after the command, sharing the input's objects wherever nothing changed. */
  finish(): PgTrackedState {
    // Outside a transaction block the command's implicit transaction ends here: SET LOCAL values lapse.
    if (!this.inBlock) this.settings = this.session;
    const changed =
      this.settingsTouched || this.preparedCopied || this.tempTouched || this.inBlock !== (this.input.transaction !== undefined);
    if (!changed && this.input.resetSearchPath !== undefined) return this.input;
    const temp = this.createdTemp.size === 0 ? this.maybeTemp : new Set([...this.maybeTemp, ...this.createdTemp]);
    const candidates = pathCandidates(this.settings.path);
    // Several candidate paths cannot be carried into the next command: the caller re-reads the path (the command
    // has a `set` part) or the next command fails closed on unqualified names.
    const single = typeof candidates !== 'string' && candidates.length === 1 ? candidates[0] : undefined;
    const unknown =
      single !== undefined
        ? undefined
        : typeof candidates === 'string'
          ? candidates
          : 'set_config may or may not have changed the search_path';
    const out: PgTrackedState = {
      ...this.input,
      searchPath: single ?? this.input.searchPath,
      searchPathUnknown: unknown,
      resetSearchPath: this.resetPath,
      currentRole: this.settings.role,
      sessionAuthorization: this.settings.auth,
      prepared: this.preparedMap,
      tempRelations: temp.size > 0 ? temp : undefined,
      transaction: this.inBlock ? { start: this.blockStart, session: this.session, savepoints: this.savepoints } : undefined,
    };
    return out;
  }
}

const emptySet: ReadonlySet<string> = new Set();
