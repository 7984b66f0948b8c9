// A small MySQL lexer that reads statement text the way the MySQL server does (sql_lex.cc, default sql_mode):
//  - '…' and "…" are strings with backslash escapes and doubled-quote escapes; `…` is an identifier (`` doubles);
//  - `#` and `-- ` (two dashes then a space or control character, or the end) comment to the end of the line;
//    `--x` is NOT a comment (it is minus minus x); `/* … */` comments do not nest and must be closed;
//  - `/*!…*/`, `/*!50000…*/` (executed by the server), `/*M!…*/` (executed by MariaDB) and `/*+…*/` (optimizer
//    hints) are refused: the server runs or interprets what a comment-skipping parser would ignore.
//  - `;` outside strings and comments ends a statement.
//
// It is the single authority on where strings, comments and statements begin and end. The SQL parser
// (node-sql-parser) only ever sees the normalised text produced here: comments blanked, `--` that is not a comment
// spaced out (the parser would read it as a comment), and every string another lexer could read differently
// (backslashes, quotes, control characters inside) replaced by a placeholder. So the parser cannot disagree with the
// server about what is code and what is data.

export type TokenKind = 'word' | 'ident' | 'string' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** word: as written; ident: the backquoted name; string: the decoded value; punct: the character. */
  readonly value: string;
  /** Upper-cased value of a word (keyword comparisons); the value otherwise. */
  readonly upper: string;
  /** Offsets of the token in the statement's normalised text. */
  readonly start: number;
  readonly end: number;
}

export interface LexedStatement {
  /** The statement as the parser reads it (see the file comment). Offsets of `tokens` refer to it. */
  readonly text: string;
  readonly tokens: readonly Token[];
  /** Decoded values of the placeholder strings, by placeholder text (`'__portcullis_string_3__'` without quotes). */
  readonly placeholders: ReadonlyMap<string, string>;
}

export type LexResult =
  | { readonly ok: true; readonly statements: readonly LexedStatement[] }
  | { readonly ok: false; readonly error?: string; readonly forbidden?: string };

/** Placeholders start with this; input that contains it is refused so a placeholder can never be forged. */
export const placeholderPrefix = '__portcullis_string_';

const CH_TAB = 9;
const CH_LF = 10;
const CH_VT = 11;
const CH_FF = 12;
const CH_CR = 13;
const CH_SPACE = 32;

function isWordChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 95 || // _
    c === 36 || // $
    c >= 0x80 // MySQL reads every multi-byte character as an identifier character
  );
}

/** MySQL's my_isspace / my_iscntrl for the byte after `--` (the end of input counts as a control character). */
function endsDashDash(c: number): boolean {
  return Number.isNaN(c) || c <= CH_SPACE || c === 0x7f;
}

/** Characters that make a string unsafe to hand to a second lexer verbatim. */
function isPlainStringChar(c: number): boolean {
  return c >= CH_SPACE && c !== 0x7f && c !== 92 /* \ */ && c !== 39 && c !== 34 && c !== 96;
}

/** MySQL's backslash escapes (\% and \_ keep their backslash: they are LIKE escapes). */
function unescape(c: string): string {
  switch (c) {
    case '0':
      return '\0';
    case 'b':
      return '\b';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'Z':
      return '\x1a';
    case '%':
      return '\\%';
    case '_':
      return '\\_';
    default:
      return c;
  }
}

class StatementBuilder {
  text = '';
  tokens: Token[] = [];
  placeholders: Map<string, string> | undefined;
  depth = 0;

  token(kind: TokenKind, value: string, start: number, end: number): void {
    this.tokens.push({ kind, value, upper: kind === 'word' ? value.toUpperCase() : value, start, end });
  }

  placeholder(value: string): string {
    this.placeholders ??= new Map();
    const name = `${placeholderPrefix}${this.placeholders.size}__`;
    this.placeholders.set(name, value);
    return name;
  }

  finish(): LexedStatement {
    return { text: this.text, tokens: this.tokens, placeholders: this.placeholders ?? emptyPlaceholders };
  }
}

const emptyPlaceholders: ReadonlyMap<string, string> = new Map();

/**
 * Split `sql` into statements and normalise each for the parser. Statements without any token (`;;`, a lone
 * comment) are dropped. Refuses (`forbidden`) executable comments and optimizer hints anywhere; fails (`error`) on
 * unterminated strings, identifiers or comments, characters MySQL does not accept outside strings, and parentheses
 * nested deeper than `maxDepth`.
 */
