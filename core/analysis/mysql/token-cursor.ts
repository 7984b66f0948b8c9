// Reading the lexer's tokens for statements recognised by their keywords (see simple-statements.ts).
import { fail } from './failure.ts';
import type { Token } from './lexer.ts';

export interface QualifiedName {
  readonly db: string | undefined;
  readonly name: string;
}

export class TokenCursor {
  readonly tokens: readonly Token[];
  index: number;

  constructor(tokens: readonly Token[], index = 0) {
    this.tokens = tokens;
    this.index = index;
  }

  get current(): Token | undefined {
    return this.tokens[this.index];
  }

  get done(): boolean {
    return this.index >= this.tokens.length;
  }

  /** The current token is the keyword `word` (an unquoted word; backquoted names are never keywords). */
  isWord(word: string, offset = 0): boolean {
    const t = this.tokens[this.index + offset];
    return t !== undefined && t.kind === 'word' && t.upper === word;
  }

  isPunct(char: string, offset = 0): boolean {
    const t = this.tokens[this.index + offset];
    return t !== undefined && t.kind === 'punct' && t.value === char;
  }

  accept(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.index++;
    return true;
  }

  acceptPunct(char: string): boolean {
    if (!this.isPunct(char)) return false;
    this.index++;
    return true;
  }

  expect(word: string): void {
    if (!this.accept(word)) fail(`expected ${word}${this.describeCurrent()}`);
  }

  /** An identifier: an unquoted word or a backquoted name. */
  identifier(what: string): string {
    const t = this.current;
    if (t === undefined || (t.kind !== 'word' && t.kind !== 'ident')) fail(`expected ${what}${this.describeCurrent()}`);
    this.index++;
    return t.value;
  }

  /** `name` or `db.name`. */
  qualifiedName(what: string): QualifiedName {
    const first = this.identifier(what);
    if (!this.acceptPunct('.')) return { db: undefined, name: first };
    return { db: first, name: this.identifier(what) };
  }

  /** The statement ends here. */
  end(what: string): void {
    if (!this.done) fail(`unexpected ${this.describe(this.current)} in ${what}`);
  }

  describeCurrent(): string {
    return this.done ? ' at the end of the statement' : `, found ${this.describe(this.current)}`;
  }

  private describe(t: Token | undefined): string {
    if (t === undefined) return 'end of statement';
    return t.kind === 'string' ? 'a string' : `"${t.value}"`;
  }
}

/** Whether the tokens contain a function call (`name (`) or a query (SELECT anywhere, `(TABLE …`, `(VALUES …`). */
export function hasCallOrQuery(tokens: readonly Token[], from = 0): boolean {
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    if (t.kind === 'word' && t.upper === 'SELECT') return true;
    if (next === undefined) continue;
    if ((t.kind === 'word' || t.kind === 'ident') && next.kind === 'punct' && next.value === '(') return true;
    if (t.kind === 'punct' && t.value === '(' && next.kind === 'word' && queryStarts.has(next.upper)) return true;
  }
  return false;
}

const queryStarts: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'TABLE', 'VALUES']);

/** Whether every token is a word, backquoted name, string or comma (a statement without any expression syntax). */
export function onlyWordsAndStrings(tokens: readonly Token[], from = 0): boolean {
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'punct' && t.value !== ',') return false;
  }
  return true;
}
