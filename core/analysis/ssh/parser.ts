// A hand-written parser for the POSIX sh command language (plus the bash/zsh forms an exec line is likely to carry),
// reduced to what a policy needs: every simple command the shell would run, with its words after quote removal.
// It reads the whole grammar that can hide a command — lists, pipelines, `&&`/`||`/`&`, subshells, brace groups,
// if/while/until/for, command substitution (`$(…)`, backticks, also inside double quotes, `${…}` and here-docs),
// process substitution, here-docs, redirections — and refuses what it does not model rather than guessing:
// `case`, function definitions, `[[ … ]]`, `((…))`, arithmetic naming variables, `${x@P}`-style transformations,
// zsh `${(…)…}` flags, unbalanced structure, unterminated quotes or here-docs, NUL bytes.
// Which words are *commands* (wrappers such as `sudo`, `sh -c`) is decided later by ./wrappers.ts.

export interface Word {
  /** The word after quote removal. Expansions the parser cannot know keep their source text (`$HOME`, `$(…)`). */
  readonly text: string;
  /** True when nothing in the word is expanded: `text` is exactly what the command receives. */
  readonly literal: boolean;
  /** True when an unquoted glob (`*`, `?`, `[…]`) or brace pattern (`{a,b}`) could make it other or several words. */
  readonly pattern: boolean;
}

export interface SimpleCommand {
  /** The command's words: assignments and redirections removed; may be empty for `X=1` or `>file`. */
  readonly words: readonly Word[];
}

export type ParseOutcome =
  | { readonly ok: true; readonly commands: readonly SimpleCommand[] }
  | { readonly ok: false; readonly error: string };

/** Nesting of substitutions, `sh -c` and `eval` levels before the line is refused. */
export const MAX_DEPTH = 24;
/** Simple commands per line before it is refused (bounded work). */
export const MAX_COMMANDS = 1000;

class ShellSyntaxError extends Error {}

interface ParsedWord extends Word {
  /** No quoting, escaping or expansion at all: the only kind of word that can be a reserved word. */
  readonly plain: boolean;
  /** Some part was quoted or escaped (a quoted here-doc delimiter makes the body literal). */
  readonly quoted: boolean;
  /** The source text of the word. */
  readonly source: string;
}

interface PendingHeredoc {
  readonly delimiter: string;
  readonly stripTabs: boolean;
  readonly expand: boolean;
}

