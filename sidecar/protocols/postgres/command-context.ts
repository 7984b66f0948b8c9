// One decided command on its way through the session: what was recorded before it was forwarded, and what its
// result adds (rows, bytes, masked values, error) when it completes.
import type { PgAnalysis } from '../../../core/analysis/postgres/types.ts';
import type { RowMasker } from './result-masking.ts';

export interface CommandContext {
  /** Sequence number of the recorded command event. */
  readonly seq: number;
  readonly text: string;
  /** The statement's shape (constants replaced by the parser's normalisation), when known: what is equal for
   * statements that differ only in constants, e.g. for caching masking plans. */
  readonly shape?: string;
  readonly analysis: PgAnalysis;
  /** performance.now() when it was forwarded (a double: no BigInt allocated per command). */
  readonly startedAt: number;
  rows: number;
  bytes: number;
  masked: number;
  error?: string;
  /** How long it ran, in whole microseconds, once it completed. */
  durationMicros: number;
  /** Result sets seen so far (a simple Query may have several; each statement ends with CommandComplete). */
  statementIndex: number;
  /** The masker of the result set being streamed. */
  masker?: RowMasker;
  /** Internal queries of the sidecar (e.g. SHOW search_path): rows go here and never to the agent. */
  onRow?: (body: Buffer) => void;
  /** Internal queries: what to do when the server refuses them. */
  onError?: () => void;
  /** The result planner's notes on this command (e.g. the state it was decided in), kept on the command itself
   * rather than in a side table keyed by it: one fewer map entry per command on the hot path. */
  planning: unknown;
}

export function newCommandContext(seq: number, text: string, analysis: PgAnalysis, shape?: string): CommandContext {
  // Every field present, always in this order: one object shape for every command keeps the hot path monomorphic.
  return {
    seq,
    text,
    shape,
    analysis,
    startedAt: performance.now(),
    rows: 0,
    bytes: 0,
    masked: 0,
    error: undefined,
    durationMicros: 0,
    statementIndex: 0,
    masker: undefined,
    onRow: undefined,
    onError: undefined,
    planning: undefined,
  };
}
