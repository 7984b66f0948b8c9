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
  readonly startedAt: bigint;
  rows: number;
  bytes: number;
  masked: number;
  error?: string;
  /** Result sets seen so far (a simple Query may have several; each statement ends with CommandComplete). */
  statementIndex: number;
  /** The masker of the result set being streamed. */
  masker?: RowMasker;
  /** Internal queries of the sidecar (e.g. SHOW search_path): rows go here and never to the agent. */
  onRow?: (body: Buffer) => void;
  /** Internal queries: what to do when the server refuses them. */
  onError?: () => void;
}

export function newCommandContext(seq: number, text: string, analysis: PgAnalysis, shape?: string): CommandContext {
  return { seq, text, ...(shape !== undefined ? { shape } : {}), analysis, startedAt: process.hrtime.bigint(), rows: 0, bytes: 0, masked: 0, statementIndex: 0 };
}
