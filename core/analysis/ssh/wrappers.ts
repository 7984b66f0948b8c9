// Commands that run other commands. For each simple command, `unwrap` says what else it runs: a wrapped argv
// (`sudo rm x` → `rm x`, `find … -exec rm {} ;` → `rm {}`) or a script to parse (`sh -c '…'`, `eval …`, `su -c …`,
// `watch …`, `trap '…' EXIT`). The caller turns both into parts of their own, recursively.
// Options are read as each tool's own getopt reads them (all of these stop at the first operand); an option this
// table does not know, or a word that is not literal where the wrapped command could start, is an error: where a
// wrapped command starts must never be guessed.
// This is a deny-list helper, not a sandbox: any interpreter (`python -c`, `perl -e`, `awk 'BEGIN{system(…)}'`)
// can run anything, so policies that must hold should allow-list commands.
import type { Word } from './parser.ts';

export type Unwrapped =
  | { readonly ok: true; readonly commands: readonly (readonly Word[])[]; readonly scripts: readonly string[] }
  | { readonly ok: false; readonly error: string };

const NOTHING: Unwrapped = { ok: true, commands: [], scripts: [] };

interface OptionSpec {
  /** Short options without an argument. */
  readonly flags?: string;
  /** Short options with a required argument (attached or the next word). */
  readonly withArg?: string;
  /** Short options whose argument can only be attached (`-i{}`, `-hhost`). */
  readonly optionalAttached?: string;
  readonly longFlags?: readonly string[];
  readonly longWithArg?: readonly string[];
  /** Options refused outright (e.g. `env -S`, which splits a string into a new command line). */
  readonly refused?: string;
  readonly refusedLong?: readonly string[];
  /** `nice -10`: a dash followed by digits is an option. */
  readonly numeric?: boolean;
  /** `NAME=VALUE` words between the options and the command (env, sudo). */
  readonly assignments?: boolean;
  /** Operands before the wrapped command (timeout DURATION, chroot NEWROOT). */
  readonly operands?: number;
  /** A lone "-" is an option (`env -` is `env -i`), not the command. */
  readonly dashIsFlag?: boolean;
}

type ParsedOptions =
  | { readonly ok: true; readonly seen: ReadonlySet<string>; readonly values: ReadonlyMap<string, string>; readonly rest: number }
  | { readonly ok: false; readonly error: string };

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

/** getopt with "+" (stop at the first operand), over words that must be literal to be read as options. */
function parseOptions(tool: string, words: readonly Word[], spec: OptionSpec): ParsedOptions {
  const seen = new Set<string>();
  const values = new Map<string, string>();
  const unknown = (opt: string): ParsedOptions => ({ ok: false, error: `${tool}: unknown option ${opt}, cannot tell which command it runs` });
  let i = 1;
  while (i < words.length) {
    const word = words[i] as Word;
    if (!word.literal) return { ok: false, error: `${tool}: an expanded word where its options or command start` };
    const arg = word.text;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '-' && spec.dashIsFlag) {
      i++;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    if (spec.numeric && /^--?\d+$/.test(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (spec.refusedLong?.includes(name)) return { ok: false, error: `${tool}: option --${name} is not analysed` };
      if (spec.longWithArg?.includes(name)) {
        if (eq < 0) {
          const value = words[i + 1];
          if (value === undefined) return { ok: false, error: `${tool}: option --${name} needs a value` };
          values.set(name, value.text);
          i++;
        } else values.set(name, arg.slice(eq + 1));
      } else if (!spec.longFlags?.includes(name)) return unknown(`--${name}`);
      seen.add(name);
      i++;
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const opt = arg[j] as string;
      if (spec.refused?.includes(opt)) return { ok: false, error: `${tool}: option -${opt} is not analysed` };
      seen.add(opt);
      if (spec.flags?.includes(opt)) continue;
      if (spec.optionalAttached?.includes(opt)) {
        values.set(opt, arg.slice(j + 1));
        break;
      }
      if (spec.withArg?.includes(opt)) {
        if (j + 1 < arg.length) values.set(opt, arg.slice(j + 1));
        else {
          const value = words[i + 1];
          if (value === undefined) return { ok: false, error: `${tool}: option -${opt} needs a value` };
          values.set(opt, value.text);
          i++;
        }
        break;
      }
      return unknown(`-${opt}`);
    }
    i++;
  }
  if (spec.assignments) {
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test((words[i] as Word).text)) i++;
  }
  for (let n = 0; n < (spec.operands ?? 0); n++) {
    if (i >= words.length) return { ok: true, seen, values, rest: words.length };
    i++;
  }
  return { ok: true, seen, values, rest: i };
}

