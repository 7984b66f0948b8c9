// The operator's configuration from flags, falling back to PORTCULLIS_* environment variables (which the Helm chart
// sets from its values), falling back to defaults. Pure: argv and env in, a checked config or an error out.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseDuration } from '../core/util/duration.ts';

export interface OperatorConfig {
  /** Namespaces watched and served; empty: all. */
  readonly namespaces: readonly string[];
  /** HTTPS listener: admission webhooks and the sidecar API. */
  readonly port: number;
  readonly address: string;
  /** Plain HTTP listener: /healthz, /readyz, /metrics. */
  readonly metricsPort: number;
  readonly metricsAddress: string;
  /** Local mode: webhooks registered by URL on 127.0.0.1, listeners on loopback. */
  readonly local: boolean;
  readonly kubeconfig: string | undefined;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly leaseDurationMs: number;
  readonly identity: string;
  /**
   * Where the serving certificate comes from: `files` (--tls-cert/--tls-key, reloaded when they change), `local`
   * (a throwaway CA in memory; the default with --local), `self-managed` (CA + certificate in a Secret, rotated, the
   * CA bundle patched into the webhook configurations; the default in a cluster), `cert-manager` (its Secret).
   */
  readonly certMode: 'files' | 'local' | 'self-managed' | 'cert-manager';
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** PEM CA that verifies --tls-cert (what sidecars and the API server must trust); default the certificate itself. */
  readonly tlsCaFile: string | undefined;
  /** The Secret holding the serving certificate (self-managed, cert-manager). */
  readonly certSecret: string;
  /** The operator's Service (its DNS names go into the self-managed certificate). */
  readonly serviceName: string;
  /** The operator's namespace: its pods are never injected; its Secret and Service live there. */
  readonly operatorNamespace: string;
  /** Name of the Mutating/ValidatingWebhookConfiguration. */
  readonly webhookConfiguration: string;
  /** --local: apply crds/ before starting (default true with --local). */
  readonly applyCrds: boolean;
  /** --local: register the webhooks by URL on start and remove them on stop (default true with --local). */
  readonly registerWebhooks: boolean;
  /** The sidecar API as sidecars reach it (goes into injected pods). */
  readonly operatorUrl: string | undefined;
  readonly sidecarImage: string | undefined;
  /** JSON: {"requests": {"cpu": "50m"}, "limits": {...}} */
  readonly sidecarResources: Record<string, Record<string, string>> | undefined;
  readonly sidecarLogLevel: string | undefined;
  readonly sidecarImagePullPolicy: string | undefined;
  readonly sidecarUid: number | undefined;
  readonly sidecarAdminPort: number | undefined;
  readonly sidecarWalSizeLimit: string | undefined;
  readonly logLevel: string;
  readonly workers: number;
  readonly jwksRefreshMs: number;
}

export const usage = `Usage: portcullis-operator [--local] [--namespaces a,b] [--port 8443] [--metrics-port 8080]
                          [--kubeconfig FILE] [--lease-name NAME] [--lease-namespace NS] [--identity ID]
                          [--cert-mode files|local|self-managed|cert-manager] [--tls-cert FILE --tls-key FILE
                          [--tls-ca FILE]] [--cert-secret NAME] [--service-name NAME] [--operator-namespace NS]
                          [--webhook-configuration NAME] [--skip-webhook-registration] [--skip-crds]
                          [--operator-url URL] [--sidecar-image IMAGE]
                          [--sidecar-resources JSON] [--sidecar-image-pull-policy P] [--sidecar-uid N]
                          [--sidecar-admin-port N] [--sidecar-wal-size-limit Q] [--log-level LEVEL]

Every flag has an environment variable: PORTCULLIS_<FLAG> in upper case with underscores
(e.g. PORTCULLIS_NAMESPACES, PORTCULLIS_SIDECAR_IMAGE); flags win.
--local runs against $KUBECONFIG from this machine: applies crds/, listens on 127.0.0.1, registers the webhooks
by URL (removed again on exit).`;

