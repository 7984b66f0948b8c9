// kubectl-portcullis: the kubectl plugin. Each sub-command lives in its own module.
import { explainCommand } from './explain.ts';
import { tokenCommand } from './token.ts';

const usage = `kubectl-portcullis — Portcullis, a policy enforcement point for AI agents

Commands:
  explain   dry-run a command against policy files (offline)
  token     mint development tokens for the standalone sidecar

Run "kubectl-portcullis COMMAND --help" for a command's flags.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'explain':
      return explainCommand(rest);
    case 'token':
      return tokenCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`kubectl-portcullis: unknown command "${cmd}"\n${usage}\n`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