export function lexMysql(sql: string, maxDepth: number): LexResult {
  if (sql.includes(placeholderPrefix)) return { ok: false, error: `statement text contains the reserved marker ${placeholderPrefix}` };
  const statements: LexedStatement[] = [];
  let b = new StatementBuilder();
  const n = sql.length;
  let i = 0;
  let copyFrom = 0; // start of the run of input not yet appended to b.text

  const flush = (upTo: number): void => {
    if (upTo > copyFrom) b.text += sql.slice(copyFrom, upTo);
    copyFrom = upTo;
  };

  while (i < n) {
    const c = sql.charCodeAt(i);

    if (c === CH_SPACE || c === CH_TAB || c === CH_LF || c === CH_CR) {
      i++;
      continue;
    }
    if (c === CH_VT || c === CH_FF) {
      // Whitespace to MySQL, not to the parser.
      flush(i);
      b.text += ' ';
      copyFrom = ++i;
      continue;
    }

    // Comments: blank them out (one space keeps the tokens on either side apart, as MySQL keeps them).
    if (c === 35 /* # */ || (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45 && endsDashDash(sql.charCodeAt(i + 2)))) {
      flush(i);
      let j = i + 1;
      for (let d = sql.charCodeAt(j); j < n && d !== CH_LF; d = sql.charCodeAt(++j)) {
        // The server ends a line comment at a NUL byte as well, and reads on: refuse rather than guess.
        if (d === 0) return { ok: false, error: 'NUL byte in a comment' };
      }
      b.text += ' ';
      i = copyFrom = j;
      continue;
    }
    if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      const third = sql.charCodeAt(i + 2);
      if (third === 33 /* ! */ || ((third === 77 || third === 109) /* M m */ && sql.charCodeAt(i + 3) === 33)) {
        return { ok: false, forbidden: 'executable comment /*!…*/: the server runs what a parser skips' };
      }
      if (third === 43 /* + */) return { ok: false, forbidden: 'optimizer hint comment /*+…*/ is not allowed' };
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) return { ok: false, error: 'unterminated /* comment' };
      if (sql.slice(i + 2, close).includes('\0')) return { ok: false, error: 'NUL byte in a comment' };
      flush(i);
      b.text += ' ';
      i = copyFrom = close + 2;
      continue;
    }

    // Strings.
    if (c === 39 /* ' */ || c === 34 /* " */) {
      const quote = c;
      let j = i + 1;
      let plain = true;
      let value = '';
      let runStart = j;
      let closed = false;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (d === 92 /* \ */) {
          plain = false;
          value += sql.slice(runStart, j);
          if (j + 1 >= n) break;
          value += unescape(sql[j + 1] as string);
          j += 2;
          runStart = j;
          continue;
        }
        if (d === quote) {
          if (sql.charCodeAt(j + 1) === quote) {
            plain = false;
            value += sql.slice(runStart, j + 1);
            j += 2;
            runStart = j;
            continue;
          }
          closed = true;
          break;
        }
        if (!isPlainStringChar(d)) plain = false;
        j++;
      }
      if (!closed) return { ok: false, error: 'unterminated string' };
      value += sql.slice(runStart, j);
      flush(i);
      const start = b.text.length;
      if (plain) {
        b.text += sql.slice(i, j + 1);
      } else {
        b.text += `'${b.placeholder(value)}'`;
      }
      b.token('string', value, start, b.text.length);
      i = copyFrom = j + 1;
      continue;
    }

    // Backquoted identifiers.
    if (c === 96 /* ` */) {
      const close = sql.indexOf('`', i + 1);
      if (close < 0) return { ok: false, error: 'unterminated `identifier`' };
      if (sql.charCodeAt(close + 1) === 96) return { ok: false, error: 'identifiers containing a backquote are not supported' };
      flush(i);
      const start = b.text.length;
      flush(close + 1);
      b.token('ident', sql.slice(i + 1, close), start, b.text.length);
      i = close + 1;
      continue;
    }

    if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql.charCodeAt(j))) j++;
      flush(i);
      const start = b.text.length;
      flush(j);
      b.token('word', sql.slice(i, j), start, b.text.length);
      i = j;
      continue;
    }

    if (c === 59 /* ; */) {
      flush(i);
      if (b.tokens.length > 0) statements.push(b.finish());
      b = new StatementBuilder();
      i = copyFrom = i + 1;
      continue;
    }

    if (c < CH_SPACE || c === 0x7f) return { ok: false, error: `control character 0x${c.toString(16).padStart(2, '0')} outside a string` };
    if (c === 92 /* \ */) return { ok: false, error: 'backslash outside a string' };

    // Punctuation, one character at a time.
    flush(i);
    const start = b.text.length;
    flush(i + 1);
    b.token('punct', sql[i] as string, start, start + 1);
    if (c === 40 /* ( */) {
      if (++b.depth > maxDepth) return { ok: false, error: `nesting deeper than ${maxDepth}` };
    } else if (c === 41 /* ) */) {
      b.depth--;
    } else if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      // `--x` is minus minus x to MySQL but a comment to the parser: keep the dashes apart.
      b.text += ' ';
    }
    i++;
  }
  flush(n);
  if (b.tokens.length > 0) statements.push(b.finish());
  return { ok: true, statements };
}

