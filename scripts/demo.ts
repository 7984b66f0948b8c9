// make demo: a throwaway PostgreSQL with a small shop database, the sidecar in standalone mode with an example
// policy, and a scripted agent session through the real psql client — an allowed query, a masked card number, a
// denied DROP DATABASE, a held write approved by a person — then the session's record.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startPostgres, freePort } from '../e2e/lib/postgres.ts';
import { createShop, shopManifests } from '../e2e/lib/shop-fixture.ts';
import { startSidecar, repoRoot } from '../e2e/lib/sidecar.ts';
import { psql, psqlAsync } from '../e2e/lib/pg-clients.ts';
import { listApprovals } from '../sidecar/admin/client.ts';

const tty = process.stdout.isTTY;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const step = (title: string) => console.log(`\n${bold(`▶ ${title}`)}`);
const plugin = join(repoRoot, 'bin/kubectl-portcullis');

function show(sql: string, r: { stdout: string; stderr: string }): void {
  console.log(dim(`agent$ psql -c ${JSON.stringify(sql)}`));
  if (r.stdout.trim()) console.log(r.stdout.replace(/\n+$/, ''));
  if (r.stderr.trim()) console.log(r.stderr.replace(/\n+$/, ''));
}

step('Starting a throwaway PostgreSQL with a shop database (customers with card numbers, orders, a vault schema)');
const pg = await startPostgres();
let exitCode = 0;
try {
  createShop(pg);
  console.log(`PostgreSQL on 127.0.0.1:${pg.port}; the agent role's password lives only in the sidecar's Secret`);

  step('Starting the sidecar in standalone mode with the support-agent policy');
  const port = await freePort();
  const sc = await startSidecar(shopManifests({ port, pg, approvalTimeout: '2m' }));
  try {
    console.log(`sidecar listening on 127.0.0.1:${port}; policy files in ${sc.policyDir}; records in ${sc.records}`);
    const token = await sc.token('support-agent-7', { groups: ['agents'] });
    console.log(dim(`agent token: a 10-minute JWT for subject support-agent-7 (kubectl-portcullis token mint), sent as the password`));

    step('1. An allowed read');
    const q1 = 'SELECT status, count(*), sum(total) FROM orders GROUP BY status ORDER BY status';
    show(q1, psql(port, token, q1, { pretty: true }));

    step('2. Sensitive columns come back masked (card numbers keep their last four digits, e-mails are redacted)');
    const q2 = 'SELECT id, name, email, card_number FROM customers ORDER BY id';
    show(q2, psql(port, token, q2, { pretty: true }));

    step('3. A destructive statement is denied before any byte of it reaches the server');
    const q3 = 'DROP DATABASE shop';
    show(q3, psql(port, token, q3, { pretty: true }));

    step('4. A write to orders is held until a person approves it');
    const q4 = "UPDATE orders SET status = 'refunded' WHERE id = 7";
    const pending = psqlAsync(port, token, q4);
    const endpoint = { url: sc.admin.url, token: sc.admin.token };
    let id: string | undefined;
    for (let i = 0; i < 200 && id === undefined; i++) {
      id = (await listApprovals(endpoint, { phase: 'Pending' }))[0]?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    if (id === undefined) throw new Error('the held statement did not show up as a pending approval');
    console.log(dim(`sre$ kubectl portcullis approvals --local --records ${sc.records}`));
    spawnSync(plugin, ['approvals', '--local', '--records', sc.records], { stdio: 'inherit' });
    console.log(dim(`sre$ kubectl portcullis approve --local ${id} --as alice --as-group sre --reason "customer refund #7"`));
    spawnSync(plugin, ['approve', '--local', id, '--as', 'alice', '--as-group', 'sre', '--reason', 'customer refund #7', '--records', sc.records], { stdio: 'inherit' });
    show(q4, await pending);
    console.log(`order 7 on the server is now: ${pg.psql('SELECT status FROM orders WHERE id = 7', { database: 'shop' }).trim()}`);
  } finally {
    await sc.stop();
    step("The session's record (kubectl portcullis replay --local)");
    const r = spawnSync(plugin, ['replay', '--local', sc.records], { encoding: 'utf8' });
    process.stdout.write(r.stdout);
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      exitCode = 1;
    }
  }
} catch (e) {
  console.error(`demo failed: ${(e as Error).message}`);
  exitCode = 1;
} finally {
  pg.stop();
}
console.log(`\n${bold('Done.')} Try your own: kubectl portcullis explain -f examples/policies --resource orders-db --sql "…"  (see README)`);
process.exitCode = exitCode;
