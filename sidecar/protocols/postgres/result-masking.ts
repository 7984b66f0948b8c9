// The seam between the PostgreSQL session and masking: for every result set (RowDescription) the session asks the
// planner for a RowMasker, then hands it each DataRow. A planner that needs the catalog may answer asynchronously;
// the session then holds the server's stream (never the rows in memory) until the plan is ready.
import type { FieldDescription } from './codec/index.ts';
import type { CommandContext } from './command-context.ts';
import type { PgTrackedState } from '../../../core/analysis/postgres/session-tracker.ts';

export interface ResultSource {
  readonly command: CommandContext;
  /** Which statement of the command produced the result set (0-based). */
  readonly statementIndex: number;
}

export interface RowMasker {
  /** false: no column of this result set can need masking — rows are forwarded untouched. */
  readonly active: boolean;
  /**
   * The DataRow `buffer[bodyStart, end)`: returns a rewritten DataRow message, or undefined to forward the original.
   * Sets `lastMasked` to the number of values masked in this row.
   */
  maskRow(buffer: Buffer, bodyStart: number, end: number): Buffer | undefined;
  lastMasked: number;
  /** COPY … TO STDOUT data (one CopyData message, text format): the rewritten data or undefined. */
  maskCopyData?(data: Buffer): Buffer | undefined;
}

export interface ResultPlanner {
  /** false: this resource masks nothing, so the session never needs row descriptions. */
  readonly needed: boolean;
  /** `description`: the RowDescription body the fields came from, so a planner may remember the plan by its bytes. */
  plan(fields: readonly FieldDescription[], source: ResultSource, description?: Buffer): RowMasker | Promise<RowMasker>;
  /** A masker planned before for this statement and exactly this RowDescription body (the session then skips
   * parsing it), or undefined. */
  planned?(description: Buffer, source: ResultSource): RowMasker | undefined;
  /** For COPY … TO STDOUT, which has no RowDescription. */
  planCopy(source: ResultSource, columnCount: number, binary: boolean): RowMasker | Promise<RowMasker>;
  /** A statement that may have changed the schema ran: forget cached catalog facts. */
  invalidate(): void;
  /** Strict classifications: a reason to deny when the statement filters, groups, orders or joins on one.
   * `stateBefore` is the session state the command was analysed in. */
  strictViolation?(source: { readonly command: CommandContext; readonly stateBefore?: PgTrackedState }): string | undefined;
  /** Called for every command just before it is forwarded, with the state it was analysed in: lets the planner
   * follow statements and cursors across commands (EXECUTE, FETCH) for lineage. */
  forwarded?(session: object, command: CommandContext, stateBefore: PgTrackedState): void;
  close?(): void;
}

export const passThrough: RowMasker = {
  active: false,
  lastMasked: 0,
  maskRow: () => undefined,
};

export const noMasking: ResultPlanner = {
  needed: false,
  plan: () => passThrough,
  planCopy: () => passThrough,
  invalidate: () => undefined,
};
