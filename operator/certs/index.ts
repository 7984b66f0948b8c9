// One entry point for the operator's main: pick the certificate mode from configuration and get a running
// CertSource. `current().ca` is what injected sidecars must trust (InjectorConfig.operatorCa).
//   self          — the operator's own CA in Secret <secretName>, rotated, caBundle patched into the webhook
//                   configurations (default, in-cluster)
//   cert-manager  — cert-manager writes Secret <secretName>; its cainjector patches the caBundle
//   local         — throwaway in-memory CA for 127.0.0.1/localhost (`--local`, e2e); register the webhooks by URL
import type { KubeApi } from '../kube/rest.ts';
import { publishCaBundle } from './ca-bundle.ts';
import { CertManagerCertSource } from './cert-manager.ts';
import { kubeSecretStore } from './secret-store.ts';
import { DEFAULT_SECRET_NAME, SelfManagedCertSource, type Logger } from './self-managed.ts';
import { localCertSource, type CertSource } from './source.ts';

export { createTlsServer } from './tls-server.ts';
export { localCertSource, staticCertSource, type CertSource, type ServingCertificate } from './source.ts';
export { DEFAULT_SECRET_NAME } from './self-managed.ts';

export type CertMode = 'self' | 'cert-manager' | 'local';

export interface CertSourceOptions {
  readonly mode: CertMode;
  /** Required for self and cert-manager. */
  readonly api?: KubeApi;
  /** The operator's namespace: where the Secret lives and the Service is. */
  readonly namespace: string;
  readonly secretName?: string;
  /** The operator Service; its cluster DNS names go into the self-managed certificate. Default portcullis-operator. */
  readonly serviceName?: string;
  readonly extraDnsNames?: readonly string[];
  /** Configurations whose caBundle the self-managed mode keeps current. Default: portcullis (both kinds). */
  readonly webhookConfigurationName?: string;
  readonly log?: Logger;
}

/** The DNS names a client can use for a Service (the API server uses <svc>.<ns>.svc). */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, `${service}.${namespace}`, service];
}

export async function startCertSource(opts: CertSourceOptions): Promise<CertSource> {
  if (opts.mode === 'local') return localCertSource();
  if (!opts.api) throw new Error(`certificate mode ${opts.mode} needs API access`);
  const api = opts.api;
  const secretName = opts.secretName ?? DEFAULT_SECRET_NAME;
  const store = kubeSecretStore(api, opts.namespace, secretName);
  if (opts.mode === 'cert-manager') return CertManagerCertSource.start({ store, ...(opts.log ? { log: opts.log } : {}) });
  const configuration = opts.webhookConfigurationName ?? 'portcullis';
  return SelfManagedCertSource.start({
    store,
    policy: { dnsNames: [...serviceDnsNames(opts.serviceName ?? 'portcullis-operator', opts.namespace), ...(opts.extraDnsNames ?? [])] },
    publishCaBundle: async (ca) => {
      const changed = await publishCaBundle(api, { mutating: [configuration], validating: [configuration] }, ca);
      if (changed.length > 0) opts.log?.info({ configurations: changed }, 'webhook caBundle updated');
    },
    ...(opts.log ? { log: opts.log } : {}),
  });
}