function wrapped(words: readonly Word[], from: number): Unwrapped {
  return from < words.length ? { ok: true, commands: [words.slice(from)], scripts: [] } : NOTHING;
}

function script(tool: string, word: Word | undefined): Unwrapped {
  if (word === undefined) return { ok: false, error: `${tool}: missing command string` };
  if (!word.literal) return { ok: false, error: `${tool}: the command string is an expansion, its commands are unknown` };
  return { ok: true, commands: [], scripts: [word.text] };
}

/** Wrappers whose command follows their options: name → option table and what no command means. */
interface SimpleWrapper {
  readonly spec: OptionSpec;
  /** Options after which the operands are not a command (e.g. `sudo -e` edits files). */
  readonly noCommandWith?: string;
  /** An error when no command follows (the tool then starts an interactive shell). */
  readonly bareIsShell?: boolean;
  /** Options that start a shell when no command follows (sudo -s / -i). */
  readonly shellWith?: string;
}

const SIMPLE_WRAPPERS: ReadonlyMap<string, SimpleWrapper> = new Map<string, SimpleWrapper>([
  [
    'sudo',
    {
      spec: {
        flags: 'AbBEeHiKklNnPSsVv',
        withArg: 'aCcDgpRrTtUu',
        optionalAttached: 'h',
        longFlags: ['askpass', 'background', 'bell', 'preserve-env', 'edit', 'help', 'set-home', 'login', 'remove-timestamp', 'reset-timestamp', 'list', 'non-interactive', 'preserve-groups', 'stdin', 'shell', 'version', 'validate', 'host'],
        longWithArg: ['auth-type', 'close-from', 'chdir', 'chroot', 'group', 'login-class', 'prompt', 'role', 'type', 'command-timeout', 'other-user', 'user'],
        assignments: true,
      },
      noCommandWith: 'e',
      shellWith: 'is',
    },
  ],
  ['doas', { spec: { flags: 'ns', withArg: 'uC' }, noCommandWith: 'C', shellWith: 's' }],
  ['pkexec', { spec: { longFlags: ['keep-cwd', 'disable-internal-agent', 'help', 'version'], longWithArg: ['user'] }, bareIsShell: true }],
  [
    'env',
    {
      spec: {
        flags: 'iv0',
        withArg: 'uCa',
        refused: 'S',
        longFlags: ['ignore-environment', 'null', 'debug', 'help', 'version', 'block-signal', 'default-signal', 'ignore-signal', 'list-signal-handling'],
        longWithArg: ['unset', 'chdir', 'argv0'],
        refusedLong: ['split-string'],
        assignments: true,
        dashIsFlag: true,
      },
    },
  ],
  ['nohup', { spec: { longFlags: ['help', 'version'] } }],
  ['setsid', { spec: { flags: 'cfw', longFlags: ['ctty', 'fork', 'wait', 'help', 'version'] } }],
  ['nice', { spec: { withArg: 'n', numeric: true, longWithArg: ['adjustment'], longFlags: ['help', 'version'] } }],
  ['ionice', { spec: { flags: 'tPhVu', withArg: 'cnpPu' }, noCommandWith: 'pPu' }],
  ['stdbuf', { spec: { withArg: 'ioe', longWithArg: ['input', 'output', 'error'], longFlags: ['help', 'version'] } }],
  [
    'timeout',
    {
      spec: { flags: 'fpv', withArg: 'ks', longFlags: ['foreground', 'preserve-status', 'verbose', 'help', 'version'], longWithArg: ['kill-after', 'signal'], operands: 1 },
    },
  ],
  ['chroot', { spec: { longFlags: ['skip-chdir', 'help', 'version'], longWithArg: ['userspec', 'groups'], operands: 1 }, bareIsShell: true }],
  ['time', { spec: { flags: 'apvq', withArg: 'fo', longFlags: ['append', 'portability', 'verbose', 'quiet', 'help', 'version'], longWithArg: ['format', 'output'] } }],
  ['command', { spec: { flags: 'pvV' } }],
  ['builtin', { spec: {} }],
  ['exec', { spec: { flags: 'cl', withArg: 'a' } }],
  ['busybox', { spec: { longFlags: ['list', 'list-full', 'help', 'install'] } }],
]);

