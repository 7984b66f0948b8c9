// Names and paths the injector owns. The sidecar reads its configuration from the PORTCULLIS_* environment listed
// here (the contract between this injector and sidecar/main.ts in cluster mode); agents see only the token file,
// the resources' expose.env and KUBECONFIG.

export const SIDECAR_CONTAINER = 'portcullis-sidecar';
/** Every volume the injector adds starts with this; user pods may not use the prefix (they could shadow ours). */
export const RESERVED_VOLUME_PREFIX = 'portcullis-';

export const VOLUME_WAL = 'portcullis-wal';
export const VOLUME_SIDECAR_TOKEN = 'portcullis-sidecar-token';
export const VOLUME_AGENT_TOKEN = 'portcullis-agent-token';
export const VOLUME_AGENT_CONFIG = 'portcullis-agent-config';
export const CREDENTIALS_VOLUME_PREFIX = 'portcullis-cred-';

/** Volumes agent containers may mount (read-only); every other portcullis- volume belongs to the sidecar alone. */
export const AGENT_VOLUMES: ReadonlySet<string> = new Set([VOLUME_AGENT_TOKEN, VOLUME_AGENT_CONFIG]);

export const ANNOTATION_INJECTED = 'portcullis.dev/injected';
/** Sorted policy ids (`namespace/name`), comma-separated: what the pod was injected for (RestartRequired). */
export const ANNOTATION_POLICIES = 'portcullis.dev/policies';
/** Sorted ProtectedResource names, comma-separated: the mounts, ports and env the pod got. */
export const ANNOTATION_RESOURCES = 'portcullis.dev/resources';

/** Audience of the sidecar's own token (the operator's sidecar API accepts only it). */
export const SIDECAR_AUDIENCE = 'portcullis-sidecar';
/** Audience of the agents' token (the sidecar accepts it, bound to its own pod). */
export const AGENT_AUDIENCE = 'portcullis';

export const WAL_DIR = '/var/lib/portcullis';
export const SIDECAR_TOKEN_DIR = '/var/run/secrets/portcullis.dev/sidecar';
export const CREDENTIALS_DIR = '/var/run/secrets/portcullis.dev/credentials';
export const AGENT_TOKEN_DIR = '/var/run/secrets/portcullis.dev/agent';
export const AGENT_TOKEN_FILE = `${AGENT_TOKEN_DIR}/token`;
export const AGENT_CONFIG_DIR = '/var/run/portcullis';
export const AGENT_KUBECONFIG_FILE = `${AGENT_CONFIG_DIR}/kubeconfig`;
/** Where the ServiceAccount admission plugin mounts its kube-api-access-* volume. */
export const KUBE_API_ACCESS_PREFIX = 'kube-api-access-';

/** Agent environment. */
export const ENV_TOKEN_FILE = 'PORTCULLIS_TOKEN_FILE';
export const ENV_KUBECONFIG = 'KUBECONFIG';

/** Sidecar environment (cluster mode). */
export const SIDECAR_ENV = {
  mode: 'PORTCULLIS_MODE',
  operatorUrl: 'PORTCULLIS_OPERATOR_URL',
  operatorCa: 'PORTCULLIS_OPERATOR_CA',
  tokenFile: 'PORTCULLIS_SIDECAR_TOKEN_FILE',
  credentialsDir: 'PORTCULLIS_CREDENTIALS_DIR',
  records: 'PORTCULLIS_RECORDS',
  recordsMaxBytes: 'PORTCULLIS_RECORDS_MAX_BYTES',
  adminPort: 'PORTCULLIS_ADMIN_PORT',
  adminAddress: 'PORTCULLIS_ADMIN_ADDRESS',
  logLevel: 'PORTCULLIS_LOG_LEVEL',
  podName: 'PORTCULLIS_POD_NAME',
  podNamespace: 'PORTCULLIS_POD_NAMESPACE',
  podUid: 'PORTCULLIS_POD_UID',
  resources: 'PORTCULLIS_RESOURCES',
  agentKubeconfig: 'PORTCULLIS_AGENT_KUBECONFIG',
  agentKubeconfigFile: 'PORTCULLIS_AGENT_KUBECONFIG_FILE',
} as const;
