// The explain demo: the example policies of the API contract against a batch of agent commands, each shown with
// the decision and the rule, policy and reasons behind it. Same code path as `kubectl-portcullis explain --batch`.
import { readFileSync } from 'node:fs';
import { loadManifests } from '../core/manifests/load.ts';
import { offlineBundle } from '../core/manifests/offline-bundle.ts';
import { createEngine } from '../core/policy/engine.ts';
import { initPostgresParser } from '../core/analysis/postgres/analyse.ts';
import { analyseRequest, type ExplainRequest } from '../cli/explain.ts';

const [policies = 'examples/policies', requests = 'examples/requests.jsonl'] = process.argv.slice(2);
await initPostgresParser();
const engine = createEngine(offlineBundle(loadManifests([policies])).bundle);
const tty = process.stdout.isTTY;
const paint = (code: string, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const colour = { allow: '32', deny: '31', approve: '33' } as const;

console.log(`Policies: ${engine.bundle.key.join(', ')} (bundle ${engine.bundle.hash.slice(0, 12)})\n`);
for (const line of readFileSync(requests, 'utf8').split('\n').filter((l) => l.trim())) {
  const req = JSON.parse(line) as ExplainRequest;
  const d = engine.decide(req.resource, analyseRequest(engine, req));
  const what = req.sql ?? (req.k8s ? `${req.k8s.method} ${req.k8s.path}${req.k8s.headers ? ` ${JSON.stringify(req.k8s.headers)}` : ''}` : JSON.stringify(req));
  const label = d.action === 'approve' ? 'HOLD ' : d.action.toUpperCase().padEnd(5);
  console.log(`${paint(colour[d.action], label)} ${req.resource}: ${what}`);
  console.log(`      ${d.rule ? `rule ${d.rule} (${d.policy})` : 'no rule'}${d.message ? ` — ${d.message}` : ''}`);
  for (const r of d.reasons) console.log(`      · ${r}`);
}