const POSIX_SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'ksh93', 'mksh', 'pdksh', 'zsh', 'yash', 'posh', 'rbash', 'lksh']);
const OTHER_SHELLS = new Set(['fish', 'csh', 'tcsh', 'rc', 'es', 'xonsh', 'nu', 'pwsh', 'elvish', 'oil', 'osh', 'ysh']);
/** Bash builtins that evaluate array subscripts or arithmetic in their arguments, running `$(…)` found there. */
const SUBSCRIPT_EVALUATORS = new Set(['let', 'declare', 'typeset', 'local', 'export', 'readonly', 'printf', 'read', 'test', '[', 'unset', 'mapfile', 'readarray', 'wait', 'getopts', 'shift', 'return', 'exit', 'ulimit']);

/** `sh [options] -c SCRIPT [name [args…]]`, `sh FILE`, or a shell reading its commands from stdin (refused). */
function unwrapShell(tool: string, words: readonly Word[]): Unwrapped {
  let commandMode = false;
  let i = 1;
  for (; i < words.length; i++) {
    const word = words[i] as Word;
    if (!word.literal) return { ok: false, error: `${tool}: an expanded word where its options or script start` };
    const arg = word.text;
    if (arg === '--' || arg === '-') {
      i++;
      break;
    }
    if (arg.startsWith('--')) {
      if (arg === '--rcfile' || arg === '--init-file') i++;
      continue;
    }
    if (!(arg.startsWith('-') || arg.startsWith('+'))) break;
    for (let j = 1; j < arg.length; j++) {
      const opt = arg[j];
      if (opt === 'c') commandMode = true;
      else if (opt === 's') return { ok: false, error: `${tool} -s reads its commands from stdin, which is not analysed` };
      else if (opt === 'o' || opt === 'O') {
        i++;
        break;
      }
    }
  }
  if (OTHER_SHELLS.has(tool) && commandMode) return { ok: false, error: `${tool} -c: ${tool} syntax is not analysed` };
  if (commandMode) return script(`${tool} -c`, words[i]);
  // With a script file the file's content is unknown: the part itself (`bash deploy.sh`) is what rules see.
  if (i < words.length) return NOTHING;
  return { ok: false, error: `${tool} without -c or a script reads its commands from stdin, which is not analysed` };
}

/** `xargs [options] [command [initial-arguments]]`; without a command xargs runs echo. */
function unwrapXargs(words: readonly Word[]): Unwrapped {
  const parsed = parseOptions('xargs', words, {
    flags: '0rtpxo',
    withArg: 'adEILnPs',
    optionalAttached: 'eil',
    longFlags: ['null', 'no-run-if-empty', 'verbose', 'interactive', 'exit', 'open-tty', 'show-limits', 'help', 'version', 'replace', 'eof', 'max-lines'],
    longWithArg: ['arg-file', 'delimiter', 'max-args', 'max-procs', 'max-chars', 'process-slot-var'],
  });
  return parsed.ok ? wrapped(words, parsed.rest) : parsed;
}

/** `find … -exec|-execdir|-ok|-okdir COMMAND … ;` (or `{} +`): each COMMAND is a command of its own. */
function unwrapFind(words: readonly Word[]): Unwrapped {
  const commands: Word[][] = [];
  for (let i = 1; i < words.length; i++) {
    const action = (words[i] as Word).text;
    if (action !== '-exec' && action !== '-execdir' && action !== '-ok' && action !== '-okdir') continue;
    let end = i + 1;
    for (; end < words.length; end++) {
      const t = (words[end] as Word).text;
      if (t === ';' || (t === '+' && (words[end - 1] as Word).text === '{}')) break;
    }
    if (end >= words.length) return { ok: false, error: `find ${action} without its terminating ";" or "+"` };
    if (end === i + 1) return { ok: false, error: `find ${action} without a command` };
    commands.push(words.slice(i + 1, end));
    i = end;
  }
  return { ok: true, commands, scripts: [] };
}

/** `su [options] [-] [user [args…]]` / `runuser`: `-c COMMAND` runs through the user's shell. */
function unwrapSu(tool: string, words: readonly Word[]): Unwrapped {
  let operands = 0;
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as Word;
    if (!word.literal) return { ok: false, error: `${tool}: an expanded word among its arguments` };
    const arg = word.text;
    if (arg === '-c' || arg === '--command' || arg === '--session-command') return script(`${tool} -c`, words[i + 1]);
    if (arg.startsWith('--command=') || arg.startsWith('--session-command=')) {
      return script(`${tool} -c`, { text: arg.slice(arg.indexOf('=') + 1), literal: true, pattern: false });
    }
    if (arg === '-s' || arg === '--shell' || arg === '-g' || arg === '--group' || arg === '-G' || arg === '--supp-group' || arg === '-w' || arg === '--whitelist-environment' || arg === '-u' || arg === '--user') {
      i++;
      continue;
    }
    if (/^-[lmpfP]*c/.test(arg)) {
      const attached = arg.slice(arg.indexOf('c') + 1);
      return attached === '' ? script(`${tool} -c`, words[i + 1]) : script(`${tool} -c`, { text: attached, literal: true, pattern: false });
    }
    if (arg.startsWith('-') && arg !== '-') continue;
    if (arg !== '-') operands++;
  }
  // `su user` starts an interactive shell; `su user FILE…` hands the operands to the shell as a script.
  if (operands <= 1) return { ok: false, error: `${tool} without -c starts an interactive shell, which is not analysed` };
  return NOTHING;
}

