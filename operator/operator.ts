// The operator process assembled: informers → bundle cache → (leader only) controllers; the sidecar API and the
// admission webhooks on one HTTPS listener; health and metrics on a plain one. Every replica runs the informers,
// compiles bundles and serves; only the Lease holder reconciles and writes status and events.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AgentPolicy, ProtectedResource } from '../core/api/index.ts';
import { BundleCache } from './bundles.ts';
import type { OperatorConfig } from './config.ts';
import { AgentPolicyReconciler } from './controller/agent-policy.ts';
import { Controller } from './controller/controller.ts';
import { Informer, podMetaOf, secretKeysOf } from './controller/informer.ts';
import { JwksRefresher } from './controller/jwks.ts';
import { LeaderElector } from './controller/leader.ts';
import { ProtectedResourceReconciler } from './controller/protected-resource.ts';
import { keyOf, type PodMeta, type SecretKeys } from './controller/types.ts';
import { EventRecorder } from './kube/events.ts';
import { corePath, customPath, PLURAL } from './kube/paths.ts';
import type { KubeApi } from './kube/rest.ts';
import { kubeStatusWriter } from './kube/status-writer.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';
import { sidecarApiRouter } from './sidecar-api/routes.ts';
import { TokenReviewer } from './sidecar-api/token-review.ts';

export interface OperatorDeps {
  readonly config: OperatorConfig;
  readonly kc: KubeConfig;
  readonly api: KubeApi;
  readonly log: Logger;
  /** Serves the app over TLS on config.port; returns the bound port and a close function. */
  readonly listenTls: (app: Express) => Promise<{ port: number; close(): Promise<void> }>;
  /** Mounts the admission webhooks (the webhooks module) on the app, given the operator's caches. */
  readonly mountWebhooks?: (app: Express, caches: OperatorCaches) => void;
  readonly metrics?: OperatorMetrics;
}

export interface OperatorCaches {
  readonly policies: Informer<AgentPolicy>;
  readonly resources: Informer<ProtectedResource>;
  readonly secrets: Informer<SecretKeys>;
  readonly pods: Informer<PodMeta>;
  readonly bundles: BundleCache;
}

export interface RunningOperator {
  readonly caches: OperatorCaches;
  readonly elector: LeaderElector;
  readonly tlsPort: number;
  readonly metricsPort: number;
  readonly metrics: OperatorMetrics;
  ready(): boolean;
  stop(): Promise<void>;
}

const RESYNC_MS = 5 * 60_000;

