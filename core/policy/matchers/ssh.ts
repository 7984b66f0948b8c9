// SSH rule matching: `commands` globs against each exec part; `interactiveShell` / `sftp` against the session kind.
import type { SshPart } from '../../analysis/command.ts';
import { matchCommandPattern } from '../../analysis/ssh/command-line.ts';
import type { SshMatch } from '../bundle.ts';

export type SshPartMatcher = (part: SshPart) => boolean;

export function compileSshMatcher(m: SshMatch): SshPartMatcher {
  const tests: SshPartMatcher[] = [];
  if (m.commands) {
    const patterns = m.commands;
    tests.push((p) => p.kind === 'exec' && patterns.some((pat) => matchCommandPattern(pat, p)));
  }
  if (m.interactiveShell !== undefined) {
    const want = m.interactiveShell;
    tests.push((p) => (p.kind === 'shell') === want);
  }
  if (m.sftp !== undefined) {
    const want = m.sftp;
    tests.push((p) => (p.kind === 'sftp') === want);
  }
  return (p) => {
    for (const t of tests) if (!t(p)) return false;
    return true;
  };
}