/** `watch [options] COMMAND…`: the words are joined and run with `sh -c`, unless `-x`/`--exec`. */
function unwrapWatch(words: readonly Word[]): Unwrapped {
  const parsed = parseOptions('watch', words, {
    flags: 'bCcdeghprtwx',
    withArg: 'nqs',
    optionalAttached: '',
    longFlags: ['beep', 'color', 'no-color', 'differences', 'errexit', 'chgexit', 'precise', 'no-rerun', 'no-title', 'no-wrap', 'exec', 'help', 'version'],
    longWithArg: ['interval', 'equexit', 'shotsdir'],
  });
  if (!parsed.ok) return parsed;
  if (parsed.seen.has('x') || parsed.seen.has('exec')) return wrapped(words, parsed.rest);
  const rest = words.slice(parsed.rest);
  if (rest.length === 0) return NOTHING;
  if (rest.some((w) => !w.literal)) return { ok: false, error: 'watch: the command is an expansion, its commands are unknown' };
  return { ok: true, commands: [], scripts: [rest.map((w) => w.text).join(' ')] };
}

/** `trap [-lp] [ACTION SIGNAL…]`: ACTION is a command string run later. */
function unwrapTrap(words: readonly Word[]): Unwrapped {
  const args = words.slice(1);
  if (args.length < 2 || args[0]?.text === '-l' || args[0]?.text === '-p') return NOTHING;
  const start = args[0]?.text === '--' ? 1 : 0;
  const action = args[start];
  if (action === undefined || args.length - start < 2) return NOTHING;
  if (action.literal && (action.text === '' || action.text === '-' || /^\d+$/.test(action.text))) return NOTHING;
  return script('trap', action);
}

/** `eval ARG…`: the arguments joined by spaces are a command line. */
function unwrapEval(words: readonly Word[]): Unwrapped {
  const args = words.slice(1);
  if (args.length === 0) return NOTHING;
  if (args.some((w) => !w.literal)) return { ok: false, error: 'eval of an expansion: its commands are unknown' };
  return { ok: true, commands: [], scripts: [args.map((w) => w.text).join(' ')] };
}

/** What a simple command runs besides itself. `words[0]` is known to be a literal command name. */
export function unwrap(words: readonly Word[]): Unwrapped {
  const name = basename((words[0] as Word).text);
  if (name === 'alias' && words.length > 1) return { ok: false, error: 'alias definitions change how later commands parse' };
  // Only literal text matters here: a real substitution has already been parsed into a part of its own.
  if (SUBSCRIPT_EVALUATORS.has(name) && words.some((w) => w.literal && (w.text.includes('$(') || w.text.includes('`')))) {
    return { ok: false, error: `${name} with a command substitution in its arguments (bash runs those inside subscripts)` };
  }
  if (POSIX_SHELLS.has(name) || OTHER_SHELLS.has(name)) return unwrapShell(name, words);
  switch (name) {
    case 'eval':
      return unwrapEval(words);
    case 'xargs':
      return unwrapXargs(words);
    case 'find':
      return unwrapFind(words);
    case 'su':
    case 'runuser':
      return unwrapSu(name, words);
    case 'watch':
      return unwrapWatch(words);
    case 'trap':
      return unwrapTrap(words);
  }
  const simple = SIMPLE_WRAPPERS.get(name);
  if (simple === undefined) return NOTHING;
  const parsed = parseOptions(name, words, simple.spec);
  if (!parsed.ok) return parsed;
  if (simple.noCommandWith !== undefined && [...parsed.seen].some((o) => o.length === 1 && simple.noCommandWith?.includes(o))) {
    return NOTHING;
  }
  if (parsed.rest >= words.length) {
    const shell = simple.bareIsShell || [...parsed.seen].some((o) => o.length === 1 && simple.shellWith?.includes(o)) || (name === 'sudo' && (parsed.seen.has('shell') || parsed.seen.has('login')));
    return shell ? { ok: false, error: `${name} without a command starts an interactive shell, which is not analysed` } : NOTHING;
  }
  return wrapped(words, parsed.rest);
}
