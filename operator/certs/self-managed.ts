// The default certificate mode: the operator is its own CA. The CA and the serving certificate live in a Secret
// (portcullis-webhook-tls) that every replica reads; whichever replica notices first renews (one write wins), the
// others adopt the stored result on their next check. Every check also makes sure the webhook configurations
// carry the current CA bundle (a `helm upgrade` may have reset it).
import { nextRenewal, rotate, type RotationPolicy, type TlsData, DEFAULT_ROTATION } from './rotation.ts';
import type { SecretStore, StoredSecret } from './secret-store.ts';
import { WriteConflictError } from './secret-store.ts';
import { CertListeners, type CertSource, type ServingCertificate } from './source.ts';

export const DEFAULT_SECRET_NAME = 'portcullis-webhook-tls';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SelfManagedOptions {
  readonly store: SecretStore;
  readonly policy: Partial<Omit<RotationPolicy, 'dnsNames'>> & Pick<RotationPolicy, 'dnsNames'>;
  /** Writes the CA bundle into the webhook configurations; called after every check, must be idempotent. */
  readonly publishCaBundle?: (caPem: string) => Promise<void>;
  /** How often to re-read the Secret (another replica may have renewed). Default one minute. */
  readonly checkIntervalMs?: number;
  readonly now?: () => Date;
  readonly log?: Logger;
}

const silent: Logger = { info() {}, warn() {}, error() {} };

function toServing(data: TlsData): ServingCertificate {
  return { cert: data['tls.crt'], key: data['tls.key'], ca: data['ca.crt'] };
}

export class SelfManagedCertSource implements CertSource {
  readonly #opts: SelfManagedOptions;
  readonly #policy: RotationPolicy;
  readonly #listeners = new CertListeners();
  readonly #log: Logger;
  #current: TlsData | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #checking: Promise<void> | undefined;

  private constructor(opts: SelfManagedOptions) {
    this.#opts = opts;
    this.#policy = { ...DEFAULT_ROTATION, ...opts.policy };
    this.#log = opts.log ?? silent;
  }

  /** Loads (creating or renewing as needed) the certificate, then keeps checking in the background. */
  static async start(opts: SelfManagedOptions): Promise<SelfManagedCertSource> {
    const source = new SelfManagedCertSource(opts);
    await source.check();
    source.#schedule();
    return source;
  }

  current(): ServingCertificate {
    if (!this.#current) throw new Error('no serving certificate loaded');
    return toServing(this.#current);
  }

  onChange(listener: (cert: ServingCertificate) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** One round: read, renew if due (one write attempt; a lost race adopts the winner's), publish the CA bundle. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    const now = (this.#opts.now ?? (() => new Date()))();
    let stored = await this.#opts.store.read();
    const { data, changes } = rotate(stored?.data as Partial<TlsData> | undefined, this.#policy, now);
    if (changes.length > 0) {
      try {
        stored = stored ? await this.#opts.store.update(data, stored.resourceVersion) : await this.#opts.store.create(data);
        this.#log.info({ changes }, 'webhook certificate written');
      } catch (e) {
        if (!(e instanceof WriteConflictError)) throw e;
        // Another replica wrote first: use what it stored if it is good, else the next check tries again.
        stored = await this.#opts.store.read();
        this.#log.info({ reason: e.message }, 'webhook certificate written by another replica; adopting it');
      }
    }
    const usable = this.#usable(stored, now);
    if (!usable) throw new Error('the webhook TLS Secret holds no usable certificate after renewal');
    this.#adopt(usable);
    if (this.#opts.publishCaBundle) await this.#opts.publishCaBundle(usable['ca.crt']);
  }

  #usable(stored: StoredSecret | undefined, now: Date): TlsData | undefined {
    if (!stored) return undefined;
    // Usable = nothing about it is broken; being due for renewal soon is fine.
    const { changes } = rotate(stored.data as Partial<TlsData>, { ...this.#policy, renewAt: 1 }, now);
    return changes.length === 0 ? (stored.data as unknown as TlsData) : undefined;
  }

  #adopt(data: TlsData): void {
    const prev = this.#current;
    if (prev && prev['tls.crt'] === data['tls.crt'] && prev['ca.crt'] === data['ca.crt'] && prev['tls.key'] === data['tls.key']) return;
    this.#current = data;
    if (prev) this.#listeners.emit(toServing(data), (e) => this.#log.error({ err: (e as Error).message }, 'certificate listener failed'));
  }

  #schedule(): void {
    if (this.#closed) return;
    const interval = this.#opts.checkIntervalMs ?? 60_000;
    const now = (this.#opts.now ?? (() => new Date()))().getTime();
    const due = this.#current ? nextRenewal(this.#current, this.#policy.renewAt).getTime() - now : interval;
    const wait = Math.max(1000, Math.min(interval, due));
    this.#timer = setTimeout(() => {
      this.check()
        .catch((e: unknown) => this.#log.error({ err: (e as Error).message }, 'webhook certificate check failed; keeping the current one'))
        .finally(() => this.#schedule());
    }, wait);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#listeners.clear();
  }
}
