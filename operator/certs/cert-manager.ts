// cert-manager mode: a Certificate resource (rendered by the Helm chart) makes cert-manager write the serving
// certificate into a Secret (tls.crt, tls.key, ca.crt) and its cainjector copies the CA into the webhook
// configurations annotated `cert-manager.io/inject-ca-from: <namespace>/<certificate>`. The operator generates and
// patches nothing; it reads the Secret, and re-reads it to pick up cert-manager's renewals.
import type { SecretStore } from './secret-store.ts';
import type { Logger } from './self-managed.ts';
import { CertListeners, type CertSource, type ServingCertificate } from './source.ts';
import { keyMatches } from './x509.ts';

export const CERT_MANAGER_INJECT_ANNOTATION = 'cert-manager.io/inject-ca-from';

export interface CertManagerOptions {
  /** Read-only use of the Secret cert-manager writes. */
  readonly store: Pick<SecretStore, 'read'>;
  /** Default 30 s. */
  readonly checkIntervalMs?: number;
  /** How long start() waits for cert-manager to issue the first certificate. Default 5 min. */
  readonly startTimeoutMs?: number;
  /** Pause between reads while start() waits. Default 2 s. */
  readonly retryDelayMs?: number;
  readonly log?: Logger;
}

function fromSecret(data: Readonly<Record<string, string>> | undefined): ServingCertificate | string {
  const cert = data?.['tls.crt'];
  const key = data?.['tls.key'];
  if (!cert || !key) return 'the Secret has no tls.crt/tls.key yet';
  if (!keyMatches(cert, key)) return 'tls.key does not match tls.crt';
  // ca.crt is what cert-manager's issuer signed with; for a self-signed issuer the certificate is its own CA.
  return { cert, key, ca: data['ca.crt'] || cert };
}

export class CertManagerCertSource implements CertSource {
  readonly #opts: CertManagerOptions;
  readonly #listeners = new CertListeners();
  #current: ServingCertificate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(opts: CertManagerOptions) {
    this.#opts = opts;
  }

  /** Waits until the Secret holds a usable certificate, then re-reads it periodically. */
  static async start(opts: CertManagerOptions): Promise<CertManagerCertSource> {
    const source = new CertManagerCertSource(opts);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 5 * 60_000);
    for (;;) {
      const problem = await source.check();
      if (problem === undefined) break;
      if (Date.now() >= deadline) throw new Error(`cert-manager has not issued the webhook certificate: ${problem}`);
      opts.log?.warn({ problem }, 'waiting for cert-manager to issue the webhook certificate');
      await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 2000));
    }
    source.#schedule();
    return source;
  }

  current(): ServingCertificate {
    if (!this.#current) throw new Error('no serving certificate loaded');
    return this.#current;
  }

  onChange(listener: (cert: ServingCertificate) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** Re-reads the Secret; returns why it is unusable, or undefined when a certificate is in use. */
  async check(): Promise<string | undefined> {
    const stored = await this.#opts.store.read();
    const next = fromSecret(stored?.data);
    if (typeof next === 'string') return next;
    const prev = this.#current;
    if (prev && prev.cert === next.cert && prev.key === next.key && prev.ca === next.ca) return undefined;
    this.#current = next;
    if (prev) this.#listeners.emit(next, (e) => this.#opts.log?.error({ err: (e as Error).message }, 'certificate listener failed'));
    return undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.check()
        .then((problem) => {
          if (problem) this.#opts.log?.warn({ problem }, 'cert-manager Secret unusable; keeping the current certificate');
        })
        .catch((e: unknown) => this.#opts.log?.error({ err: (e as Error).message }, 'reading the cert-manager Secret failed'))
        .finally(() => this.#schedule());
    }, this.#opts.checkIntervalMs ?? 30_000);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#listeners.clear();
  }
}
