// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: every replica tries to
// take or renew the Lease every retry period with an optimistic-concurrency update; a Lease held by someone else is
// taken over only after it has not changed for a whole lease duration *as observed locally* (so clocks of different
// machines never have to agree); a leader that cannot renew within the renew deadline steps down before anyone else
// may take over; on shutdown the leader releases the Lease so a successor need not wait.
import { leasePath } from '../kube/paths.ts';
import type { KubeApi } from '../kube/rest.ts';
import { realClock, type Clock } from './queue.ts';

export interface LeaderElectionOptions {
  readonly api: KubeApi;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica, e.g. pod name + random suffix. */
  readonly identity: string;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** A leader that has not renewed for this long steps down; default 10 s (must be < lease duration). */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  readonly onNewLeader?: (identity: string) => void;
  readonly onError?: (err: Error) => void;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** MicroTime, as the API server writes it. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #duration: number;
  readonly #deadline: number;
  readonly #retry: number;
  #leading = false;
  #lastRenew = 0;
  /** The Lease as last seen, and when (local clock) it last changed. */
  #observed: { holder: string; renewTime: string; at: number } | undefined;
  #currentLeader = '';
  #cancelTimer: (() => void) | undefined;
  #stopped = true;
  #inFlight: Promise<void> | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#duration = opts.leaseDurationMs ?? 15_000;
    this.#deadline = opts.renewDeadlineMs ?? 10_000;
    this.#retry = opts.retryPeriodMs ?? 2_000;
    if (this.#deadline >= this.#duration) throw new Error('leader election: the renew deadline must be shorter than the lease duration');
    if (this.#retry >= this.#deadline) throw new Error('leader election: the retry period must be shorter than the renew deadline');
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get leader(): string {
    return this.#currentLeader;
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** Starts the acquire/renew loop (first attempt immediately). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop();
  }

  #loop(): void {
    if (this.#stopped) return;
    this.#inFlight = this.tryAcquireOrRenew().then(() => undefined, (e: unknown) => this.#o.onError?.(e as Error));
    void this.#inFlight.then(() => {
      if (this.#stopped) return;
      this.#cancelTimer = this.#clock.schedule(this.#retry, () => this.#loop());
    });
  }

  /**
   * One attempt; returns whether this replica leads afterwards. Exposed for tests, which drive it with a manual
   * clock instead of timers.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#clock.now();
    let ok = false;
    try {
      ok = await this.#attempt(now);
    } catch (e) {
      this.#o.onError?.(e as Error);
      ok = false;
    }
    if (ok) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#o.onStartedLeading?.();
      }
    } else if (this.#leading && this.#clock.now() - this.#lastRenew >= this.#deadline) {
      this.#stepDown();
    } else if (this.#leading && this.#currentLeader !== this.#o.identity) {
      // Someone else holds the Lease (we saw it): we are certainly not leading any more.
      this.#stepDown();
    }
    return this.#leading;
  }

  #stepDown(): void {
    this.#leading = false;
    this.#o.onStoppedLeading?.();
  }

  #see(holder: string, renewTime: string, now: number): void {
    if (!this.#observed || this.#observed.holder !== holder || this.#observed.renewTime !== renewTime) {
      this.#observed = { holder, renewTime, at: now };
    }
    if (holder !== this.#currentLeader) {
      this.#currentLeader = holder;
      if (holder) this.#o.onNewLeader?.(holder);
    }
  }

  async #attempt(now: number): Promise<boolean> {
    const { api, namespace, name, identity } = this.#o;
    const path = leasePath(namespace, name);
    const got = await api.request<Lease>('GET', path);
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#duration / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (got.status === 404) {
      const created = await api.request<Lease>('POST', leasePath(namespace), {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
      });
      if (created.status === 409) return false; // another replica created it first
      if (created.status >= 300) throw new Error(`create Lease ${namespace}/${name}: ${created.status}`);
      this.#see(identity, spec.renewTime, now);
      return true;
    }
    if (got.status >= 300) throw new Error(`get Lease ${namespace}/${name}: ${got.status}`);
    const lease = got.body;
    const holder = lease.spec?.holderIdentity ?? '';
    this.#see(holder, lease.spec?.renewTime ?? '', now);
    const heldByOther = holder !== '' && holder !== identity;
    const leaseMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.#duration / 1000)) * 1000;
    if (heldByOther && this.#observed!.at + leaseMs > now) return false;

    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        acquireTime: holder === identity ? (lease.spec?.acquireTime ?? spec.acquireTime) : spec.acquireTime,
        leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    // resourceVersion in the body makes this a compare-and-swap: of two replicas taking over, one gets 409.
    const put = await api.request<Lease>('PUT', path, { body: next });
    if (put.status === 409) return false;
    if (put.status >= 300) throw new Error(`update Lease ${namespace}/${name}: ${put.status}`);
    this.#see(identity, next.spec!.renewTime!, now);
    return true;
  }

  /** Stops the loop; a leader releases the Lease (holder emptied) so another replica can take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    await this.#inFlight;
    if (!this.#leading) return;
    this.#stepDown();
    const { api, namespace, name, identity } = this.#o;
    try {
      const got = await api.request<Lease>('GET', leasePath(namespace, name));
      if (got.status !== 200 || got.body.spec?.holderIdentity !== identity) return;
      const now = this.#clock.now();
      await api.request('PUT', leasePath(namespace, name), {
        body: { ...got.body, spec: { ...got.body.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) } },
      });
    } catch (e) {
      this.#o.onError?.(e as Error);
    }
  }
}
