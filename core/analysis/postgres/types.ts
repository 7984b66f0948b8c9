// The contract of the PostgreSQL analyser: SQL text + session state in, parts + the state after the command out.
import type { Command, SqlPart } from '../command.ts';

export interface PgSessionState {
  /** Schemas in search order as PostgreSQL sees them, e.g. ['$user', 'public']. */
  readonly searchPath: readonly string[];
  /** The session user (for "$user" in the search_path); unknown offline. */
  readonly user?: string;
  /** SQL-level prepared statements of this session: name → the parts they were prepared with. */
  readonly prepared: ReadonlyMap<string, readonly SqlPart[]>;
  /**
   * Optional catalog lookup: the schema of the first schema in `schemas` holding relation `name`, or undefined when
   * unknown. Offline (explain) there is none and an unqualified name resolves to the first explicit schema of the path.
   */
  readonly lookupRelation?: (schemas: readonly string[], name: string) => string | undefined;
}

export interface PgAnalysisLimits {
  /** Statements longer than this many bytes are denied without parsing. Default 1 MiB. */
  readonly maxBytes: number;
  /** Parse trees nested deeper than this are denied. Default 200. */
  readonly maxDepth: number;
}

export interface PgAnalysis extends Command {
  readonly parts: readonly SqlPart[];
  /** Number of top-level statements in the text. */
  readonly statementCount: number;
  /** The session state after the command ran (SET search_path, PREPARE, DEALLOCATE applied in order). */
  readonly stateAfter: PgSessionState;
  /** Set when a top-level statement prepares, deallocates or discards statements, or declares or closes cursors:
   * what a later EXECUTE or FETCH of the session runs changes (result lineage follows it). */
  readonly storedQueries?: true;
}

export const defaultPgLimits: PgAnalysisLimits = { maxBytes: 1 << 20, maxDepth: 200 };
export const offlineSearchPath: readonly string[] = ['$user', 'public'];
