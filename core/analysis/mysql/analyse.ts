// MySQL statement analysis: SQL text + session state → the command's parts (see the API contract, "Matching").
//
// Decisions (README.md in this directory has the full list):
//  - Relations are `db.table`; unqualified tables resolve to the session's default database (tracked through USE
//    within the command). With no default database the command is unanalysable, as MySQL fails it too.
//  - Table and database names keep their case (a Linux server's lower_case_table_names=0); function names are
//    case-insensitive in MySQL and are lower-cased.
//  - Executable comments (/*!…*/, /*M!…*/), optimizer hints (/*+…*/), SET NAMES / CHARACTER SET and any change of
//    sql_mode or of the connection's character set are forbidden: the proxy must read bytes as the server does.
//  - Whatever node-sql-parser cannot parse, and whatever this analyser does not know, is an error (denied).
import type { SqlPart } from '../command.ts';
import { AnalysisFailure } from './failure.ts';
import { lexMysql } from './lexer.ts';
import { Session } from './session.ts';
import { analyseStatement } from './statement.ts';
import { defaultMysqlLimits, type MysqlAnalysis, type MysqlAnalysisLimits, type MysqlSessionState } from './types.ts';

export type { MysqlAnalysis, MysqlAnalysisLimits, MysqlSessionState } from './types.ts';
export { defaultMysqlLimits } from './types.ts';

const noPrepared: ReadonlyMap<string, readonly SqlPart[]> = new Map();

export function analyseMysql(sql: string, state: MysqlSessionState = {}, limits: MysqlAnalysisLimits = defaultMysqlLimits): MysqlAnalysis {
  const prepared = state.prepared ?? noPrepared;
  let statementCount = 0;
  const denied = (reason: { error: string } | { forbidden: string }): MysqlAnalysis => {
    const result = { parts: [], ...reason, statementCount, preparedAfter: prepared };
    return state.database === undefined ? result : { ...result, databaseAfter: state.database };
  };

  // Each UTF-16 unit is at least one UTF-8 byte and at most three: measure only when it could matter.
  if (sql.length > limits.maxBytes || (sql.length * 3 > limits.maxBytes && Buffer.byteLength(sql, 'utf8') > limits.maxBytes)) {
    return denied({ error: `statement larger than ${limits.maxBytes} bytes` });
  }
  const lexed = lexMysql(sql, limits.maxDepth);
  if (!lexed.ok) return denied(lexed.forbidden !== undefined ? { forbidden: lexed.forbidden } : { error: lexed.error ?? 'cannot read the statement' });
  statementCount = lexed.statements.length;
  if (statementCount === 0) return denied({ error: 'empty query' });

  const session = new Session(state.database, prepared, limits.maxDepth);
  const parts: SqlPart[] = [];
  let index = 0;
  try {
    for (; index < statementCount; index++) {
      const statementParts = analyseStatement(lexed.statements[index]!, session, 0);
      for (const part of statementParts.toParts(index)) parts.push(part);
    }
  } catch (e) {
    const where = statementCount > 1 ? `statement ${index + 1}: ` : '';
    if (e instanceof AnalysisFailure) return denied(e.forbidden ? { forbidden: where + e.message } : { error: where + e.message });
    if (e instanceof RangeError) return denied({ error: `${where}statement nested too deeply` });
    throw e;
  }
  const result = { parts, statementCount, preparedAfter: session.prepared };
  return session.database === undefined ? result : { ...result, databaseAfter: session.database };
}
