// Authenticates sidecars: their projected service-account token (audience portcullis-sidecar) goes to the API
// server's TokenReview, which checks signature, expiry, audience and — for a pod-bound token — that the pod still
// exists with the bound uid. The pod name and uid come from the review's user.extra. Results are cached briefly by
// the token's SHA-256 (never the token itself), so a long-polling sidecar costs one review per cache period.
import { createHash } from 'node:crypto';
import { TOKEN_REVIEW_PATH } from '../kube/paths.ts';
import type { KubeApi } from '../kube/rest.ts';

export const SIDECAR_AUDIENCE = 'portcullis-sidecar';
const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';
const SA_PREFIX = 'system:serviceaccount:';

export interface SidecarIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName: string;
  readonly podUid: string;
  readonly username: string;
}

export type ReviewResult =
  | { readonly ok: true; readonly identity: SidecarIdentity }
  /** 401: not a valid token for us; 403: valid, but not a pod-bound service-account token. */
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; extra?: Record<string, string[]> };
}

/** Turns a TokenReview status into a result. Pure; exported for tests. */
export function interpretReview(status: TokenReviewStatus, audience: string): ReviewResult {
  if (!status.authenticated) return { ok: false, status: 401, message: 'token not authenticated' };
  if (!status.audiences?.includes(audience)) return { ok: false, status: 401, message: `token audience is not ${audience}` };
  const username = status.user?.username ?? '';
  if (!username.startsWith(SA_PREFIX)) return { ok: false, status: 403, message: 'not a service-account token' };
  const [namespace, serviceAccount, ...rest] = username.slice(SA_PREFIX.length).split(':');
  if (!namespace || !serviceAccount || rest.length > 0) return { ok: false, status: 403, message: 'malformed service-account user name' };
  const podName = status.user?.extra?.[POD_NAME]?.[0];
  const podUid = status.user?.extra?.[POD_UID]?.[0];
  if (!podName || !podUid) return { ok: false, status: 403, message: 'the token is not bound to a pod' };
  return { ok: true, identity: { namespace, serviceAccount, podName, podUid, username } };
}

export interface TokenReviewerOptions {
  readonly api: KubeApi;
  readonly audience?: string;
  /** How long a review result is reused; default 30 s (rejections: 5 s). */
  readonly ttlMs?: number;
  readonly negativeTtlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
  readonly onReview?: (result: 'authenticated' | 'rejected' | 'error' | 'cached') => void;
}

export class TokenReviewer {
  readonly #o: TokenReviewerOptions;
  readonly #cache = new Map<string, { result: ReviewResult; until: number }>();
  /** Concurrent reviews of one token share one API call. */
  readonly #inflight = new Map<string, Promise<ReviewResult>>();

  constructor(opts: TokenReviewerOptions) {
    this.#o = opts;
  }

  async review(token: string): Promise<ReviewResult> {
    const now = this.#o.now?.() ?? Date.now();
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) {
      this.#o.onReview?.('cached');
      return hit.result;
    }
    if (hit) this.#cache.delete(key);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p = this.#call(token).then((result) => {
      const ttl = result.ok ? (this.#o.ttlMs ?? 30_000) : (this.#o.negativeTtlMs ?? 5_000);
      if (this.#cache.size >= (this.#o.maxEntries ?? 10_000)) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, { result, until: (this.#o.now?.() ?? Date.now()) + ttl });
      return result;
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #call(token: string): Promise<ReviewResult> {
    const audience = this.#o.audience ?? SIDECAR_AUDIENCE;
    let res;
    try {
      res = await this.#o.api.request<{ status?: TokenReviewStatus }>('POST', TOKEN_REVIEW_PATH, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } },
      });
    } catch (e) {
      this.#o.onReview?.('error');
      throw e;
    }
    if (res.status < 200 || res.status >= 300) {
      this.#o.onReview?.('error');
      throw new Error(`TokenReview failed: ${res.status}`);
    }
    const result = interpretReview(res.body.status ?? {}, audience);
    this.#o.onReview?.(result.ok ? 'authenticated' : 'rejected');
    return result;
  }
}
