// The webhook TLS Secret, read and written with optimistic concurrency: every replica may try to create or renew
// it, the API server lets exactly one write win (create: AlreadyExists, update: resourceVersion Conflict), and the
// others adopt what is stored.
import { corePath } from '../kube/paths.ts';
import { KubeError, type KubeApi } from '../kube/rest.ts';

export interface StoredSecret {
  /** Decoded values. */
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

/** Somebody else wrote first; read again. */
export class WriteConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteConflictError';
  }
}

export interface SecretStore {
  read(): Promise<StoredSecret | undefined>;
  /** Throws WriteConflictError when the Secret already exists. */
  create(data: Readonly<Record<string, string>>): Promise<StoredSecret>;
  /** Throws WriteConflictError when the stored resourceVersion moved on. */
  update(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<StoredSecret>;
}

interface SecretObject {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

function decode(s: SecretObject): StoredSecret {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { data, resourceVersion: s.metadata?.resourceVersion ?? '' };
}

function encode(data: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'utf8').toString('base64');
  return out;
}

export function kubeSecretStore(api: KubeApi, namespace: string, name: string, labels: Readonly<Record<string, string>> = {}): SecretStore {
  const path = corePath('secrets', namespace, name);
  const body = (data: Readonly<Record<string, string>>, resourceVersion?: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'portcullis-operator', ...labels }, ...(resourceVersion ? { resourceVersion } : {}) },
    type: 'kubernetes.io/tls',
    data: encode(data),
  });
  return {
    async read() {
      const res = await api.request<SecretObject>('GET', path);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new KubeError('GET', path, res.status, res.body);
      return decode(res.body);
    },
    async create(data) {
      const res = await api.request<SecretObject>('POST', corePath('secrets', namespace), { body: body(data) });
      if (res.status === 409) throw new WriteConflictError(`Secret ${namespace}/${name} already exists`);
      if (res.status !== 201 && res.status !== 200) throw new KubeError('POST', path, res.status, res.body);
      return decode(res.body);
    },
    async update(data, resourceVersion) {
      const res = await api.request<SecretObject>('PUT', path, { body: body(data, resourceVersion) });
      if (res.status === 409) throw new WriteConflictError(`Secret ${namespace}/${name} changed since it was read`);
      if (res.status === 404) throw new WriteConflictError(`Secret ${namespace}/${name} was deleted`);
      if (res.status !== 200) throw new KubeError('PUT', path, res.status, res.body);
      return decode(res.body);
    },
  };
}

/** An in-memory SecretStore with the API server's concurrency semantics (tests). */
export function memorySecretStore(): SecretStore & { writes: number; stored(): StoredSecret | undefined } {
  let current: StoredSecret | undefined;
  let version = 0;
  const store = {
    writes: 0,
    stored: () => current,
    async read() {
      return current;
    },
    async create(data: Readonly<Record<string, string>>) {
      if (current) throw new WriteConflictError('exists');
      store.writes++;
      current = { data: { ...data }, resourceVersion: String(++version) };
      return current;
    },
    async update(data: Readonly<Record<string, string>>, resourceVersion: string) {
      if (!current || current.resourceVersion !== resourceVersion) throw new WriteConflictError('conflict');
      store.writes++;
      current = { data: { ...data }, resourceVersion: String(++version) };
      return current;
    },
  };
  return store;
}
