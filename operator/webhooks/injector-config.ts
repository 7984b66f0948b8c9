// The injector's configuration: what the sidecar looks like and how it reaches the operator. Helm values feed it
// (operator flags/env → InjectorConfig); tests build it with `injectorConfig({...})`. Validated once at start so a
// bad value stops the operator instead of producing pods the API server rejects one by one.

export interface ResourceList {
  readonly cpu?: string;
  readonly memory?: string;
  readonly 'ephemeral-storage'?: string;
}

export interface SidecarConfig {
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** Overrides the image's entrypoint when set. */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly resources: { readonly requests?: ResourceList; readonly limits?: ResourceList };
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** The sidecar's fixed non-root UID (and GID). Agent containers may never run as it. */
  readonly uid: number;
  /** Health, readiness and metrics (cluster mode); the kubelet probes it on the pod IP. */
  readonly adminPort: number;
  /** sizeLimit of the write-ahead emptyDir, a Kubernetes quantity. */
  readonly walSizeLimit: string;
  /** The startup probe's budget: periodSeconds × failureThreshold is how long the sidecar may take to load its bundle. */
  readonly startupPeriodSeconds: number;
  readonly startupFailureThreshold: number;
}

export interface InjectorConfig {
  readonly sidecar: SidecarConfig;
  /** The operator's sidecar API as sidecars reach it, e.g. https://portcullis-operator.portcullis-system.svc:8443. */
  readonly operatorUrl: string;
  /**
   * PEM CA bundle that verifies the operator's serving certificate; read per injection because the operator's own
   * certificate source can rotate it.
   */
  readonly operatorCa: () => string;
  /** The operator's namespace: its own pods are never injected or checked (also excluded by namespaceSelector). */
  readonly operatorNamespace: string;
  /** Lifetime of the agents' projected token (audience portcullis); the kubelet rotates it at 80%. */
  readonly agentTokenExpirationSeconds: number;
  /** Lifetime of the sidecar's own projected token (audience portcullis-sidecar). */
  readonly sidecarTokenExpirationSeconds: number;
  /**
   * Audiences the API server accepts (its --api-audiences; by default its service-account issuer). A pod that asks
   * for a projected token of one of them (or of none) would give agents direct API access around the sidecar.
   * A function: the operator learns the issuer by discovery.
   */
  readonly apiAudiences: () => readonly string[];
}

export const DEFAULT_SIDECAR: SidecarConfig = {
  image: 'portcullis/portcullis:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  logLevel: 'info',
  uid: 65532,
  adminPort: 15021,
  walSizeLimit: '256Mi',
  startupPeriodSeconds: 1,
  startupFailureThreshold: 120,
};

export interface InjectorConfigInput {
  readonly sidecar?: Partial<SidecarConfig>;
  readonly operatorUrl: string;
  readonly operatorCa: string | (() => string);
  readonly operatorNamespace: string;
  readonly agentTokenExpirationSeconds?: number;
  readonly sidecarTokenExpirationSeconds?: number;
  readonly apiAudiences?: readonly string[] | (() => readonly string[]);
}

/** The usual in-cluster issuers, used when the operator has not told us the cluster's own. */
export const DEFAULT_API_AUDIENCES: readonly string[] = ['https://kubernetes.default.svc.cluster.local', 'https://kubernetes.default.svc', 'kubernetes.default.svc'];

