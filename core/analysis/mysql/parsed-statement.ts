// Statements analysed through node-sql-parser's AST, cross-checked against the parser's own table list.
import { fail } from './failure.ts';
import { AstWalker } from './ast-walk.ts';
import { parseStatement } from './parse.ts';
import type { Session } from './session.ts';
import { relationName, type StatementParts } from './statement-parts.ts';

export function parsedStatement(text: string, session: Session, parts: StatementParts): void {
  const parsed = parseStatement(text);
  const walker = new AstWalker(parts, session.database, session.maxDepth);
  for (const ast of parsed.asts) walker.topLevel(ast);
  crossCheck(parsed.tableList, parts, walker.cteNames, session.database);
}

/**
 * Every table the parser itself lists must have been placed in a part by the AST walk: a table the walk missed
 * (an AST shape it does not know) fails the command instead of going unchecked.
 */
function crossCheck(tableList: readonly string[], parts: StatementParts, cteNames: ReadonlySet<string>, database: string | undefined): void {
  if (tableList.length === 0) return;
  const known = parts.relations();
  for (const entry of tableList) {
    const fields = entry.split('::');
    if (fields.length !== 3) fail(`unexpected table name ${entry}`);
    const db = fields[1] === 'null' ? undefined : fields[1];
    const table = fields[2] as string;
    if (table === 'null') continue;
    if (db === undefined && cteNames.has(table)) continue;
    const relation = relationName(db, table, database);
    if (!known.includes(relation)) fail(`table ${relation} is used in a way the analyser does not understand`);
  }
}