const RESERVED_OPEN = new Set(['if', 'while', 'until', '{']);
const UNSUPPORTED_RESERVED: ReadonlyMap<string, string> = new Map([
  ['case', 'case statements are not analysed'],
  ['esac', 'case statements are not analysed'],
  ['function', 'function definitions are not analysed'],
  ['select', 'select loops are not analysed'],
  ['coproc', 'coprocesses are not analysed'],
  ['[[', 'bash conditional expressions ([[ … ]]) are not analysed'],
  [']]', 'bash conditional expressions ([[ … ]]) are not analysed'],
  ['in', 'unexpected "in"'],
]);
const LOOPS = new Set(['while', 'until', 'for']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Characters that end an unquoted word. */
function isMeta(c: string | undefined): boolean {
  return (
    c === undefined ||
    c === ' ' ||
    c === '\t' ||
    c === '\n' ||
    c === ';' ||
    c === '&' ||
    c === '|' ||
    c === '<' ||
    c === '>' ||
    c === '(' ||
    c === ')'
  );
}

class Parser {
  readonly src: string;
  readonly depth: number;
  readonly commands: SimpleCommand[];
  pos = 0;
  nesting = 0;
  pending: PendingHeredoc[] = [];

  constructor(src: string, depth: number, commands: SimpleCommand[]) {
    this.src = src;
    this.depth = depth;
    this.commands = commands;
  }

  fail(message: string): never {
    throw new ShellSyntaxError(message);
  }

  enter(): void {
    if (this.depth + ++this.nesting > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
  }

  leave(): void {
    this.nesting--;
  }

  emit(words: ParsedWord[]): void {
    if (this.commands.length >= MAX_COMMANDS) this.fail(`more than ${MAX_COMMANDS} commands`);
    this.commands.push({ words: words.map((w) => ({ text: w.text, literal: w.literal, pattern: w.pattern })) });
  }

  /** Skips blanks, line continuations and comments (a `#` that starts a token), never the newline itself. */
  skipBlanks(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (isBlank(c)) this.pos++;
      else if (c === '\\' && this.src[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  /** Parses a command list up to the end of input or, when `closeParen`, up to the `)` that closes a `$(`. */
  parseList(closeParen: boolean): void {
    const stack: string[] = [];
    let state: 'start' | 'simple' | 'after' = 'start';
    let needCommand = false;
    let words: ParsedWord[] = [];
    let named = false;

    const finish = (): void => {
      if (words.length > 0) this.emit(words);
      words = [];
      named = false;
    };
    const separator = (op: string): void => {
      if (state === 'start') this.fail(`"${op}" without a command before it`);
      finish();
      state = 'start';
    };

    for (;;) {
      this.skipBlanks();
      if (this.pos >= this.src.length) break;
      const c = this.src[this.pos] as string;

      if (c === '\n') {
        this.pos++;
        if (state !== 'start') finish();
        state = 'start';
        this.readHeredocBodies();
        continue;
      }
      if (c === ')') {
        if (state === 'start' && needCommand) this.fail('")" where a command was expected');
        finish();
        this.pos++;
        if (stack[stack.length - 1] === '(') {
          stack.pop();
          state = 'after';
          continue;
        }
        if (closeParen && stack.length === 0) {
          if (this.pending.length > 0) this.fail('here-document inside $(…) without its body');
          return;
        }
        this.fail('unbalanced ")"');
      }
      if ((c === '<' || c === '>') && this.src[this.pos + 1] === '(') {
        if (state === 'after') this.fail('unexpected process substitution');
        words.push(this.parseWord());
        named = true;
        state = 'simple';
        needCommand = false;
        continue;
      }
      if (this.atRedirection()) {
        this.parseRedirection();
        if (state === 'start') state = 'simple';
        needCommand = false;
        continue;
      }
      if (c === '(') {
        if (state !== 'start') this.fail('unexpected "(" (function definitions and extended globs are not analysed)');
        if (this.src[this.pos + 1] === '(') this.fail('arithmetic commands ((…)) are not analysed');
        this.pos++;
        stack.push('(');
        needCommand = true;
        continue;
      }
      if (this.startsWith(';;') || this.startsWith(';&')) this.fail('case statements are not analysed');
      if (this.startsWith('&&') || this.startsWith('||')) {
        separator(this.src.slice(this.pos, this.pos + 2));
        this.pos += 2;
        needCommand = true;
        continue;
      }
      if (this.startsWith('|&') || c === '|') {
        const op = this.startsWith('|&') ? '|&' : '|';
        separator(op);
        this.pos += op.length;
        needCommand = true;
        continue;
      }
      if (c === ';' || c === '&') {
        if (needCommand) this.fail(`"${c}" where a command was expected`);
        separator(c);
        this.pos++;
        continue;
      }

      // A word.
      if (state === 'after') this.fail('unexpected word after a compound command');
      const word = this.parseWord();
      if (state === 'start' && word.plain) {
        const unsupported = UNSUPPORTED_RESERVED.get(word.text);
        if (unsupported !== undefined) this.fail(unsupported);
        if (RESERVED_OPEN.has(word.text)) {
          stack.push(word.text);
          needCommand = true;
          continue;
        }
        switch (word.text) {
          case '!':
            needCommand = true;
            continue;
          case 'then':
          case 'elif':
          case 'else':
            if (stack[stack.length - 1] !== 'if') this.fail(`"${word.text}" outside if`);
            needCommand = true;
            continue;
          case 'do':
            if (!LOOPS.has(stack[stack.length - 1] ?? '')) this.fail('"do" outside a loop');
            needCommand = true;
            continue;
          case 'fi':
          case 'done':
          case '}': {
            const opener = stack.pop();
            const ok = word.text === 'fi' ? opener === 'if' : word.text === '}' ? opener === '{' : LOOPS.has(opener ?? '');
            if (!ok) this.fail(`unbalanced "${word.text}"`);
            state = 'after';
            continue;
          }
          case 'for':
            this.parseForHeader();
            stack.push('for');
            needCommand = false;
            continue;
        }
      }
      state = 'simple';
      needCommand = false;
      if (!named && ASSIGNMENT.test(word.source)) continue; // X=1 cmd: the assignment is data (its substitutions ran)
      named = true;
      words.push(word);
    }

    finish();
    if (this.pending.length > 0) this.fail('here-document without its body');
    if (closeParen) this.fail('unterminated $(');
    if (stack.length > 0) this.fail(`unterminated "${stack[stack.length - 1]}"`);
    if (needCommand) this.fail('incomplete command line');
  }

  /** `for NAME [in WORD…] ;|newline` — the words are data, but their substitutions run. */
  parseForHeader(): void {
    this.skipBlanks();
    const name = this.parseWord();
    if (!name.plain || !NAME.test(name.text)) this.fail('for loop without a plain variable name');
    this.skipBlanks();
    if (this.src[this.pos] === ';') {
      this.pos++;
      return;
    }
    if (this.src[this.pos] === '\n') return;
    const save = this.pos;
    const keyword = isMeta(this.src[this.pos]) ? undefined : this.parseWord();
    if (keyword?.plain && keyword.text === 'do') {
      this.pos = save; // `for x do …`: leave "do" for the list parser
      return;
    }
    if (!keyword?.plain || keyword.text !== 'in') this.fail('for loop without "in"');
    for (;;) {
      this.skipBlanks();
      const c = this.src[this.pos];
      if (c === ';') {
        this.pos++;
        return;
      }
      if (c === '\n') return;
      if (isMeta(c)) this.fail('unexpected operator in a for loop word list');
      this.parseWord();
    }
  }

  atRedirection(): boolean {
    let i = this.pos;
    while (i < this.src.length && this.src.charCodeAt(i) >= 0x30 && this.src.charCodeAt(i) <= 0x39) i++;
    const c = this.src[i];
    if (c === '<' || c === '>') return true;
    return i === this.pos && c === '&' && this.src[i + 1] === '>';
  }

  parseRedirection(): void {
    while (this.src.charCodeAt(this.pos) >= 0x30 && this.src.charCodeAt(this.pos) <= 0x39) this.pos++;
    const ops = ['&>>', '&>', '<<<', '<<-', '<<', '<>', '<&', '>>', '>&', '>|', '<', '>'];
    const op = ops.find((o) => this.startsWith(o)) as string;
    this.pos += op.length;
    this.skipBlanks();
    const c = this.src[this.pos];
    if (isMeta(c) && !((c === '<' || c === '>') && this.src[this.pos + 1] === '(')) {
      this.fail(`redirection "${op}" without a target`);
    }
    const target = this.parseWord();
    if (op === '<<' || op === '<<-') {
      this.pending.push({ delimiter: target.text, stripTabs: op === '<<-', expand: !target.quoted });
    }
    // Redirection targets are data; any substitution inside them has been parsed already.
  }

  /** Reads the bodies of the here-documents opened on the line that just ended. */
  readHeredocBodies(): void {
    const pending = this.pending;
    this.pending = [];
    for (const doc of pending) {
      const lines: string[] = [];
      for (;;) {
        if (this.pos >= this.src.length) this.fail(`here-document not terminated by "${doc.delimiter}"`);
        let end = this.src.indexOf('\n', this.pos);
        if (end < 0) end = this.src.length;
        let line = this.src.slice(this.pos, end);
        this.pos = Math.min(end + 1, this.src.length);
        if (doc.stripTabs) line = line.replace(/^\t+/, '');
        if (line === doc.delimiter) break;
        lines.push(line);
      }
      // An unquoted delimiter means the body is expanded like a double-quoted string: substitutions in it run.
      if (doc.expand && lines.length > 0) {
        const body = new Parser(`${lines.join('\n')}\n`, this.depth + this.nesting + 1, this.commands);
        body.scanExpandedText();
      }
    }
  }

  /** Walks text that is expanded like the inside of double quotes (here-doc bodies) for substitutions. */
  scanExpandedText(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === '$') this.parseDollar(true);
      else if (c === '`') this.parseBackticks(true);
      else this.pos++;
    }
  }

  /** Reads one word (the caller has checked it does not start with an operator). */
  parseWord(): ParsedWord {
    const start = this.pos;
    let text = '';
    let literal = true;
    let pattern = false;
    let quoted = false;
    let plain = true;
    let openBracket = false;
    let openBrace = false;

    const first = this.src[this.pos];
    if ((first === '<' || first === '>') && this.src[this.pos + 1] === '(') {
      this.pos += 2;
      this.enter();
      this.parseList(true);
      this.leave();
      return { text: this.src.slice(start, this.pos), literal: false, pattern: false, plain: false, quoted: false, source: this.src.slice(start, this.pos) };
    }

    while (this.pos < this.src.length) {
      const c = this.src[this.pos] as string;
      if (isMeta(c)) break;
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
          continue;
        }
        if (next === undefined) this.fail('backslash at the end of the line');
        text += next;
        quoted = true;
        plain = false;
        this.pos += 2;
      } else if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) this.fail('unterminated single quote');
        text += this.src.slice(this.pos + 1, end);
        quoted = true;
        plain = false;
        this.pos = end + 1;
      } else if (c === '"') {
        const part = this.parseDoubleQuoted();
        text += part.text;
        literal &&= part.literal;
        quoted = true;
        plain = false;
      } else if (c === '$') {
        const part = this.parseDollar(false);
        text += part.text;
        literal &&= part.literal;
        if (part.quoted) quoted = true;
        plain = false;
      } else if (c === '`') {
        text += this.parseBackticks(false);
        literal = false;
        plain = false;
      } else {
        if (c === '*' || c === '?') pattern = true;
        else if (c === '[') openBracket = true;
        else if (c === ']' && openBracket) pattern = true;
        else if (c === '{') openBrace = true;
        else if (c === '}' && openBrace) pattern = true;
        text += c;
        this.pos++;
      }
    }
    const source = this.src.slice(start, this.pos);
    return { text, literal, pattern, quoted, plain, source };
  }

  parseDoubleQuoted(): { text: string; literal: boolean } {
    this.pos++; // opening quote
    let text = '';
    let literal = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated double quote');
      const c = this.src[this.pos] as string;
      if (c === '"') {
        this.pos++;
        return { text, literal };
      }
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        if (next === '\n') this.pos += 2;
        else if (next === '$' || next === '`' || next === '"' || next === '\\') {
          text += next;
          this.pos += 2;
        } else {
          text += '\\';
          this.pos++;
        }
      } else if (c === '$') {
        const part = this.parseDollar(true);
        text += part.text;
        literal &&= part.literal;
      } else if (c === '`') {
        text += this.parseBackticks(true);
        literal = false;
      } else {
        text += c;
        this.pos++;
      }
    }
  }

  /** `$…` at this.pos: parameter, command, arithmetic expansion, or ANSI-C / locale quoting (outside quotes). */
  parseDollar(inDouble: boolean): { text: string; literal: boolean; quoted: boolean } {
    const start = this.pos;
    const next = this.src[this.pos + 1];
    if (!inDouble && next === "'") {
      this.pos += 2;
      return { text: this.parseAnsiC(), literal: true, quoted: true };
    }
    if (!inDouble && next === '"') {
      this.pos++;
      const part = this.parseDoubleQuoted();
      return { text: part.text, literal: part.literal, quoted: true };
    }
    if (next === '(' && this.src[this.pos + 2] === '(') {
      this.parseArithmetic();
      return { text: this.src.slice(start, this.pos), literal: false, quoted: false };
    }
    if (next === '(') {
      this.pos += 2;
      this.enter();
      this.parseList(true);
      this.leave();
      return { text: this.src.slice(start, this.pos), literal: false, quoted: false };
    }
    if (next === '[') this.fail('legacy arithmetic $[…] is not analysed');
    if (next === '{') {
      this.parseBracedParameter(inDouble);
      return { text: this.src.slice(start, this.pos), literal: false, quoted: false };
    }
    if (next !== undefined && /[A-Za-z_]/.test(next)) {
      this.pos++;
      while (this.pos < this.src.length && /[A-Za-z0-9_]/.test(this.src[this.pos] as string)) this.pos++;
      return { text: this.src.slice(start, this.pos), literal: false, quoted: false };
    }
    if (next !== undefined && /[0-9@*#?$!-]/.test(next)) {
      this.pos += 2;
      return { text: this.src.slice(start, this.pos), literal: false, quoted: false };
    }
    this.pos++;
    return { text: '$', literal: true, quoted: false };
  }

  /** `$((…))`: only constant arithmetic; names are refused because bash expands `a[$(cmd)]` inside them. */
  parseArithmetic(): void {
    this.pos += 3;
    const start = this.pos;
    let depth = 0;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated $((');
      const c = this.src[this.pos];
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) {
          if (this.src[this.pos + 1] !== ')') this.fail('malformed $((…))');
          break;
        }
        depth--;
      }
      this.pos++;
    }
    const expression = this.src.slice(start, this.pos);
    this.pos += 2;
    if (!/^[0-9+\-*/%<>=!&|^~?:() \t]*$/.test(expression)) {
      this.fail('arithmetic expansion with variables or substitutions is not analysed');
    }
  }

  /** `${…}`: its operands may hold substitutions (`${x:-$(cmd)}`), which run. */
  parseBracedParameter(inDouble: boolean): void {
    this.pos += 2;
    this.enter(); // ${x:-${x:-…}} recurses; bound it like any other nesting
    const start = this.pos;
    if (this.src[this.pos] === '(') this.fail('zsh parameter flags ${(…)…} are not analysed');
    let depth = 0;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated ${');
      const c = this.src[this.pos] as string;
      if (c === '}') {
        if (depth === 0) break;
        depth--;
        this.pos++;
      } else if (c === '{') {
        depth++;
        this.pos++;
      } else if (c === '\\') this.pos += 2;
      else if (c === "'") {
        // Inside double quotes, shells disagree on whether ' quotes within ${…}; refuse rather than pick one.
        if (inDouble) this.fail("single quote inside \"${…}\" is read differently by different shells");
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) this.fail('unterminated single quote');
        this.pos = end + 1;
      } else if (c === '"') this.parseDoubleQuoted();
      else if (c === '$') this.parseDollar(true);
      else if (c === '`') this.parseBackticks(true);
      else this.pos++;
    }
    const content = this.src.slice(start, this.pos);
    this.pos++;
    this.leave();
    // ${x@P} expands prompt escapes, which run command substitutions held in the variable's value.
    if (/@[A-Za-z]$/.test(content)) this.fail('parameter transformations ${…@…} are not analysed');
  }

  /** `` `…` ``: the content, with its backslash escapes removed, is a command line of its own. */
  parseBackticks(inDouble: boolean): string {
    const start = this.pos;
    this.pos++;
    let content = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated backtick');
      const c = this.src[this.pos] as string;
      if (c === '`') break;
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        if (next === '$' || next === '`' || next === '\\' || (inDouble && next === '"')) {
          content += next;
          this.pos += 2;
          continue;
        }
      }
      content += c;
      this.pos++;
    }
    this.pos++;
    parseInto(content, this.depth + this.nesting + 1, this.commands);
    return this.src.slice(start, this.pos);
  }

  /** `$'…'` after the opening quote: bash's ANSI-C escapes. */
  parseAnsiC(): string {
    let text = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail("unterminated $'");
      const c = this.src[this.pos] as string;
      this.pos++;
      if (c === "'") return text;
      if (c !== '\\') {
        text += c;
        continue;
      }
      const e = this.src[this.pos];
      if (e === undefined) this.fail("unterminated $'");
      this.pos++;
      const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
      let code: number | undefined;
      if (simple[e] !== undefined) {
        text += simple[e];
        continue;
      } else if (e >= '0' && e <= '7') {
        code = this.readDigits(e, 8, 2);
      } else if (e === 'x') {
        code = this.readDigits('', 16, 2);
      } else if (e === 'u') {
        code = this.readDigits('', 16, 4);
      } else if (e === 'U') {
        code = this.readDigits('', 16, 8);
      } else if (e === 'c') {
        const ch = this.src[this.pos];
        if (ch === undefined) this.fail("unterminated $'");
        this.pos++;
        code = ch.toUpperCase().charCodeAt(0) & 0x1f;
      } else {
        text += `\\${e}`;
        continue;
      }
      if (code === undefined) {
        text += `\\${e}`;
        continue;
      }
      // bash cuts the string at a NUL; refusing is clearer than reproducing that.
      if (code === 0) this.fail("NUL byte in $'…'");
      if (code > 0x10ffff) this.fail("invalid code point in $'…'");
      text += String.fromCodePoint(code);
    }
  }

  readDigits(initial: string, radix: number, max: number): number | undefined {
    let digits = initial;
    const valid = radix === 8 ? /[0-7]/ : /[0-9A-Fa-f]/;
    while (digits.length < max + initial.length && this.pos < this.src.length && valid.test(this.src[this.pos] as string)) {
      digits += this.src[this.pos];
      this.pos++;
    }
    return digits === '' ? undefined : parseInt(digits, radix);
  }
}

function parseInto(source: string, depth: number, commands: SimpleCommand[]): void {
  if (depth > MAX_DEPTH) throw new ShellSyntaxError(`nested deeper than ${MAX_DEPTH} levels`);
  const parser = new Parser(source, depth, commands);
  parser.parseList(false);
}

/** Parses a command line into the simple commands the shell would run. `depth` counts enclosing levels. */
export function parseCommandLine(source: string, depth = 0): ParseOutcome {
  if (source.includes('\0')) return { ok: false, error: 'NUL byte in command line' };
  const commands: SimpleCommand[] = [];
  try {
    parseInto(source, depth, commands);
  } catch (e) {
    if (e instanceof ShellSyntaxError) return { ok: false, error: e.message };
    throw e;
  }
  return { ok: true, commands };
}
