// The contract of the MySQL analyser: SQL text + session state in, parts + the state after the command out.
import type { Command, SqlPart } from '../command.ts';

export interface MysqlSessionState {
  /**
   * The session's default database (handshake, COM_INIT_DB, USE). Unqualified table names resolve to it; with none,
   * a statement naming an unqualified table is unanalysable (MySQL itself fails it: "No database selected").
   */
  readonly database?: string;
  /** SQL-level prepared statements of this session: lower-cased name → the parts they were prepared with. */
  readonly prepared?: ReadonlyMap<string, readonly SqlPart[]>;
}

export interface MysqlAnalysisLimits {
  /** Commands longer than this many bytes (UTF-8) are denied without parsing. Default 1 MiB. */
  readonly maxBytes: number;
  /** Parentheses and statements nested deeper than this are denied. Default 200. */
  readonly maxDepth: number;
}

export interface MysqlAnalysis extends Command {
  /** Number of top-level statements in the text (empty statements between `;` not counted). */
  readonly statementCount: number;
  /**
   * The default database after the command, USE applied in order. Apply it only once the server has acknowledged
   * every statement: a USE that fails leaves the server's database unchanged.
   */
  readonly databaseAfter?: string;
  /** The prepared statements after the command (PREPARE, DEALLOCATE applied in order); the input map if unchanged. */
  readonly preparedAfter: ReadonlyMap<string, readonly SqlPart[]>;
}

export const defaultMysqlLimits: MysqlAnalysisLimits = { maxBytes: 1 << 20, maxDepth: 200 };
