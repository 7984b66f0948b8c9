// One loopback listener per PostgreSQL resource; each connection becomes a PgSession.
import { createServer, type Server, type Socket } from 'node:net';
import { PgSession } from './session.ts';
import type { PgRuntime } from './runtime.ts';

export interface PgListener {
  readonly port: number;
  readonly sessions: ReadonlySet<PgSession>;
  close(): Promise<void>;
}

export function listenPostgres(rt: PgRuntime, port: number, host = '127.0.0.1'): Promise<PgListener> {
  const sessions = new Set<PgSession>();
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const session = new PgSession(rt, socket);
    sessions.add(session);
    socket.on('close', () => {
      sockets.delete(socket);
      sessions.delete(session);
    });
    session.run().catch((e: unknown) => {
      rt.log.error({ session: session.id, err: (e as Error).message }, 'session failed');
      socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${host}:${port} for ${rt.resourceName}: ${e.message}`)));
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : port,
        sessions,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
