// SET: which form it is, and whether it changes how the server reads the bytes of later statements.
// The proxy must read every statement the way the server does. The character set of the connection and the sql_mode
// (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) change how strings, quotes and identifiers are read, so any change of them is
// refused — simpler and safer than following each change.
import { fail, forbid } from './failure.ts';
import type { Token } from './lexer.ts';
import { TokenCursor } from './token-cursor.ts';

/** Lower-cased system variables that change how statement bytes are read (collation_connection sets the charset). */
const readingVariables: ReadonlySet<string> = new Set([
  'sql_mode',
  'character_set_client',
  'character_set_connection',
  'character_set_results',
  'collation_connection',
]);

const scopes: ReadonlySet<string> = new Set(['GLOBAL', 'SESSION', 'LOCAL', 'PERSIST', 'PERSIST_ONLY']);

export type SetForm =
  /** SET ROLE …, SET DEFAULT ROLE … */
  | 'set_role'
  /** SET PASSWORD [FOR user] = … */
  | 'alter_role'
  /** SET [GLOBAL|SESSION] TRANSACTION … (no expressions: decided on the tokens) */
  | 'set_transaction'
  /** Variable assignments: parse them (the values may call functions or hold sub-queries). */
  | 'assignments';

/** Classifies a SET statement (tokens[0] is SET); refuses charset and sql_mode changes. */
export function classifySet(tokens: readonly Token[]): SetForm {
  const c = new TokenCursor(tokens, 1);
  if (c.isWord('ROLE') || (c.isWord('DEFAULT') && c.isWord('ROLE', 1))) return 'set_role';
  if (c.isWord('PASSWORD')) return 'alter_role';
  if (c.isWord('TRANSACTION') || (c.current?.kind === 'word' && scopes.has(c.current.upper) && c.isWord('TRANSACTION', 1))) {
    return 'set_transaction';
  }
  if (c.isWord('STATEMENT')) fail('SET STATEMENT … FOR … is not supported');
  if (c.isWord('RESOURCE')) fail('SET RESOURCE GROUP is not supported');
  checkAssignmentTargets(tokens);
  return 'assignments';
}

/** Looks at the target of every assignment: after SET and after each comma outside parentheses. */
function checkAssignmentTargets(tokens: readonly Token[]): void {
  let depth = 0;
  let atTarget = true;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (atTarget) {
      atTarget = false;
      i = checkTarget(tokens, i);
      continue;
    }
    if (t.kind !== 'punct') continue;
    if (t.value === '(') depth++;
    else if (t.value === ')') depth--;
    else if (t.value === ',' && depth === 0) atTarget = true;
  }
}

/** Checks one assignment target starting at `i`; returns the index of its last token. */
function checkTarget(tokens: readonly Token[], i: number): number {
  const c = new TokenCursor(tokens, i);
  if (c.isPunct('@') && !c.isPunct('@', 1)) return i + 1; // a user variable: @name or @'name'
  if (c.isPunct('@') && c.isPunct('@', 1)) {
    c.index += 2;
    // @@name, @@scope.name
    if (c.current?.kind === 'word' && scopes.has(c.current.upper) && c.isPunct('.', 1)) c.index += 2;
  } else if (c.current?.kind === 'word' && scopes.has(c.current.upper)) {
    c.index++;
  }
  const t = c.current;
  if (t === undefined) fail('SET without a variable');
  if (t.kind === 'word' && (t.upper === 'NAMES' || t.upper === 'CHARSET' || ((t.upper === 'CHARACTER' || t.upper === 'CHAR') && c.isWord('SET', 1)))) {
    forbid('SET NAMES / SET CHARACTER SET changes how the server reads statements');
  }
  if ((t.kind === 'word' || t.kind === 'ident') && readingVariables.has(t.value.toLowerCase())) {
    forbid(`SET ${t.value.toLowerCase()} changes how the server reads statements`);
  }
  return c.index;
}
