// The HTTPS listener for the webhooks and the sidecar API, from PEM files. The files are watched and the TLS context
// swapped in place when they change (a rotated certificate needs no restart). A stand-in until the certificates
// module provides its own certificate source; both end in https.Server.setSecureContext.
import https from 'node:https';
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export async function listenTlsFromFiles(app: Express, files: TlsFiles, port: number, address: string, onReload?: (err?: Error) => void): Promise<{ port: number; close(): Promise<void> }> {
  const read = () => ({ cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) });
  const server = https.createServer({ ...read(), minVersion: 'TLSv1.2' }, app);
  // Long polls hold requests for up to a minute; the defaults would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 75_000;
  const reload = () => {
    try {
      server.setSecureContext({ ...read(), minVersion: 'TLSv1.2' });
      onReload?.();
    } catch (e) {
      onReload?.(e as Error);
    }
  };
  watchFile(files.certFile, { interval: 10_000 }, reload);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      unwatchFile(files.certFile, reload);
      server.closeIdleConnections();
      return new Promise<void>((r) => {
        server.close(() => r());
        // Sidecars in a long poll were answered by the router's close; cut whatever is left.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    },
  };
}