const options = {
  local: { type: 'boolean' },
  namespaces: { type: 'string' },
  port: { type: 'string' },
  address: { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-address': { type: 'string' },
  kubeconfig: { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'lease-duration': { type: 'string' },
  identity: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'cert-mode': { type: 'string' },
  'cert-secret': { type: 'string' },
  'service-name': { type: 'string' },
  'operator-namespace': { type: 'string' },
  'webhook-configuration': { type: 'string' },
  'skip-webhook-registration': { type: 'boolean' },
  'skip-crds': { type: 'boolean' },
  'operator-url': { type: 'string' },
  'sidecar-image': { type: 'string' },
  'sidecar-resources': { type: 'string' },
  'sidecar-log-level': { type: 'string' },
  'sidecar-image-pull-policy': { type: 'string' },
  'sidecar-uid': { type: 'string' },
  'sidecar-admin-port': { type: 'string' },
  'sidecar-wal-size-limit': { type: 'string' },
  'log-level': { type: 'string' },
  workers: { type: 'string' },
  'jwks-refresh': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): OperatorConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (values.help) return 'help';
  const get = (flag: keyof typeof options): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[`PORTCULLIS_${flag.toUpperCase().replace(/-/g, '_')}`];
    return e === '' ? undefined : e;
  };
  const problems: string[] = [];
  const port = (flag: keyof typeof options, fallback: number): number => {
    const v = get(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) problems.push(`--${flag} ${JSON.stringify(v)} is not a port`);
    return n;
  };
  const duration = (flag: keyof typeof options, fallback: number): number => {
    const v = get(flag);
    if (v === undefined) return fallback;
    try {
      return parseDuration(v);
    } catch (e) {
      problems.push(`--${flag}: ${(e as Error).message}`);
      return fallback;
    }
  };
  const local = values.local === true || env.PORTCULLIS_LOCAL === 'true';
  const namespaces = (get('namespaces') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const ns of namespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) problems.push(`--namespaces: ${JSON.stringify(ns)} is not a namespace name`);
  let sidecarResources: OperatorConfig['sidecarResources'];
  const res = get('sidecar-resources');
  if (res !== undefined) {
    try {
      sidecarResources = JSON.parse(res) as OperatorConfig['sidecarResources'];
      if (typeof sidecarResources !== 'object' || sidecarResources === null || Array.isArray(sidecarResources)) throw new Error('not an object');
    } catch (e) {
      problems.push(`--sidecar-resources must be JSON such as {"requests":{"cpu":"50m"}}: ${(e as Error).message}`);
    }
  }
  const tlsCertFile = get('tls-cert');
  const tlsKeyFile = get('tls-key');
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) problems.push('--tls-cert and --tls-key go together');
  const certMode = get('cert-mode') ?? (tlsCertFile ? 'files' : local ? 'local' : 'self-managed');
  if (certMode !== 'files' && certMode !== 'local' && certMode !== 'self-managed' && certMode !== 'cert-manager') {
    problems.push(`--cert-mode must be files, local, self-managed or cert-manager, got ${JSON.stringify(certMode)}`);
  }
  if (certMode === 'files' && !tlsCertFile) problems.push('--cert-mode files needs --tls-cert and --tls-key');
  const operatorNamespace = get('operator-namespace') ?? env.POD_NAMESPACE ?? 'portcullis-system';
  const optionalInt = (flag: keyof typeof options): number | undefined => {
    const v = get(flag);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) problems.push(`--${flag} ${JSON.stringify(v)} is not a whole number`);
    return n;
  };
  const workers = Number(get('workers') ?? '2');
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) problems.push('--workers must be 1-64');
  const leaseDurationMs = duration('lease-duration', 15_000);
  if (leaseDurationMs < 3_000) problems.push('--lease-duration must be at least 3s');
  const config: OperatorConfig = {
    namespaces,
    local,
    port: port('port', 8443),
    address: get('address') ?? (local ? '127.0.0.1' : '0.0.0.0'),
    metricsPort: port('metrics-port', 8080),
    metricsAddress: get('metrics-address') ?? (local ? '127.0.0.1' : '0.0.0.0'),
    kubeconfig: get('kubeconfig') ?? env.KUBECONFIG,
    leaseName: get('lease-name') ?? 'portcullis-operator',
    leaseNamespace: get('lease-namespace') ?? (local ? 'default' : operatorNamespace),
    leaseDurationMs,
    identity: get('identity') ?? `${env.POD_NAME ?? hostname()}-${randomBytes(4).toString('hex')}`,
    certMode: certMode as OperatorConfig['certMode'],
    tlsCertFile,
    tlsKeyFile,
    tlsCaFile: get('tls-ca'),
    certSecret: get('cert-secret') ?? 'portcullis-webhook-tls',
    serviceName: get('service-name') ?? 'portcullis-operator',
    operatorNamespace,
    webhookConfiguration: get('webhook-configuration') ?? 'portcullis',
    applyCrds: local && values['skip-crds'] !== true && env.PORTCULLIS_SKIP_CRDS !== 'true',
    registerWebhooks: local && values['skip-webhook-registration'] !== true && env.PORTCULLIS_SKIP_WEBHOOK_REGISTRATION !== 'true',
    operatorUrl: get('operator-url'),
    sidecarImage: get('sidecar-image'),
    sidecarResources,
    sidecarLogLevel: get('sidecar-log-level'),
    // The injector checks these (and refuses to start on a value the API server would reject).
    sidecarImagePullPolicy: get('sidecar-image-pull-policy'),
    sidecarUid: optionalInt('sidecar-uid'),
    sidecarAdminPort: optionalInt('sidecar-admin-port'),
    sidecarWalSizeLimit: get('sidecar-wal-size-limit'),
    logLevel: get('log-level') ?? 'info',
    workers,
    jwksRefreshMs: duration('jwks-refresh', 300_000),
  };
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config;
}