export async function startOperator(deps: OperatorDeps): Promise<RunningOperator> {
  const { config, kc, api, log } = deps;
  const metrics = deps.metrics ?? createOperatorMetrics();
  const scopes = config.namespaces.length > 0 ? config.namespaces : [''];
  const onError = (kind: string) => (path: string, err: unknown) =>
    log.warn({ kind, path, err: (err as Error)?.message ?? String(err) }, 'watch failed; restarting');

  const resources = new Informer<ProtectedResource>({ kc, api, paths: scopes.map((ns) => customPath(PLURAL.protectedResources, ns)), onError: onError('ProtectedResource') });
  const policies = new Informer<AgentPolicy>({ kc, api, paths: scopes.map((ns) => customPath(PLURAL.agentPolicies, ns)), onError: onError('AgentPolicy') });
  const secrets = new Informer<SecretKeys>({ kc, api, paths: scopes.map((ns) => corePath('secrets', ns)), transform: secretKeysOf, onError: onError('Secret') });
  const pods = new Informer<PodMeta>({ kc, api, paths: scopes.map((ns) => corePath('pods', ns)), transform: podMetaOf as (raw: unknown) => PodMeta, onError: onError('Pod') });
  const bundles = new BundleCache({ policies, resources, pods });
  const caches: OperatorCaches = { policies, resources, secrets, pods, bundles };

  const events = new EventRecorder({ api, component: 'portcullis-operator', instance: config.identity, onError: (e) => log.warn({ err: e.message }, 'event not recorded') });
  const status = kubeStatusWriter(api, `portcullis-operator-${config.identity}`.slice(0, 128));
  const jwks = new JwksRefresher({
    api,
    intervalMs: config.jwksRefreshMs,
    onKeys: (k) => {
      metrics.jwksRefreshes.inc({ result: 'changed' });
      log.info({ issuer: k.issuer, keys: k.jwks.keys.length }, 'cluster issuer keys loaded');
      bundles.setJwks({ [k.issuer]: k.jwks });
      policyController.resync();
    },
    onError: (e) => {
      metrics.jwksRefreshes.inc({ result: 'error' });
      log.warn({ err: e.message }, 'cannot fetch the cluster issuer keys; keeping the last ones');
    },
  });

  const prController = new Controller({
    name: 'protectedresource',
    log,
    metrics,
    workers: config.workers,
    keys: () => resources.list().map(keyOf),
    reconciler: new ProtectedResourceReconciler({ resources, secrets, status, events }),
  });
  const policyController = new Controller({
    name: 'agentpolicy',
    log,
    metrics,
    workers: config.workers,
    keys: () => policies.list().map(keyOf),
    reconciler: new AgentPolicyReconciler({ policies, resources, secrets, pods, bundles, status, events, clusterIssuer: () => jwks.current?.issuer }),
  });
  const policiesOf = (namespace: string) => {
    for (const p of policies.list(namespace)) policyController.enqueue(keyOf(p));
  };

  // Informer events: every change can change a bundle (touch), and is routed to the objects whose status it affects.
  resources.on((_e, pr) => {
    bundles.touch();
    prController.enqueue(keyOf(pr));
    policiesOf(pr.metadata.namespace ?? '');
  });
  policies.on((_e, p) => {
    bundles.touch();
    // Every policy of the namespace: the sets a pod falls into, and so combined compile results, may have changed.
    policiesOf(p.metadata.namespace ?? '');
  });
  secrets.on((_e, s) => {
    const ns = s.metadata.namespace ?? '';
    let referenced = false;
    for (const pr of resources.list(ns)) {
      if (pr.spec?.credentials?.secretRef?.name === s.metadata.name || pr.spec?.endpoint?.tls?.caSecretRef?.name === s.metadata.name) {
        referenced = true;
        prController.enqueue(keyOf(pr));
      }
    }
    if (referenced) policiesOf(ns);
  });
  pods.on((_e, p) => {
    bundles.touch();
    policiesOf(p.metadata.namespace ?? '');
  });

  const elector = new LeaderElector({
    api,
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: Math.round(config.leaseDurationMs * (2 / 3)),
    retryPeriodMs: Math.max(500, Math.round(config.leaseDurationMs * (2 / 15))),
    onStartedLeading: () => {
      log.info('became the leader: reconciling');
      metrics.leader.set(1);
      prController.start();
      policyController.start();
    },
    onStoppedLeading: () => {
      log.info('no longer the leader: stopping reconciles');
      metrics.leader.set(0);
      void prController.stop();
      void policyController.stop();
    },
    onNewLeader: (id) => log.info({ leader: id }, 'leader observed'),
    onError: (e) => log.warn({ err: e.message }, 'leader election attempt failed'),
  });

  // Health first, so a liveness probe sees the process while the caches fill (a missing CRD keeps them empty).
  let ready = false;
  const health = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (path === '/readyz') {
      const ok = ready && resources.synced && policies.synced && secrets.synced && pods.synced;
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'caches not synced');
    }
    if (path === '/metrics') {
      void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(config.metricsPort, config.metricsAddress, () => resolve());
  });
  const metricsPort = (health.address() as AddressInfo).port;

  // Caches first: a leader must not reconcile from empty caches (it would see "no Secret" everywhere).
  await Promise.all([resources.start(), policies.start(), secrets.start(), pods.start()]);
  await Promise.all([resources.waitForSync(), policies.waitForSync(), secrets.waitForSync(), pods.waitForSync()]);
  await jwks.start();
  log.info({ namespaces: config.namespaces.length ? config.namespaces : 'all' }, 'caches synced');

  ready = true;
  const reviewer = new TokenReviewer({ api, onReview: (r) => metrics.tokenReviews.inc({ result: r }) });
  const sidecarRouter = sidecarApiRouter({
    bundles,
    pods,
    review: (t) => reviewer.review(t),
    ready: () => ready,
    ...(config.namespaces.length ? { namespaces: new Set(config.namespaces) } : {}),
    metrics,
    log,
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(sidecarRouter);
  deps.mountWebhooks?.(app, caches);
  const tls = await deps.listenTls(app);


  elector.start();
  const resync = setInterval(() => {
    prController.resync();
    policyController.resync();
    bundles.prune();
  }, RESYNC_MS);
  resync.unref();
  let lastCompiles = 0;
  const compileGauge = setInterval(() => {
    metrics.bundleCompiles.inc(bundles.compiles - lastCompiles);
    lastCompiles = bundles.compiles;
  }, 5000);
  compileGauge.unref();

  return {
    caches,
    elector,
    tlsPort: tls.port,
    metricsPort,
    metrics,
    ready: () => ready,
    async stop() {
      ready = false;
      clearInterval(resync);
      clearInterval(compileGauge);
      // Finish the running reconciles before the Lease is released, so a successor never overlaps with us.
      await Promise.all([prController.stop(), policyController.stop()]);
      await elector.stop();
      sidecarRouter.close();
      jwks.stop();
      await events.flush();
      await tls.close();
      await new Promise<void>((r) => health.close(() => r()));
      await Promise.all([resources.stop(), policies.stop(), secrets.stop(), pods.stop()]);
    },
  };
}
