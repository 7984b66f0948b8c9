// The part of the session state a command can change, tracked statement by statement as PostgreSQL applies it:
// the search_path (with SET LOCAL, transaction-block and savepoint semantics), SQL-level prepared statements and the
// temporary relations this session may have.
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

/** A search_path: the schema list, or the reason it cannot be known (then unqualified names are unanalysable). */
export type SearchPathValue = readonly string[] | { readonly unknown: string };

interface Savepoint {
  readonly name: string;
  readonly current: SearchPathValue;
  readonly session: SearchPathValue;
}

/** What the tracker adds to PgSessionState; the caller passes stateAfter back unchanged as the next state. */
export interface PgTrackedFields {
  /** Set when the search_path cannot be known (e.g. set_config with a computed value); searchPath is then stale. */
  readonly searchPathUnknown?: string;
  /** The value RESET search_path / RESET ALL / DISCARD ALL return to. Default: the first state's searchPath. */
  readonly resetSearchPath?: readonly string[];
  /** Temporary relations the session may have (created earlier, not known to be dropped). */
  readonly tempRelations?: ReadonlySet<string>;
  /** Present while an explicit transaction block is open. */
  readonly transaction?: PgTransactionTracking;
}

export interface PgTransactionTracking {
  readonly startPath: SearchPathValue;
  readonly sessionPath: SearchPathValue;
  readonly savepoints: readonly Savepoint[];
}

export type PgTrackedState = PgSessionState & PgTrackedFields;

export class SessionTracker {
  current: SearchPathValue;
  private session: SearchPathValue;
  private readonly resetPath: readonly string[];
  private inBlock: boolean;
  private blockStart: SearchPathValue;
  private implicitStart: SearchPathValue;
  private savepoints: Savepoint[];
  private pathTouched = false;

  private preparedMap: ReadonlyMap<string, readonly SqlPart[]>;
  private preparedCopied = false;

  /** Temporary relations created by this command (certain while the command runs). */
  readonly createdTemp = new Set<string>();
  private maybeTemp: ReadonlySet<string>;
  private tempTouched = false;

  private readonly input: PgTrackedState;

  constructor(input: PgTrackedState) {
    this.input = input;
    this.current = input.searchPathUnknown !== undefined ? { unknown: input.searchPathUnknown } : input.searchPath;
    this.resetPath = input.resetSearchPath ?? input.searchPath;
    const txn = input.transaction;
    this.inBlock = txn !== undefined;
    this.session = txn?.sessionPath ?? this.current;
    this.blockStart = txn?.startPath ?? this.current;
    this.implicitStart = this.current;
    this.savepoints = txn ? [...txn.savepoints] : [];
    this.preparedMap = input.prepared;
    this.maybeTemp = input.tempRelations ?? emptySet;
  }

  // ---- search_path -------------------------------------------------------------------------------------------

  setPath(value: SearchPathValue, local: boolean): void {
    this.pathTouched = true;
    this.current = value;
    if (!local) this.session = value;
  }

  resetSearchPath(local: boolean): void {
    this.setPath(this.resetPath, local);
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
        this.savepoints.push({ name: savepointName ?? '', current: this.current, session: this.session });
        this.pathTouched = true;
        return;
      case 'TRANS_STMT_RELEASE': {
        const at = this.findSavepoint(savepointName);
        if (at >= 0) this.savepoints.length = at;
        this.pathTouched = true;
        return;
      }
      case 'TRANS_STMT_ROLLBACK_TO': {
        const at = this.findSavepoint(savepointName);
        const sp = this.savepoints[at];
        if (sp) {
          this.current = sp.current;
          this.session = sp.session;
          this.savepoints.length = at + 1;
        }
        this.pathTouched = true;
        this.uncertainTemp();
        return;
      }
      default:
        return; // COMMIT PREPARED / ROLLBACK PREPARED act on another transaction
    }
  }

  private endTransaction(value: SearchPathValue, chain: boolean, rollback: boolean): void {
    this.pathTouched = true;
    this.current = value;
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
    if (!this.inBlock) this.current = this.session;
    const changed = this.pathTouched || this.preparedCopied || this.tempTouched || this.inBlock !== (this.input.transaction !== undefined);
    if (!changed && this.input.resetSearchPath !== undefined) return this.input;
    const temp =
      this.createdTemp.size === 0 ? this.maybeTemp : new Set([...this.maybeTemp, ...this.createdTemp]);
    const known = Array.isArray(this.current);
    const out: PgTrackedState = {
      ...this.input,
      searchPath: known ? (this.current as readonly string[]) : this.input.searchPath,
      searchPathUnknown: known ? undefined : (this.current as { unknown: string }).unknown,
      resetSearchPath: this.resetPath,
      prepared: this.preparedMap,
      tempRelations: temp.size > 0 ? temp : undefined,
      transaction: this.inBlock
        ? { startPath: this.blockStart, sessionPath: this.session, savepoints: this.savepoints }
        : undefined,
    };
    return out;
  }
}

const emptySet: ReadonlySet<string> = new Set();
