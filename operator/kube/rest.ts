// The operator's one way to talk to the API server: a small JSON-over-HTTPS client that takes its endpoint and
// credentials from a client-node KubeConfig (kubeconfig file or in-cluster service account, whose token file is
// re-read as the kubelet rotates it). Everything the operator writes goes through `KubeApi`, so reconcilers are
// tested against a fake of this interface.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface KubeResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Default application/json; merge and strategic patches name theirs. */
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  /** Default application/json. */
  readonly accept?: string;
}

export interface KubeApi {
  /** Any status comes back (no throw on 4xx/5xx); transport errors throw. */
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<KubeResponse<T>>;
}

/** A failed API call, with the server's status and Status message. */
export class KubeError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(method: string, path: string, status: number, body: unknown) {
    const s = body as { message?: string; reason?: string } | undefined;
    super(`${method} ${path}: ${status}${s?.message ? ` ${s.message}` : ''}`);
    this.name = 'KubeError';
    this.status = status;
    this.reason = s?.reason;
  }
}

/** Throws KubeError unless the status is 2xx. */
export async function expectOk<T>(api: KubeApi, method: string, path: string, opts?: RequestOptions): Promise<T> {
  const res = await api.request<T>(method, path, opts);
  if (res.status < 200 || res.status >= 300) throw new KubeError(method, path, res.status, res.body);
  return res.body;
}

export function buildPath(path: string, query?: Readonly<Record<string, string | undefined>>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function kubeApiFromConfig(kc: KubeConfig): KubeApi {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  // One keep-alive agent for every call; the per-request options carry the credentials (a rotated token is picked
  // up because applyToHTTPSOptions re-reads it).
  const agent = new https.Agent({ keepAlive: true, maxSockets: 32 });
  return {
    async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<KubeResponse<T>> {
      const options: https.RequestOptions = {
        method,
        hostname: server.hostname.replace(/^\[|\]$/g, ''),
        port: server.port || 443,
        path: `${server.pathname.replace(/\/$/, '')}${buildPath(path, opts.query)}`,
        headers: { accept: opts.accept ?? 'application/json' },
      };
      await kc.applyToHTTPSOptions(options);
      options.agent = agent;
      const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      if (payload) {
        options.headers = { ...options.headers, 'content-type': opts.contentType ?? 'application/json', 'content-length': payload.length };
      }
      return new Promise<KubeResponse<T>>((resolve, reject) => {
        const req = https.request(options, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`${method} ${path}: response over ${MAX_RESPONSE_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if (text && (res.headers['content-type'] ?? '').includes('json')) {
              try {
                body = JSON.parse(text);
              } catch {
                return reject(new Error(`${method} ${path}: unparseable JSON response`));
              }
            }
            resolve({ status: res.statusCode ?? 0, body: body as T });
          });
          res.on('error', reject);
        });
        req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}
