// The operator's HTTPS listener (webhooks and sidecar API share it). The certificate comes from a CertSource and is
// swapped in place when the source rotates it: new connections get the new context, open ones finish on the old.
import https from 'node:https';
import type { RequestListener } from 'node:http';
import type { CertSource } from './source.ts';

export interface TlsServerOptions {
  /** Default 'TLSv1.2' (the API server speaks 1.3 as well). */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Called when a rotated certificate could not be loaded (the previous one stays in use). */
  readonly onSwapError?: (e: Error) => void;
}

export function createTlsServer(app: RequestListener, source: CertSource, opts: TlsServerOptions = {}): https.Server {
  const initial = source.current();
  const server = https.createServer({ cert: initial.cert, key: initial.key, minVersion: opts.minVersion ?? 'TLSv1.2' }, app);
  const unsubscribe = source.onChange((next) => {
    try {
      server.setSecureContext({ cert: next.cert, key: next.key, minVersion: opts.minVersion ?? 'TLSv1.2' });
    } catch (e) {
      opts.onSwapError?.(e as Error);
    }
  });
  server.once('close', unsubscribe);
  return server;
}
