// CancelRequest mapping. The agent only ever sees the sidecar's own BackendKeyData; a CancelRequest arrives on a
// fresh connection with that key and is forwarded, on a fresh upstream connection, with the real server's key.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { connect } from 'node:net';
import { buildCancelRequest } from './codec/index.ts';
import type { UpstreamTarget } from './upstream.ts';

interface Entry {
  readonly key: Buffer;
  readonly target: UpstreamTarget;
  readonly upstreamPid: number;
  readonly upstreamKey: Buffer;
}

export class CancelRegistry {
  readonly #entries = new Map<number, Entry>();
  #nextPid = (randomBytes(4).readUInt32BE(0) & 0x3fffffff) + 1;

  /** Registers a session; returns the (pid, key) to give the agent. */
  register(target: UpstreamTarget, upstreamPid: number, upstreamKey: Buffer): { pid: number; key: Buffer } {
    const pid = this.#nextPid++ & 0x7fffffff || 1;
    const key = randomBytes(4);
    this.#entries.set(pid, { key, target, upstreamPid, upstreamKey });
    return { pid, key };
  }

  unregister(pid: number): void {
    this.#entries.delete(pid);
  }

  /** Forwards a cancel when the key matches; silently ignores it otherwise (as PostgreSQL does). */
  async cancel(pid: number, key: Buffer): Promise<boolean> {
    const e = this.#entries.get(pid);
    if (!e || e.key.length !== key.length || !timingSafeEqual(e.key, key)) return false;
    // CancelRequest goes in clear even where sessions use TLS (as libpq does when the server allows it); a
    // verify-full endpoint would need a TLS cancel — PostgreSQL accepts plain cancels on its port either way.
    await new Promise<void>((resolve) => {
      const s = connect({ host: e.target.host, port: e.target.port }, () => {
        s.end(buildCancelRequest(e.upstreamPid, e.upstreamKey));
      });
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.setTimeout(5000, () => s.destroy());
    });
    return true;
  }
}
