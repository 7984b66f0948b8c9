// Where the operator's serving certificate comes from. Every source hands out the current certificate and tells
// listeners when it changes, so the TLS server swaps contexts without a restart and the injector embeds the CA that
// sidecars must trust.
import { generateCa, issueServingCertificate } from './x509.ts';

export interface ServingCertificate {
  /** PEM chain the server presents (the leaf). */
  readonly cert: string;
  readonly key: string;
  /** PEM bundle clients must trust to verify `cert` (during a CA rotation: the new CA and the old one). */
  readonly ca: string;
}

export interface CertSource {
  current(): ServingCertificate;
  /** Called with every new certificate; returns an unsubscribe function. */
  onChange(listener: (cert: ServingCertificate) => void): () => void;
  close(): void;
}

/** Listener bookkeeping shared by the sources. */
export class CertListeners {
  readonly #listeners = new Set<(cert: ServingCertificate) => void>();

  add(listener: (cert: ServingCertificate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(cert: ServingCertificate, onError?: (e: unknown) => void): void {
    for (const l of this.#listeners) {
      try {
        l(cert);
      } catch (e) {
        onError?.(e);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

/** A fixed certificate (tests; a certificate given by flags). */
export function staticCertSource(cert: ServingCertificate): CertSource {
  return { current: () => cert, onChange: () => () => {}, close: () => {} };
}

/**
 * Local mode (`make operator-local`, e2e): a throwaway CA and a serving certificate for the loopback addresses,
 * kept in memory; the webhooks are registered by URL with this CA as caBundle.
 */
export function localCertSource(opts: { ipAddresses?: readonly string[]; dnsNames?: readonly string[]; validityDays?: number } = {}): CertSource {
  const ca = generateCa({ commonName: 'portcullis-local-ca', validityDays: opts.validityDays ?? 30 });
  const leaf = issueServingCertificate(ca, {
    ipAddresses: opts.ipAddresses ?? ['127.0.0.1', '::1'],
    dnsNames: opts.dnsNames ?? ['localhost'],
    validityDays: opts.validityDays ?? 30,
  });
  return staticCertSource({ cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem });
}
