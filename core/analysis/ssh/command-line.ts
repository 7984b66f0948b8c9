// SSH requests → parts. An exec command line becomes one part per simple command the shell would run — every
// command of a pipeline or list, of substitutions, and every command run by a wrapper (`sudo rm x` is the parts
// `sudo rm x` and `rm x`) — see ./parser.ts and ./wrappers.ts. Whatever cannot be analysed with confidence is an
// error, and the engine denies it. An interactive shell is one `shell` part, an SFTP subsystem one `sftp` part.
import type { Command, SshPart } from '../command.ts';
import { compileGlob } from '../../policy/glob.ts';
import { MAX_COMMANDS, MAX_DEPTH, parseCommandLine, type Word } from './parser.ts';
import { unwrap } from './wrappers.ts';

export interface SshRequest {
  readonly kind: 'exec' | 'shell' | 'sftp';
  /** The exec request's command line (ignored for shell and sftp). */
  readonly command?: string;
}

/** Exec command lines longer than this are refused without parsing. */
export const MAX_COMMAND_LINE_BYTES = 64 * 1024;

/** Programs that speak SFTP over an exec channel: they are SFTP whatever their name says. */
const SFTP_SERVERS = new Set(['sftp-server', 'internal-sftp']);

const SHELL_PART: SshPart = { protocol: 'ssh', kind: 'shell' };
const SFTP_PART: SshPart = { protocol: 'ssh', kind: 'sftp' };

class AnalysisError extends Error {}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

function addCommand(words: readonly Word[], depth: number, parts: SshPart[]): void {
  if (words.length === 0) return; // only assignments or redirections
  if (depth > MAX_DEPTH) throw new AnalysisError(`commands nested deeper than ${MAX_DEPTH} levels`);
  if (parts.length >= MAX_COMMANDS) throw new AnalysisError(`more than ${MAX_COMMANDS} commands`);
  const name = words[0] as Word;
  if (!name.literal) throw new AnalysisError(`the command name ${JSON.stringify(name.text)} is an expansion, the command is unknown`);
  if (name.pattern) throw new AnalysisError(`the command name ${JSON.stringify(name.text)} is a glob or brace pattern`);
  if (name.text === '') throw new AnalysisError('empty command name');
  // zsh expands a word starting with "=" to the path of that command (`=rm` → /usr/bin/rm).
  if (name.text.startsWith('=')) throw new AnalysisError(`the command name ${JSON.stringify(name.text)} starts with "="`);

  const argv = words.map((w) => w.text);
  parts.push({ protocol: 'ssh', kind: 'exec', command: argv.join(' '), argv });
  if (SFTP_SERVERS.has(basename(name.text))) parts.push(SFTP_PART);

  const inner = unwrap(words);
  if (!inner.ok) throw new AnalysisError(inner.error);
  for (const command of inner.commands) addCommand(command, depth + 1, parts);
  for (const script of inner.scripts) addScript(script, depth + 1, parts);
}

function addScript(script: string, depth: number, parts: SshPart[]): void {
  const parsed = parseCommandLine(script, depth);
  if (!parsed.ok) throw new AnalysisError(parsed.error);
  for (const command of parsed.commands) addCommand(command.words, depth, parts);
}

/** Analyses an SSH channel request into parts (or an error). */
export function analyseSsh(req: SshRequest): Command {
  if (req.kind === 'shell') return { parts: [SHELL_PART] };
  if (req.kind === 'sftp') return { parts: [SFTP_PART] };
  const line = req.command;
  if (line === undefined) return { parts: [], error: 'exec request without a command' };
  if (Buffer.byteLength(line) > MAX_COMMAND_LINE_BYTES) {
    return { parts: [], error: `command line longer than ${MAX_COMMAND_LINE_BYTES} bytes` };
  }
  const parts: SshPart[] = [];
  try {
    addScript(line, 0, parts);
  } catch (e) {
    if (e instanceof AnalysisError) return { parts: [], error: `unanalysable command line: ${e.message}` };
    throw e;
  }
  if (parts.length === 0) return { parts: [], error: 'unanalysable command line: no command to run' };
  return { parts };
}

/**
 * Whether a `commands` glob (`*` = any run of characters) matches an exec part. The pattern is matched against the
 * command (argv joined by single spaces) and, when argv[0] is a path, also against the command with argv[0] reduced
 * to its basename: `rm *` matches `/usr/bin/rm -rf /` too, while `/usr/bin/rm *` matches only that path.
 * Shell and SFTP parts never match a command pattern.
 */
export function matchCommandPattern(pattern: string, part: SshPart): boolean {
  if (part.kind !== 'exec' || part.command === undefined) return false;
  const matches = compileGlob(pattern);
  if (matches(part.command)) return true;
  const argv0 = part.argv?.[0];
  if (argv0 === undefined || !argv0.includes('/') || !part.command.startsWith(argv0)) return false;
  return matches(basename(argv0) + part.command.slice(argv0.length));
}