// The API server's bounds for projected service-account tokens.
const MIN_TOKEN_SECONDS = 600;
const MAX_TOKEN_SECONDS = 2 ** 32;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** Defaults applied and every field checked; throws an Error listing every problem. */
export function injectorConfig(input: InjectorConfigInput): InjectorConfig {
  const sidecar: SidecarConfig = { ...DEFAULT_SIDECAR, ...input.sidecar };
  const problems: string[] = [];
  if (!sidecar.image) problems.push('sidecar.image is required');
  if (!['Always', 'IfNotPresent', 'Never'].includes(sidecar.imagePullPolicy)) {
    problems.push(`sidecar.imagePullPolicy ${JSON.stringify(sidecar.imagePullPolicy)} is not Always, IfNotPresent or Never`);
  }
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(sidecar.logLevel)) {
    problems.push(`sidecar.logLevel ${JSON.stringify(sidecar.logLevel)} is not a pino level`);
  }
  if (!Number.isInteger(sidecar.uid) || sidecar.uid < 1 || sidecar.uid > 2 ** 31 - 1) {
    problems.push(`sidecar.uid ${sidecar.uid} must be a non-root UID (1…2147483647)`);
  }
  if (!isPort(sidecar.adminPort)) problems.push(`sidecar.adminPort ${sidecar.adminPort} is not a port`);
  if (!QUANTITY.test(sidecar.walSizeLimit)) problems.push(`sidecar.walSizeLimit ${JSON.stringify(sidecar.walSizeLimit)} is not a quantity`);
  else if (quantityBytes(sidecar.walSizeLimit) < 1024 * 1024) problems.push(`sidecar.walSizeLimit ${JSON.stringify(sidecar.walSizeLimit)} is below 1Mi`);
  for (const [kind, list] of Object.entries(sidecar.resources)) {
    for (const [name, q] of Object.entries((list ?? {}) as Record<string, unknown>)) {
      if (typeof q !== 'string' || !QUANTITY.test(q)) problems.push(`sidecar.resources.${kind}.${name} ${JSON.stringify(q)} is not a quantity`);
    }
  }
  for (const [name, v] of [['startupPeriodSeconds', sidecar.startupPeriodSeconds], ['startupFailureThreshold', sidecar.startupFailureThreshold]] as const) {
    if (!Number.isInteger(v) || v < 1) problems.push(`sidecar.${name} must be a positive integer`);
  }
  let url: URL | undefined;
  try {
    url = new URL(input.operatorUrl);
  } catch {
    problems.push(`operatorUrl ${JSON.stringify(input.operatorUrl)} is not a URL`);
  }
  if (url && url.protocol !== 'https:') problems.push('operatorUrl must be https (sidecars authenticate with a bearer token)');
  if (!input.operatorNamespace) problems.push('operatorNamespace is required');
  const agentTtl = input.agentTokenExpirationSeconds ?? 600;
  const sidecarTtl = input.sidecarTokenExpirationSeconds ?? 3600;
  for (const [name, v] of [['agentTokenExpirationSeconds', agentTtl], ['sidecarTokenExpirationSeconds', sidecarTtl]] as const) {
    if (!Number.isInteger(v) || v < MIN_TOKEN_SECONDS || v > MAX_TOKEN_SECONDS) {
      problems.push(`${name} ${v} must be an integer of at least ${MIN_TOKEN_SECONDS} (the API server's minimum)`);
    }
  }
  if (problems.length > 0) throw new Error(`invalid injector configuration:\n  ${problems.join('\n  ')}`);
  const ca = input.operatorCa;
  const audiences = input.apiAudiences ?? DEFAULT_API_AUDIENCES;
  return {
    sidecar,
    operatorUrl: input.operatorUrl,
    operatorCa: typeof ca === 'function' ? ca : () => ca,
    operatorNamespace: input.operatorNamespace,
    agentTokenExpirationSeconds: agentTtl,
    sidecarTokenExpirationSeconds: sidecarTtl,
    apiAudiences: typeof audiences === 'function' ? audiences : () => audiences,
  };
}

const SUFFIX_BYTES: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The bytes a quantity of the form QUANTITY accepts stands for ("256Mi" → 268435456), rounded down. */
export function quantityBytes(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(q);
  const scale = m ? SUFFIX_BYTES[m[2]!] : undefined;
  if (!m || scale === undefined) throw new Error(`${JSON.stringify(q)} is not a quantity`);
  return Math.floor(Number(m[1]) * scale);
}

/**
 * The sidecar's bound for its write-ahead file, from the emptyDir's sizeLimit: 90 %, so the sidecar refuses commands
 * (fail closed, the pod keeps running) before the kubelet would evict the pod for a full volume (which also holds
 * the masking key and the operator CA).
 */
export function recordsMaxBytes(walSizeLimit: string): number {
  return Math.floor(quantityBytes(walSizeLimit) * 0.9);
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}
