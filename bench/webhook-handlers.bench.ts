// The webhook handlers without a cluster: the decision functions alone (µs per review), then the whole HTTPS path
// (express router, TLS, JSON) in one process, at 1 and at 25 reviews in flight. Separates our cost from the API
// server's and the machine's; bench/webhook-latency.bench.ts measures the real path.
// Run: node bench/webhook-handlers.bench.ts   (BENCH_REVIEWS=N, default 5000)
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createTlsServer } from '../operator/certs/tls-server.ts';
import { localCertSource } from '../operator/certs/source.ts';
import { mutatePod } from '../operator/webhooks/inject.ts';
import { webhookRouter } from '../operator/webhooks/routes.ts';
import { agentPod, applyPatch, fakeDeps, patchOf, podRequest, serverDefaulted, testConfig } from '../operator/webhooks/testing.ts';
import { validatePod } from '../operator/webhooks/validate-pod.ts';

const N = Number(process.env.BENCH_REVIEWS ?? 5000);
const config = testConfig();
const deps = fakeDeps();
const fresh = podRequest(agentPod());
const injected = podRequest(serverDefaulted(applyPatch(agentPod(), patchOf(mutatePod(fresh, deps, config)))));

function perOp(name: string, fn: () => unknown): void {
  for (let i = 0; i < 1000; i++) fn();
  const t = performance.now();
  for (let i = 0; i < N; i++) fn();
  console.log(`  ${name.padEnd(34)} ${(((performance.now() - t) * 1000) / N).toFixed(1)} µs/review`);
}

console.log(`decision functions (${N} reviews each)`);
perOp('mutatePod (inject)', () => mutatePod(fresh, deps, config));
perOp('mutatePod (already injected)', () => mutatePod(injected, deps, config));
perOp('validatePod CREATE (injected)', () => validatePod(injected, deps, config));

const source = localCertSource();
const app = express();
app.use(webhookRouter({ injection: deps, injector: config, policies: { resources: { list: () => [] }, policies: { list: () => [] } }, approvals: { policies: { get: () => undefined } } }));
const server = createTlsServer(app, source);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: fresh });

async function roundTrips(concurrency: number): Promise<void> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: source.current().ca });
  const call = () => new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate-pods', method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  for (let i = 0; i < 200; i++) await call();
  const ms: number[] = [];
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < N) ms.push(await call());
  }));
  const wall = performance.now() - t;
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]!.toFixed(2);
  console.log(`  ${String(concurrency).padStart(2)} in flight: p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  (${Math.round((ms.length / wall) * 1000)} reviews/s)`);
  agent.destroy();
}

console.log(`HTTPS /mutate-pods round trip, in process (${N} reviews)`);
await roundTrips(1);
await roundTrips(25);
server.close();
source.close();
