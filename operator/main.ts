// portcullis-operator: controllers, admission webhooks and the sidecar API in one process (design §1). Every
// replica watches and serves; the Lease holder reconciles. `--local` runs it from a workstation against $KUBECONFIG
// with the listeners on loopback (the webhooks are then registered by URL).
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, usage, type OperatorConfig } from './config.ts';
import { kubeApiFromConfig } from './kube/rest.ts';
import { createOperatorMetrics } from './metrics.ts';
import { startOperator, type OperatorCaches } from './operator.ts';
import { listenTlsFromFiles } from './tls-listener.ts';
import { injectionDeps } from './injection-deps.ts';
import { injectorConfig, type SidecarConfig } from './webhooks/injector-config.ts';
import { webhookRouter } from './webhooks/routes.ts';
import type { Express } from 'express';
import type { Logger } from 'pino';

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
  if (!config.tlsCertFile || !config.tlsKeyFile) {
    process.stderr.write('portcullis-operator: --tls-cert and --tls-key are required (the serving certificate of the webhooks and the sidecar API)\n');
    return 2;
  }
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  const api = kubeApiFromConfig(kc);
  const metrics = createOperatorMetrics();
  const tlsFiles = { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile };

  const running = await startOperator({
    config,
    kc,
    api,
    log,
    metrics,
    listenTls: (app) => listenTlsFromFiles(app, tlsFiles, config.port, config.address, (err) => {
      if (err) log.error({ err: err.message }, 'serving certificate reload failed; keeping the previous one');
      else log.info('serving certificate reloaded');
    }),
    mountWebhooks: (app, caches) => mountWebhooks(app, caches, config, tlsFiles.certFile, log),
  });
  log.info({ port: running.tlsPort, metricsPort: running.metricsPort, lease: `${config.leaseNamespace}/${config.leaseName}` }, 'operator started');
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
  await running.stop();
  log.info('stopped');
  return 0;
}

function mountWebhooks(app: Express, caches: OperatorCaches, config: OperatorConfig, caFile: string, log: Logger): void {
  const injector = injectorConfig({
    operatorUrl: config.operatorUrl ?? `https://${config.local ? '127.0.0.1' : 'portcullis-operator.portcullis-system.svc'}:${config.port}`,
    // In local mode the serving certificate's issuer is what sidecars must trust; the chart passes the CA instead.
    operatorCa: () => readFileSync(process.env.PORTCULLIS_OPERATOR_CA_FILE ?? caFile, 'utf8'),
    operatorNamespace: config.leaseNamespace,
    sidecar: {
      ...(config.sidecarImage ? { image: config.sidecarImage } : {}),
      // Checked by injectorConfig, which refuses to start on a value the API server would reject.
      ...(config.sidecarResources ? { resources: config.sidecarResources as SidecarConfig['resources'] } : {}),
      ...(config.sidecarLogLevel ? { logLevel: config.sidecarLogLevel as SidecarConfig['logLevel'] } : {}),
    },
  });
  app.use(webhookRouter({
    injection: injectionDeps(caches.bundles, caches.resources),
    injector,
    policies: { resources: caches.resources, policies: caches.policies },
    approvals: { policies: caches.policies },
    onReview: (e) => {
      if (e.decision === 'error' || e.decision === 'bad-request') log.warn({ webhook: e.webhook, decision: e.decision, msg: e.message }, 'webhook request failed');
    },
  }));
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
