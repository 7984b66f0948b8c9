import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SshPart } from '../command.ts';
import { analyseSsh, matchCommandPattern, MAX_COMMAND_LINE_BYTES } from './command-line.ts';

/** An expected part: an exec argv, or the kind of a shell/sftp part. */
type Want = readonly string[] | 'sftp' | 'shell';

interface Case {
  readonly name: string;
  readonly line: string;
  /** The parts, in order. */
  readonly parts?: readonly Want[];
  /** A substring of the expected error. */
  readonly error?: string;
}

const cases: readonly Case[] = [
  // simple commands and lists
  { name: 'one command', line: 'ls -la /tmp', parts: [['ls', '-la', '/tmp']] },
  { name: 'blanks are collapsed', line: '  ls \t -la  ', parts: [['ls', '-la']] },
  { name: 'sequence', line: 'a; b', parts: [['a'], ['b']] },
  { name: 'no blank before ;', line: 'a;rm x', parts: [['a'], ['rm', 'x']] },
  { name: 'and / or', line: 'test -f x && cat x || echo none', parts: [['test', '-f', 'x'], ['cat', 'x'], ['echo', 'none']] },
  { name: 'pipeline', line: 'ps aux | grep ssh | wc -l', parts: [['ps', 'aux'], ['grep', 'ssh'], ['wc', '-l']] },
  { name: 'pipe of stderr (|&)', line: 'make |& tee log', parts: [['make'], ['tee', 'log']] },
  { name: 'background', line: 'sleep 1 & rm x', parts: [['sleep', '1'], ['rm', 'x']] },
  { name: 'newlines', line: 'a\nb\n\nc\n', parts: [['a'], ['b'], ['c']] },
  { name: 'line continuation', line: 'rm \\\n-rf x', parts: [['rm', '-rf', 'x']] },
  { name: 'continuation after &&', line: 'a &&\nrm x', parts: [['a'], ['rm', 'x']] },
  { name: 'comment', line: 'echo a # ; rm x', parts: [['echo', 'a']] },
  { name: 'comment after ; without blank', line: 'echo a;#rm x', parts: [['echo', 'a']] },
  { name: 'hash inside a word is not a comment', line: 'echo a#b; rm x', parts: [['echo', 'a#b'], ['rm', 'x']] },
  { name: 'negation', line: '! grep -q x f', parts: [['grep', '-q', 'x', 'f']] },
  // quoting and quote removal (bypass attempts)
  { name: "r''m", line: "r''m -rf /", parts: [['rm', '-rf', '/']] },
  { name: 'backslash-escaped name', line: '\\rm x', parts: [['rm', 'x']] },
  { name: 'double-quoted name', line: '"rm" x', parts: [['rm', 'x']] },
  { name: 'split quoting', line: 'r"m" -r\'f\' /', parts: [['rm', '-rf', '/']] },
  { name: 'ANSI-C quoted name', line: "$'\\x72m' -rf /", parts: [['rm', '-rf', '/']] },
  { name: 'ANSI-C octal and unicode', line: "$'\\162\\u006d' x", parts: [['rm', 'x']] },
  { name: 'locale quoting', line: '$"rm" x', parts: [['rm', 'x']] },
  { name: 'quoted operators are data', line: "echo 'a; rm x' \"| sh\" a\\;b", parts: [['echo', 'a; rm x', '| sh', 'a;b']] },
  { name: 'backslashes in double quotes', line: 'echo "a\\"b\\$c\\d"', parts: [['echo', 'a"b$c\\d']] },
  { name: 'empty argument', line: "printf '%s\\n' ''", parts: [['printf', '%s\\n', '']] },
  { name: 'quoted reserved word is a command', line: '"if" x', parts: [['if', 'x']] },
  // paths
  { name: 'absolute path', line: '/usr/bin/rm x', parts: [['/usr/bin/rm', 'x']] },
  { name: 'relative path', line: './deploy.sh --prod', parts: [['./deploy.sh', '--prod']] },
  // substitutions
  { name: '$(…) as the command name', line: '$(echo rm) x', error: 'is an expansion' },
  { name: 'backticks as the command name', line: '`echo rm` x', error: 'is an expansion' },
  { name: 'backticks run their command', line: 'echo `rm x`', parts: [['rm', 'x'], ['echo', '`rm x`']] },
  { name: '$(…) in an argument', line: 'echo $(rm x) y', parts: [['rm', 'x'], ['echo', '$(rm x)', 'y']] },
  { name: '$(…) inside double quotes', line: 'echo "a $(rm x) b"', parts: [['rm', 'x'], ['echo', 'a $(rm x) b']] },
  { name: 'backticks inside double quotes', line: 'echo "`rm x`"', parts: [['rm', 'x'], ['echo', '`rm x`']] },
  { name: 'nested backticks', line: 'echo `echo \\`rm x\\``', parts: [['rm', 'x'], ['echo', '`rm x`'], ['echo', '`echo \\`rm x\\``']] },
  { name: 'nested $(…)', line: 'echo $(cat $(rm x))', parts: [['rm', 'x'], ['cat', '$(rm x)'], ['echo', '$(cat $(rm x))']] },
  { name: '$(…) with a quoted )', line: 'echo $(echo ")"; rm x)', parts: [['echo', ')'], ['rm', 'x'], ['echo', '$(echo ")"; rm x)']] },
  { name: 'substitution inside an assignment', line: 'X=$(rm y)', parts: [['rm', 'y']] },
  { name: 'assignment before a command', line: 'LANG=C X="$(id)" sort f', parts: [['id'], ['sort', 'f']] },
  { name: 'substitution inside ${…}', line: 'echo ${x:-$(rm y)}', parts: [['rm', 'y'], ['echo', '${x:-$(rm y)}']] },
  { name: 'substitution in a redirection target', line: 'echo a > $(rm x)', parts: [['rm', 'x'], ['echo', 'a']] },
  { name: 'process substitution', line: 'diff <(ls a) >(rm b)', parts: [['ls', 'a'], ['rm', 'b'], ['diff', '<(ls a)', '>(rm b)']] },
  { name: 'variable as the command name', line: '$CMD x', error: 'is an expansion' },
  { name: '${…} as the command name', line: '${CMD} x', error: 'is an expansion' },
  { name: 'partly expanded command name', line: 'r$X x', error: 'is an expansion' },
  { name: 'variables in arguments are fine', line: 'echo "$HOME" $1 ${USER}', parts: [['echo', '$HOME', '$1', '${USER}']] },
  { name: 'constant arithmetic', line: 'echo $((1 + 2 * 3))', parts: [['echo', '$((1 + 2 * 3))']] },
  { name: 'arithmetic with names', line: 'echo $((x + 1))', error: 'arithmetic' },
  { name: 'arithmetic command', line: '((x++))', error: 'arithmetic' },
  { name: 'legacy arithmetic', line: 'echo $[a[$(rm x)]]', error: 'legacy arithmetic' },
  { name: 'prompt transformation', line: 'echo ${x@P}', error: 'transformations' },
  { name: 'zsh parameter flags', line: 'echo ${(e)x}', error: 'zsh' },
  { name: 'single quote in "${…}"', line: 'echo "${x:-\'}$(rm y)\'}"', error: 'single quote' },
  // compound commands
  { name: 'subshell and brace group', line: '( cd /tmp && rm x ) | { cat; }', parts: [['cd', '/tmp'], ['rm', 'x'], ['cat']] },
  { name: 'if / elif / else', line: 'if [ -f x ]; then rm x; elif true; then :; else echo no; fi', parts: [['[', '-f', 'x', ']'], ['rm', 'x'], ['true'], [':'], ['echo', 'no']] },
  { name: 'while loop with redirection', line: 'while read l; do echo "$l"; done < f', parts: [['read', 'l'], ['echo', '$l']] },
  { name: 'for loop', line: 'for f in *.log $(ls); do gzip "$f"; done', parts: [['ls'], ['gzip', '$f']] },
  { name: 'for loop over newlines', line: 'for f in a b\ndo\nrm $f\ndone', parts: [['rm', '$f']] },
  { name: 'case is refused', line: 'case $x in a) rm x;; esac', error: 'case' },
  { name: '[[ is refused', line: '[[ -f x && -d y ]]', error: '[[' },
  { name: 'function definition', line: 'f() { rm x; }; f', error: 'function' },
  { name: 'function keyword', line: 'function f { rm x; }', error: 'function' },
  { name: 'unbalanced fi', line: 'echo; fi', error: 'unbalanced' },
  { name: 'unterminated if', line: 'if true; then rm x', error: 'unterminated' },
  { name: 'unterminated brace group', line: '{ echo }', error: 'unterminated' },
  { name: 'word after a subshell', line: '(a) b', error: 'unexpected word' },
  // redirections and here-docs
  { name: 'redirections are not arguments', line: 'cmd 2>&1 >out <in >>log &>all 3<>rw', parts: [['cmd']] },
  { name: 'redirection before the command', line: '>out echo a', parts: [['echo', 'a']] },
  { name: 'redirection only', line: 'exec 3>file', parts: [['exec']] },
  { name: 'here-doc body is data', line: "cat <<'EOF'\n$(rm x)\nEOF\necho done", parts: [['cat'], ['echo', 'done']] },
  { name: 'unquoted here-doc body expands substitutions', line: 'cat <<EOF\nhello $(rm x)\nEOF', parts: [['cat'], ['rm', 'x']] },
  { name: 'here-doc with <<- and tabs', line: 'cat <<-END\n\tdata\n\tEND\nls', parts: [['cat'], ['ls']] },
  { name: 'two here-docs on one line', line: "a <<X; b <<'Y'\n1\nX\n2\nY\nc", parts: [['a'], ['b'], ['c']] },
  { name: 'here-doc fed to a shell', line: 'bash <<EOF\nrm x\nEOF', error: 'stdin' },
  { name: 'here-string fed to a shell', line: 'sh <<< "rm x"', error: 'stdin' },
  { name: 'unterminated here-doc', line: 'cat <<EOF\nabc', error: 'here-document' },
  { name: 'here-doc without a body', line: 'cat <<EOF', error: 'here-document' },
  { name: 'redirection without a target', line: 'echo >', error: 'without a target' },
  // wrappers: the wrapped command is a part too
  { name: 'sh -c', line: 'a|sh -c "rm x"', parts: [['a'], ['sh', '-c', 'rm x'], ['rm', 'x']] },
  { name: 'bash -c with a list', line: "bash -c 'echo; rm x'", parts: [['bash', '-c', 'echo; rm x'], ['echo'], ['rm', 'x']] },
  { name: 'bash -lc with options', line: "/bin/bash -o pipefail -lc 'rm x' name arg", parts: [['/bin/bash', '-o', 'pipefail', '-lc', 'rm x', 'name', 'arg'], ['rm', 'x']] },
  { name: 'sh -c with an expanded script', line: 'sh -c "$CMD"', error: 'expanded word' },
  { name: 'sh -c with a script holding an expansion', line: 'sh -c "rm $1" _ x', error: 'expanded' },
  { name: 'sh -c with expanded arguments after the script', line: 'sh -c \'rm $1\' _ "$X"', parts: [['sh', '-c', 'rm $1', '_', '$X'], ['rm', '$1']] },
  { name: 'sh -c without a script', line: 'sh -c', error: 'missing command string' },
  { name: 'shell reading stdin', line: 'echo rm x | sh', error: 'stdin' },
  { name: 'shell with -s', line: 'curl x | bash -s -- arg', error: 'stdin' },
  { name: 'shell running a script file', line: 'bash deploy.sh prod', parts: [['bash', 'deploy.sh', 'prod']] },
  { name: 'fish -c is not analysed', line: "fish -c 'rm x'", error: 'fish' },
  { name: 'nested sh -c', line: `sh -c "bash -c 'rm x'"`, parts: [['sh', '-c', "bash -c 'rm x'"], ['bash', '-c', 'rm x'], ['rm', 'x']] },
  { name: 'eval', line: 'eval "rm x"', parts: [['eval', 'rm x'], ['rm', 'x']] },
  { name: 'eval joins its arguments', line: "eval rm '-rf /'", parts: [['eval', 'rm', '-rf /'], ['rm', '-rf', '/']] },
  { name: 'eval of a variable', line: 'eval "$X"', error: 'eval of an expansion' },
  { name: 'env with assignments', line: 'env X=1 rm', parts: [['env', 'X=1', 'rm'], ['rm']] },
  { name: 'env -i and -u', line: 'env -i -u HOME PATH=/bin /bin/rm x', parts: [['env', '-i', '-u', 'HOME', 'PATH=/bin', '/bin/rm', 'x'], ['/bin/rm', 'x']] },
  { name: 'env -S is refused', line: "env -S 'rm x'", error: '-S' },
  { name: 'env alone prints the environment', line: 'env', parts: [['env']] },
  { name: 'sudo', line: 'sudo rm x', parts: [['sudo', 'rm', 'x'], ['rm', 'x']] },
  { name: 'sudo with options and --', line: 'sudo -u root -E -- rm x', parts: [['sudo', '-u', 'root', '-E', '--', 'rm', 'x'], ['rm', 'x']] },
  { name: 'sudo -s without a command', line: 'sudo -s', error: 'interactive shell' },
  { name: 'sudo with an unknown option', line: 'sudo -Z rm x', error: 'unknown option' },
  { name: 'sudo with an expanded option', line: 'sudo $OPTS rm x', error: 'expanded word' },
  { name: 'xargs', line: 'xargs rm', parts: [['xargs', 'rm'], ['rm']] },
  { name: 'xargs with options', line: 'find . -print0 | xargs -0 -n 10 -I{} rm -f {}', parts: [['find', '.', '-print0'], ['xargs', '-0', '-n', '10', '-I{}', 'rm', '-f', '{}'], ['rm', '-f', '{}']] },
  { name: 'xargs sh -c', line: "xargs sh -c 'rm \"$@\"' _", parts: [['xargs', 'sh', '-c', 'rm "$@"', '_'], ['sh', '-c', 'rm "$@"', '_'], ['rm', '$@']] },
  { name: 'find -exec', line: 'find . -exec rm {} \\;', parts: [['find', '.', '-exec', 'rm', '{}', ';'], ['rm', '{}']] },
  { name: 'find -execdir … +', line: "find . -name '*.tmp' -execdir rm -f {} + -print", parts: [['find', '.', '-name', '*.tmp', '-execdir', 'rm', '-f', '{}', '+', '-print'], ['rm', '-f', '{}']] },
  { name: 'find -exec without terminator', line: 'find . -exec rm {}', error: 'terminating' },
  { name: 'find -exec running the found file', line: 'find . -exec {} \\;', error: 'pattern' },
  { name: 'timeout, nice, nohup, stdbuf', line: 'nohup timeout -s KILL 5 nice -n 10 stdbuf -oL rm x', parts: [['nohup', 'timeout', '-s', 'KILL', '5', 'nice', '-n', '10', 'stdbuf', '-oL', 'rm', 'x'], ['timeout', '-s', 'KILL', '5', 'nice', '-n', '10', 'stdbuf', '-oL', 'rm', 'x'], ['nice', '-n', '10', 'stdbuf', '-oL', 'rm', 'x'], ['stdbuf', '-oL', 'rm', 'x'], ['rm', 'x']] },
  { name: 'nice -N', line: 'nice -5 rm x', parts: [['nice', '-5', 'rm', 'x'], ['rm', 'x']] },
  { name: 'time, command, exec, builtin', line: 'time command exec rm x', parts: [['time', 'command', 'exec', 'rm', 'x'], ['command', 'exec', 'rm', 'x'], ['exec', 'rm', 'x'], ['rm', 'x']] },
  { name: 'busybox applet', line: 'busybox rm x', parts: [['busybox', 'rm', 'x'], ['rm', 'x']] },
  { name: 'su -c', line: 'su - root -c "rm x"', parts: [['su', '-', 'root', '-c', 'rm x'], ['rm', 'x']] },
  { name: 'su without -c', line: 'su root', error: 'interactive shell' },
  { name: 'watch runs its words with sh -c', line: 'watch -n 1 "ls; rm x"', parts: [['watch', '-n', '1', 'ls; rm x'], ['ls'], ['rm', 'x']] },
  { name: 'trap action', line: 'trap "rm x" EXIT', parts: [['trap', 'rm x', 'EXIT'], ['rm', 'x']] },
  { name: 'trap reset', line: 'trap - EXIT', parts: [['trap', '-', 'EXIT']] },
  { name: 'alias definitions', line: 'alias ll="rm -rf"', error: 'alias' },
  { name: 'subscript evaluation', line: 'let \'a[$(rm x)]\'', error: 'subscripts' },
  { name: 'test -v subscript', line: "[ -v 'a[$(rm x)]' ]", error: 'subscripts' },
  { name: 'export of a real substitution is fine', line: 'export X="$(pwd)"', parts: [['pwd'], ['export', 'X=$(pwd)']] },
  // patterns in the command name
  { name: 'brace expansion as the command', line: '{rm,-rf,/}', error: 'pattern' },
  { name: 'glob as the command', line: '/bin/r? x', error: 'pattern' },
  { name: 'bracket glob as the command', line: '/bin/r[m] x', error: 'pattern' },
  { name: 'globs in arguments are fine', line: 'ls *.txt [ab]?', parts: [['ls', '*.txt', '[ab]?']] },
  { name: 'quoted glob in the command is literal', line: '"r*" x', parts: [['r*', 'x']] },
  { name: 'zsh =command', line: '=rm x', error: 'starts with "="' },
  { name: 'zsh =command behind sudo', line: 'sudo =rm x', error: 'starts with "="' },
  // sftp over exec
  { name: 'sftp-server over exec', line: '/usr/lib/openssh/sftp-server -e', parts: [['/usr/lib/openssh/sftp-server', '-e'], 'sftp'] },
  // malformed input
  { name: 'unterminated single quote', line: "echo 'abc", error: 'unterminated single quote' },
  { name: 'unterminated double quote', line: 'echo "abc', error: 'unterminated double quote' },
  { name: 'unterminated backtick', line: 'echo `rm x', error: 'unterminated backtick' },
  { name: 'unterminated $(', line: 'echo $(rm x', error: 'unterminated $(' },
  { name: 'unterminated ${', line: 'echo ${x', error: 'unterminated ${' },
  { name: "unterminated $'", line: "echo $'abc", error: "unterminated $'" },
  { name: 'trailing backslash', line: 'echo \\', error: 'backslash' },
  { name: 'NUL byte', line: 'echo a\0; rm x', error: 'NUL' },
  { name: "NUL in $'…'", line: "$'rm\\0' x", error: 'NUL' },
  { name: 'leading operator', line: '; rm x', error: 'without a command' },
  { name: 'double separator', line: 'a;;b', error: 'case' },
  { name: 'dangling pipe', line: 'ls |', error: 'incomplete' },
  { name: 'dangling &&', line: 'ls &&', error: 'incomplete' },
  { name: 'unbalanced )', line: 'ls )', error: 'unbalanced' },
  { name: 'empty command line', line: '   ', error: 'no command' },
  { name: 'only an assignment', line: 'X=1', error: 'no command' },
  { name: 'too long', line: `echo ${'a'.repeat(MAX_COMMAND_LINE_BYTES)}`, error: 'longer than' },
  { name: 'too deep ${…} nesting', line: `echo ${'${x:-'.repeat(5000)}${'}'.repeat(5000)}`, error: 'deeper' },
  { name: 'too many commands', line: 'ls;'.repeat(2000), error: 'more than' },
  { name: 'process substitution as a redirection target', line: 'echo hi > >(rm x)', parts: [['rm', 'x'], ['echo', 'hi']] },
  { name: 'partly quoted here-doc delimiter keeps the body literal', line: 'cat <<E"OF"\n$(rm x)\nEOF', parts: [['cat']] },
  { name: 'here-doc inside $(…)', line: 'echo $(cat <<EOF\n$(rm x)\nEOF\n)', parts: [['cat'], ['rm', 'x'], ['echo', '$(cat <<EOF\n$(rm x)\nEOF\n)']] },
  { name: 'redirection after a brace group', line: '{ rm x; } 2>/dev/null', parts: [['rm', 'x']] },
  { name: 'exec of a shell reading stdin', line: 'exec sh', error: 'stdin' },
  { name: 'escaped wrapper name', line: '\\s"ud"o rm x', parts: [['sudo', 'rm', 'x'], ['rm', 'x']] },
  { name: 'too deep', line: `${'echo $('.repeat(40)}x${')'.repeat(40)}`, error: 'deeper' },
];

