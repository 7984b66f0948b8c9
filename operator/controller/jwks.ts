// The cluster service-account issuer's keys, for the bundles: sidecars verify agent tokens offline with them and need
// no API access. The issuer URL comes from the API server's OIDC discovery document, the keys from /openid/v1/jwks
// (both read with the operator's own credentials; in a cluster its ServiceAccount needs the
// system:service-account-issuer-discovery ClusterRole). Refreshed periodically; a failed refresh keeps the last keys.
import { canonicalJson } from '../../core/policy/bundle.ts';
import { expectOk, type KubeApi } from '../kube/rest.ts';
import type { Clock } from './queue.ts';
import { realClock } from './queue.ts';

export interface IssuerKeys {
  readonly issuer: string;
  readonly jwks: { keys: unknown[] };
}

export async function fetchIssuerKeys(api: KubeApi): Promise<IssuerKeys> {
  const discovery = await expectOk<{ issuer?: unknown; jwks_uri?: unknown }>(api, 'GET', '/.well-known/openid-configuration');
  if (typeof discovery.issuer !== 'string' || !discovery.issuer) throw new Error('OIDC discovery document has no issuer');
  // Always the API server's own path: jwks_uri names the issuer's public address, which may not be reachable from here.
  const jwks = await expectOk<{ keys?: unknown }>(api, 'GET', '/openid/v1/jwks', { accept: 'application/jwk-set+json' });
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('the JWKS at /openid/v1/jwks has no keys');
  return { issuer: discovery.issuer, jwks: { keys: jwks.keys } };
}

export interface JwksRefresherOptions {
  readonly api: KubeApi;
  readonly onKeys: (keys: IssuerKeys) => void;
  readonly onError?: (err: Error) => void;
  /** Default 5 minutes; after a failure, retry sooner (default 10 s). */
  readonly intervalMs?: number;
  readonly retryMs?: number;
  readonly clock?: Clock;
}

export class JwksRefresher {
  readonly #o: JwksRefresherOptions;
  readonly #clock: Clock;
  #last: string | undefined;
  #current: IssuerKeys | undefined;
  #cancel: (() => void) | undefined;
  #stopped = false;

  constructor(opts: JwksRefresherOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
  }

  get current(): IssuerKeys | undefined {
    return this.#current;
  }

  /** Fetches now; calls onKeys when the keys changed. Returns whether the fetch succeeded. */
  async refresh(): Promise<boolean> {
    try {
      const keys = await fetchIssuerKeys(this.#o.api);
      const text = canonicalJson(keys);
      if (text !== this.#last) {
        this.#last = text;
        this.#current = keys;
        this.#o.onKeys(keys);
      }
      return true;
    } catch (e) {
      this.#o.onError?.(e as Error);
      return false;
    }
  }

  /** Fetches now, then keeps refreshing until stop(). */
  async start(): Promise<boolean> {
    this.#stopped = false;
    const ok = await this.refresh();
    this.#schedule(ok);
    return ok;
  }

  #schedule(ok: boolean): void {
    if (this.#stopped) return;
    this.#cancel = this.#clock.schedule(ok ? (this.#o.intervalMs ?? 300_000) : (this.#o.retryMs ?? 10_000), () => {
      void this.refresh().then((r) => this.#schedule(r));
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }
}
