// A bare Node TCP proxy for the PostgreSQL benchmarks, in a process of its own like the sidecar:
//   node bench/node-pipe.ts UPSTREAM_PORT [--record FILE] [--work-us N]
// Prints its listening port on stdout. With no option it is the floor any Node proxy pays (read, write, nothing
// else). --record appends one line per agent read to FILE with a synchronous write before forwarding it (the cost
// of the sidecar's write-ahead record, without deciding anything). --work-us spins N µs of CPU on every read in
// either direction: a stand-in for per-message work, to show what each microsecond costs on this machine.
import { openSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const args = process.argv.slice(2);
const upstream = Number(args[0]);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const recordFile = option('--record');
const workNs = BigInt(Math.round(Number(option('--work-us') ?? 0) * 1000));
if (!Number.isInteger(upstream) || upstream <= 0) {
  console.error('usage: node-pipe.ts UPSTREAM_PORT [--record FILE] [--work-us N]');
  process.exit(2);
}

const fd = recordFile === undefined ? -1 : openSync(recordFile, 'a');
// About the size of the sidecar's record of a pgbench statement.
const line = Buffer.from(`${JSON.stringify({ type: 'command', command: 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;', action: 'allow', rule: 'reads', policy: 'bench', reasons: [], forwarded: true, session: 'bench', seq: 1, time: new Date().toISOString() })}\n`);

function work(): void {
  if (workNs === 0n) return;
  const until = process.hrtime.bigint() + workNs;
  while (process.hrtime.bigint() < until);
}

const server = createServer({ noDelay: true }, (agent) => {
  const server = connect({ host: '127.0.0.1', port: upstream, noDelay: true });
  agent.on('data', (chunk: Buffer) => {
    work();
    if (fd >= 0) writeSync(fd, line);
    if (!server.write(chunk)) agent.pause();
  });
  server.on('data', (chunk: Buffer) => {
    work();
    if (!agent.write(chunk)) server.pause();
  });
  server.on('drain', () => agent.resume());
  agent.on('drain', () => server.resume());
  agent.on('error', () => server.destroy());
  server.on('error', () => agent.destroy());
  agent.on('close', () => server.destroy());
  server.on('close', () => agent.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(typeof a === 'object' && a ? a.port : 0);
});
process.on('SIGTERM', () => process.exit(0));
