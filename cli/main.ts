// kubectl-portcullis: the kubectl plugin. Each sub-command lives in its own module.
import { explainCommand } from './explain.ts';
import { tokenCommand } from './token.ts';
import { approvalsCommand, approveCommand, denyCommand } from './approve.ts';
import { replayCommand } from './replay.ts';

const usage = `kubectl-portcullis — Portcullis, a policy enforcement point for AI agents

Commands:
  explain     dry-run a command against policy files (offline)
  token       mint development tokens for the standalone sidecar
  approvals   list held commands waiting for a decision (--local: a standalone sidecar)
  approve     approve a held command
  deny        deny a held command
  replay      show recorded sessions (--local DIR: a standalone sidecar's records)

Run "kubectl-portcullis COMMAND --help" for a command's flags.`;

const commands: Record<string, (argv: readonly string[]) => Promise<number>> = {
  explain: (a) => explainCommand(a),
  token: (a) => tokenCommand(a),
  approvals: (a) => approvalsCommand(a),
  approve: (a) => approveCommand(a),
  deny: (a) => denyCommand(a),
  replay: (a) => replayCommand(a),
};

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(`${usage}\n`);
    return cmd === undefined ? 2 : 0;
  }
  const run = commands[cmd];
  if (!run) {
    process.stderr.write(`kubectl-portcullis: unknown command "${cmd}"\n${usage}\n`);
    return 2;
  }
  return run(rest);
}

process.exitCode = await main(process.argv.slice(2));