function describePart(part: SshPart): Want {
  return part.kind === 'exec' ? (part.argv ?? []) : part.kind;
}

describe('analyseSsh: exec command lines', () => {
  for (const c of cases) {
    it(c.name, () => {
      const command = analyseSsh({ kind: 'exec', command: c.line });
      if (c.error !== undefined) {
        assert.ok(command.error?.includes(c.error), `error ${JSON.stringify(command.error)} should mention ${JSON.stringify(c.error)}`);
        assert.deepEqual(command.parts, []);
        return;
      }
      assert.equal(command.error, undefined);
      const parts = command.parts as readonly SshPart[];
      assert.deepEqual(parts.map(describePart), c.parts);
      for (const part of parts) {
        if (part.kind === 'exec') assert.equal(part.command, part.argv?.join(' '));
      }
    });
  }
});

describe('analyseSsh: sessions', () => {
  it('an interactive shell is one shell part', () => assert.deepEqual(analyseSsh({ kind: 'shell' }).parts, [{ protocol: 'ssh', kind: 'shell' }]));
  it('the sftp subsystem is one sftp part', () => assert.deepEqual(analyseSsh({ kind: 'sftp', command: 'rm x' }).parts, [{ protocol: 'ssh', kind: 'sftp' }]));
  it('exec without a command is an error', () => assert.ok(analyseSsh({ kind: 'exec' }).error?.includes('without a command')));
  it('a part carries command and argv', () =>
    assert.deepEqual(analyseSsh({ kind: 'exec', command: "git  commit -m 'a b'" }).parts, [
      { protocol: 'ssh', kind: 'exec', command: 'git commit -m a b', argv: ['git', 'commit', '-m', 'a b'] },
    ]));
});

