// portcullis-operator: controllers, admission webhooks and the sidecar API in one process (design §1). Every
// replica watches and serves; the Lease holder reconciles. `--local` runs it from a workstation against $KUBECONFIG
// with the listeners on loopback and the webhooks registered by URL (`make operator-local`).
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import { applyCrds } from './apply-crds.ts';
import { certSourceFor } from './cert-setup.ts';
import type { CertSource } from './certs/source.ts';
import { createTlsServer } from './certs/tls-server.ts';
import { ConfigError, parseConfig, usage, type OperatorConfig } from './config.ts';
import { injectionDeps } from './injection-deps.ts';
import { kubeApiFromConfig } from './kube/rest.ts';
import { createOperatorMetrics } from './metrics.ts';
import { startOperator, type OperatorCaches } from './operator.ts';
import { registerLocalWebhooks } from './webhooks/configurations.ts';
import { injectorConfig, type SidecarConfig } from './webhooks/injector-config.ts';
import { webhookMetrics } from './webhooks/metrics.ts';
import { webhookRouter } from './webhooks/routes.ts';
import type { OperatorMetrics } from './metrics.ts';

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let config: OperatorConfig;
  try {
    const parsed = parseConfig(argv, env);
    if (parsed === 'help') {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    config = parsed;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`portcullis-operator: ${e.message}\n${usage}\n`);
    return 2;
  }
  const log = pino({ level: config.logLevel, base: { component: 'portcullis-operator', identity: config.identity } });
  try {
    return await run(config, log);
  } catch (e) {
    // Start-up failures (no cluster, a bad kubeconfig, a refused sidecar setting) end the process with one clear line.
    log.fatal({ err: (e as Error).message }, 'cannot start');
    process.stderr.write(`portcullis-operator: ${(e as Error).message}\n`);
    return 1;
  }
}

async function run(config: OperatorConfig, log: Logger): Promise<number> {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  const api = kubeApiFromConfig(kc);
  const metrics = createOperatorMetrics();
  if (config.applyCrds) log.info({ crds: await applyCrds(api) }, 'CRDs applied');
  const certs = await certSourceFor(config, api, log);
  // Checked before anything starts: a bad sidecar setting must stop the operator, not produce unadmittable pods.
  const injector = buildInjectorConfig(config, certs);

  const running = await startOperator({
    config,
    kc,
    api,
    log,
    metrics,
    listenTls: (app) => listenTls(app, certs, config, log),
    mountWebhooks: (app, caches) => mountWebhooks(app, caches, injector, metrics, log),
  });
  let unregister: (() => Promise<void>) | undefined;
  if (config.registerWebhooks) {
    // Scoped to the watched namespaces: elsewhere the caches are empty and would judge wrongly.
    unregister = await registerLocalWebhooks(kc, running.tlsPort, certs.current().ca, { name: config.webhookConfiguration, operatorNamespace: config.operatorNamespace, ...(config.namespaces.length ? { namespaces: config.namespaces } : {}) });
    log.info({ configuration: config.webhookConfiguration, port: running.tlsPort }, 'webhooks registered by URL on loopback');
  }
  log.info({ port: running.tlsPort, metricsPort: running.metricsPort, lease: `${config.leaseNamespace}/${config.leaseName}`, certMode: config.certMode }, 'operator started');
  // One machine-readable line for scripts and e2e suites that start the operator as a child process.
  process.stdout.write(`${JSON.stringify({ event: 'ready', identity: config.identity, port: running.tlsPort, metricsPort: running.metricsPort })}\n`);

  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      done();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Webhooks first: with failurePolicy Fail, a registration pointing at a stopped process would block pod creation.
  await unregister?.().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'could not remove the webhook registration'));
  await running.stop();
  certs.close();
  log.info('stopped');
  return 0;
}

function buildInjectorConfig(config: OperatorConfig, certs: CertSource) {
  return injectorConfig({
    operatorUrl: config.operatorUrl ?? (config.local
      ? `https://127.0.0.1:${config.port}`
      : `https://${config.serviceName}.${config.operatorNamespace}.svc:${config.port}`),
    operatorCa: () => certs.current().ca,
    operatorNamespace: config.operatorNamespace,
    sidecar: {
      ...(config.sidecarImage ? { image: config.sidecarImage } : {}),
      // Checked by injectorConfig, which refuses to start on a value the API server would reject.
      ...(config.sidecarResources ? { resources: config.sidecarResources as SidecarConfig['resources'] } : {}),
      ...(config.sidecarLogLevel ? { logLevel: config.sidecarLogLevel as SidecarConfig['logLevel'] } : {}),
      ...(config.sidecarImagePullPolicy ? { imagePullPolicy: config.sidecarImagePullPolicy as SidecarConfig['imagePullPolicy'] } : {}),
      ...(config.sidecarUid !== undefined ? { uid: config.sidecarUid } : {}),
      ...(config.sidecarAdminPort !== undefined ? { adminPort: config.sidecarAdminPort } : {}),
      ...(config.sidecarWalSizeLimit ? { walSizeLimit: config.sidecarWalSizeLimit } : {}),
    },
  });
}

async function listenTls(app: Express, certs: CertSource, config: OperatorConfig, log: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const server = createTlsServer(app, certs, { onSwapError: (e) => log.error({ err: e.message }, 'rotated certificate not loaded; keeping the previous one') });
  // Long polls hold requests for up to a minute; the defaults would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeIdleConnections();
      server.close(() => resolve());
      // Sidecars in a long poll were answered when the router closed; cut whatever is left.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    }),
  };
}

function mountWebhooks(app: Express, caches: OperatorCaches, injector: ReturnType<typeof injectorConfig>, metrics: OperatorMetrics, log: Logger): void {
  const observe = webhookMetrics(metrics.registry);
  app.use(webhookRouter({
    injection: injectionDeps(caches.bundles, caches.resources),
    injector,
    policies: { resources: caches.resources, policies: caches.policies },
    approvals: { policies: caches.policies },
    onReview: (e) => {
      observe(e);
      if (e.decision === 'error' || e.decision === 'bad-request') log.warn({ webhook: e.webhook, decision: e.decision, msg: e.message }, 'webhook request failed');
    },
  }));
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
