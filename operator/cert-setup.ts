// The serving certificate for the configured mode (see OperatorConfig.certMode), as a CertSource the TLS server and
// the injector (which hands the CA to sidecars) both follow.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { publishCaBundle } from './certs/ca-bundle.ts';
import { CertManagerCertSource } from './certs/cert-manager.ts';
import { kubeSecretStore } from './certs/secret-store.ts';
import { SelfManagedCertSource } from './certs/self-managed.ts';
import { CertListeners, localCertSource, type CertSource, type ServingCertificate } from './certs/source.ts';
import type { OperatorConfig } from './config.ts';
import type { KubeApi } from './kube/rest.ts';

/** PEM files given by flags (e.g. mounted from a Secret), re-read when the certificate file changes. */
export function fileCertSource(files: { certFile: string; keyFile: string; caFile?: string }, onError?: (e: Error) => void): CertSource {
  const read = (): ServingCertificate => {
    const cert = readFileSync(files.certFile, 'utf8');
    return { cert, key: readFileSync(files.keyFile, 'utf8'), ca: files.caFile ? readFileSync(files.caFile, 'utf8') : cert };
  };
  let current = read();
  const listeners = new CertListeners();
  const reload = () => {
    try {
      current = read();
      listeners.emit(current, (e) => onError?.(e as Error));
    } catch (e) {
      onError?.(e as Error);
    }
  };
  watchFile(files.certFile, { interval: 10_000 }, reload);
  return {
    current: () => current,
    onChange: (l) => listeners.add(l),
    close: () => {
      unwatchFile(files.certFile, reload);
      listeners.clear();
    },
  };
}

export async function certSourceFor(config: OperatorConfig, api: KubeApi, log: Logger): Promise<CertSource> {
  switch (config.certMode) {
    case 'files':
      return fileCertSource(
        { certFile: config.tlsCertFile!, keyFile: config.tlsKeyFile!, ...(config.tlsCaFile ? { caFile: config.tlsCaFile } : {}) },
        (e) => log.error({ err: e.message }, 'serving certificate reload failed; keeping the previous one'),
      );
    case 'local':
      return localCertSource();
    case 'self-managed': {
      const svc = config.serviceName;
      const ns = config.operatorNamespace;
      const names = { mutating: [config.webhookConfiguration], validating: [config.webhookConfiguration] };
      return SelfManagedCertSource.start({
        store: kubeSecretStore(api, ns, config.certSecret),
        policy: { dnsNames: [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`] },
        publishCaBundle: async (ca) => {
          const changed = await publishCaBundle(api, names, ca);
          if (changed.length > 0) log.info({ configurations: changed }, 'CA bundle published to the webhook configurations');
        },
        log,
      });
    }
    case 'cert-manager':
      return CertManagerCertSource.start({ store: kubeSecretStore(api, config.operatorNamespace, config.certSecret), log });
  }
}