describe('matchCommandPattern', () => {
  const exec = (argv: string[]): SshPart => ({ protocol: 'ssh', kind: 'exec', command: argv.join(' '), argv });
  const table: readonly [string, SshPart, boolean][] = [
    ['rm *', exec(['rm', '-rf', '/']), true],
    ['rm *', exec(['/bin/rm', '-rf', '/']), true],
    ['rm *', exec(['/usr/bin/rm', 'x']), true],
    ['/usr/bin/rm *', exec(['/usr/bin/rm', 'x']), true],
    ['/usr/bin/rm *', exec(['rm', 'x']), false],
    ['rm *', exec(['rmdir', 'x']), false],
    ['rm *', exec(['rm']), false],
    ['rm*', exec(['rm']), true],
    ['rm*', exec(['rmdir', 'x']), true],
    ['shutdown*', exec(['shutdown', '-h', 'now']), true],
    ['shutdown*', exec(['/sbin/shutdown', '-h', 'now']), true],
    ['git push *', exec(['git', 'push', 'origin', 'main']), true],
    ['git push *', exec(['git', 'pull']), false],
    ['*', exec(['anything']), true],
    ['ls', exec(['ls']), true],
    ['ls', exec(['ls', '-l']), false],
    ['*', { protocol: 'ssh', kind: 'shell' }, false],
    ['*', { protocol: 'ssh', kind: 'sftp' }, false],
  ];
  for (const [pattern, part, want] of table) {
    it(`${pattern} vs ${part.command ?? part.kind} → ${want}`, () => assert.equal(matchCommandPattern(pattern, part), want));
  }

  it('every part of a bypass attempt is checked', () => {
    for (const line of ["r''m -rf /", '\\rm -rf /', 'a;rm -rf /', 'a|sh -c "rm -rf /"', "bash -c 'echo; rm -rf /'", 'sudo rm -rf /', 'env X=1 rm -rf /', 'xargs rm -rf /', 'find / -exec rm -rf {} \\;', '/usr/bin/rm -rf /', 'echo $(rm -rf /)']) {
      const parts = analyseSsh({ kind: 'exec', command: line }).parts as readonly SshPart[];
      assert.ok(parts.some((p) => matchCommandPattern('rm *', p)), line);
    }
  });
});
