// Token-level rewrites that let node-sql-parser read MySQL syntax its grammar lacks. Each one replaces keywords that
// name no relation and call no function with keywords that read the same for this analysis, so the parts found in
// the rewritten text are the parts of the original.
import type { LexedStatement, Token } from './lexer.ts';

interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Modifiers between the verb and the table that the parser does not know (UPDATE LOW_PRIORITY IGNORE t …). */
const writeModifiers: Readonly<Record<string, ReadonlySet<string>>> = {
  UPDATE: new Set(['LOW_PRIORITY', 'IGNORE']),
  DELETE: new Set(['LOW_PRIORITY', 'QUICK', 'IGNORE']),
};

function isPunct(t: Token | undefined, ...chars: string[]): boolean {
  return t !== undefined && t.kind === 'punct' && chars.includes(t.value);
}

function isWord(t: Token | undefined, word: string): boolean {
  return t !== undefined && t.kind === 'word' && t.upper === word;
}

/**
 * The statement's text for the parser:
 *  - DEFAULT as a value (VALUES (1, DEFAULT), SET a = DEFAULT) → NULL; not DEFAULT(col), which is a function;
 *  - in SET, ON as a whole value (SET autocommit = ON) → 1;
 *  - UPDATE [LOW_PRIORITY] [IGNORE], DELETE [LOW_PRIORITY] [QUICK] [IGNORE] → UPDATE, DELETE;
 *  - the locking clause FOR SHARE → FOR UPDATE (both are reads for this analysis).
 */
export function parserText(st: LexedStatement, inSet = false): string {
  const tokens = st.tokens;
  const replacements: Replacement[] = [];
  const verb = tokens[0] as Token;
  const modifiers = verb.kind === 'word' ? writeModifiers[verb.upper] : undefined;
  let i = 1;
  if (modifiers !== undefined) {
    while (i < tokens.length && tokens[i]?.kind === 'word' && modifiers.has((tokens[i] as Token).upper)) {
      const t = tokens[i] as Token;
      replacements.push({ start: t.start, end: t.end, text: '' });
      i++;
    }
  }
  for (; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== 'word') continue;
    const before = tokens[i - 1];
    const after = tokens[i + 1];
    if (t.upper === 'DEFAULT' && isPunct(before, '(', ',', '=') && !isPunct(after, '(')) {
      replacements.push({ start: t.start, end: t.end, text: 'NULL' });
    } else if (inSet && t.upper === 'ON' && isPunct(before, '=') && (after === undefined || isPunct(after, ','))) {
      replacements.push({ start: t.start, end: t.end, text: '1' });
    } else if (t.upper === 'SHARE' && isWord(before, 'FOR')) {
      replacements.push({ start: t.start, end: t.end, text: 'UPDATE' });
    }
  }
  if (replacements.length === 0) return st.text;
  let out = '';
  let from = 0;
  for (const r of replacements) {
    out += st.text.slice(from, r.start) + r.text;
    from = r.end;
  }
  return out + st.text.slice(from);
}
