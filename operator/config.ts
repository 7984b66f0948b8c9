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
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** The sidecar API as sidecars reach it (goes into injected pods). */
  readonly operatorUrl: string | undefined;
  readonly sidecarImage: string | undefined;
  /** JSON: {"requests": {"cpu": "50m"}, "limits": {...}} */
  readonly sidecarResources: Record<string, Record<string, string>> | undefined;
  readonly sidecarLogLevel: string | undefined;
  readonly logLevel: string;
  readonly workers: number;
  readonly jwksRefreshMs: number;
}

export const usage = `Usage: portcullis-operator [--local] [--namespaces a,b] [--port 8443] [--metrics-port 8080]
                          [--kubeconfig FILE] [--lease-name NAME] [--lease-namespace NS] [--identity ID]
                          [--tls-cert FILE --tls-key FILE] [--operator-url URL] [--sidecar-image IMAGE]
                          [--sidecar-resources JSON] [--log-level LEVEL]

Every flag has an environment variable: PORTCULLIS_<FLAG> in upper case with underscores
(e.g. PORTCULLIS_NAMESPACES, PORTCULLIS_SIDECAR_IMAGE); flags win.
--local runs against $KUBECONFIG from this machine: listeners on 127.0.0.1, webhooks registered by URL.`;

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
  'operator-url': { type: 'string' },
  'sidecar-image': { type: 'string' },
  'sidecar-resources': { type: 'string' },
  'sidecar-log-level': { type: 'string' },
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
    leaseNamespace: get('lease-namespace') ?? env.POD_NAMESPACE ?? (local ? 'default' : 'portcullis-system'),
    leaseDurationMs,
    identity: get('identity') ?? `${env.POD_NAME ?? hostname()}-${randomBytes(4).toString('hex')}`,
    tlsCertFile,
    tlsKeyFile,
    operatorUrl: get('operator-url'),
    sidecarImage: get('sidecar-image'),
    sidecarResources,
    sidecarLogLevel: get('sidecar-log-level'),
    logLevel: get('log-level') ?? 'info',
    workers,
    jwksRefreshMs: duration('jwks-refresh', 300_000),
  };
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config;
}
