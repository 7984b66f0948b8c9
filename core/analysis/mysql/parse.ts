// node-sql-parser's MySQL grammar, loaded once. Only normalised statement text from the lexer reaches it.
import mysqlGrammar from 'node-sql-parser/build/mysql.js';
import { fail } from './failure.ts';

/** A node of node-sql-parser's AST: an untyped JSON object, read defensively. */
export type AstNode = Readonly<Record<string, unknown>>;

export interface ParsedStatement {
  readonly asts: readonly AstNode[];
  /** The parser's own `{type}::{db}::{table}` list, used to cross-check the AST walk. */
  readonly tableList: readonly string[];
}

const parser = new mysqlGrammar.Parser();
const options = { database: 'mysql' };

export function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseStatement(text: string): ParsedStatement {
  let result: { ast: unknown; tableList: string[] };
  try {
    result = parser.parse(text, options);
  } catch (e) {
    if (e instanceof RangeError) fail('statement nested too deeply to parse');
    const message = e instanceof Error ? e.message : String(e);
    fail(`cannot parse statement: ${message.length > 160 ? `${message.slice(0, 160)}…` : message}`);
  }
  const list = Array.isArray(result.ast) ? result.ast : [result.ast];
  const asts: AstNode[] = [];
  for (const ast of list) {
    if (!isNode(ast)) fail('cannot parse statement: unexpected parser output');
    asts.push(ast);
  }
  return { asts, tableList: result.tableList };
}
