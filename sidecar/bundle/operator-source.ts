// Cluster mode's bundle source: the operator's sidecar API. `GET /v1/bundle` with the sidecar's projected token
// (re-read before every request: the kubelet rotates it) over TLS verified against the operator's CA; then long polls
// (`?wait=<hash>`) so a policy change arrives within seconds. While the operator is unreachable or refuses, the last
// bundle stays in force and retries back off exponentially. Emits `bundle` like FileBundleSource, with the
// credentials read from the files the injector mounted (CREDENTIALS_DIR/<resource>/<key>), never from the network.
import { EventEmitter } from 'node:events';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { bundleFormatVersion, hashBundle, type Bundle } from '../../core/policy/bundle.ts';
import type { OfflineBundle } from '../../core/manifests/offline-bundle.ts';

export interface OperatorSourceOptions {
  /** The operator's base URL, e.g. https://portcullis-operator.portcullis.svc:8443 */
  readonly url: string;
  /** The projected service-account token (audience portcullis-sidecar). */
  readonly tokenFile: string;
  /** PEM CA bundle that signs the operator's serving certificate. */
  readonly caFile?: string;
  /** Where the credentials Secrets are mounted, one directory per resource. Absent: no secrets in the result. */
  readonly credentialsDir?: string;
  /** Long-poll hold asked of the operator; default 30 s. */
  readonly waitMs?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Largest bundle accepted; default 16 MiB. */
  readonly maxBytes?: number;
}

export interface OperatorSourceEvents {
  bundle: [OfflineBundle];
  error: [Error];
}

export class BundleFetchError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'BundleFetchError';
    this.status = status;
  }
}

interface FetchResult {
  readonly status: number;
  readonly body: Buffer;
}

export class OperatorBundleSource extends EventEmitter<OperatorSourceEvents> {
  readonly #o: OperatorSourceOptions;
  readonly #base: URL;
  #current: OfflineBundle | undefined;
  #running = false;
  #backoff: number;
  #request: http.ClientRequest | undefined;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #agent: http.Agent;

  constructor(opts: OperatorSourceOptions) {
    super();
    this.#o = opts;
    this.#base = new URL(opts.url);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') throw new Error(`operator URL ${opts.url} must be https`);
    this.#backoff = opts.minBackoffMs ?? 500;
    this.#agent = this.#base.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  get current(): OfflineBundle | undefined {
    return this.#current;
  }

  /**
   * Fetches the bundle (no waiting), retrying with back-off until `deadlineMs` passes; throws the last error then.
   * The sidecar calls this at start: without a bundle it cannot serve anyone.
   */
  async load(deadlineMs = 60_000): Promise<OfflineBundle> {
    const end = Date.now() + deadlineMs;
    let backoff = this.#o.minBackoffMs ?? 500;
    for (;;) {
      try {
        const got = await this.#fetch(undefined);
        if (got) return this.#accept(got, false);
      } catch (e) {
        if (Date.now() + backoff >= end) throw e;
        this.emit('error', e as Error);
      }
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, this.#o.maxBackoffMs ?? 30_000);
    }
  }

  /** Starts the long-poll loop (after load()). */
  watch(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  close(): void {
    this.#running = false;
    this.#request?.destroy();
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
    this.#agent.destroy();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      try {
        const got = await this.#fetch(this.#current?.bundle.hash);
        if (got) this.#accept(got, true);
        this.#backoff = this.#o.minBackoffMs ?? 500;
      } catch (e) {
        if (!this.#running) return;
        this.emit('error', e as Error);
        await this.#pause(this.#backoff);
        this.#backoff = Math.min(this.#backoff * 2, this.#o.maxBackoffMs ?? 30_000);
      }
    }
  }

  async #pause(ms: number): Promise<void> {
    // Jitter, so a restarted operator is not hit by every sidecar at the same instant.
    const delay = ms / 2 + Math.random() * (ms / 2);
    await new Promise<void>((wake) => {
      this.#sleep = { timer: setTimeout(wake, delay), wake };
    });
    this.#sleep = undefined;
  }

  #accept(bundle: Bundle, emit: boolean): OfflineBundle {
    const loaded: OfflineBundle = { bundle, secrets: this.#o.credentialsDir ? readCredentials(this.#o.credentialsDir, bundle) : new Map() };
    this.#current = loaded;
    if (emit) this.emit('bundle', loaded);
    return loaded;
  }

  /** One request: the new bundle, or undefined when the long poll ended without a change (304). */
  async #fetch(wait: string | undefined): Promise<Bundle | undefined> {
    const waitMs = this.#o.waitMs ?? 30_000;
    const token = readFileSync(this.#o.tokenFile, 'utf8').trim();
    if (!token) throw new BundleFetchError(`token file ${this.#o.tokenFile} is empty`);
    const path = `${this.#base.pathname.replace(/\/$/, '')}/v1/bundle${wait ? `?wait=${encodeURIComponent(wait)}&timeout=${Math.ceil(waitMs / 1000)}s` : ''}`;
    const res = await this.#get(path, token, wait ? waitMs + 15_000 : 15_000);
    if (res.status === 304) return undefined;
    if (res.status !== 200) {
      let reason = res.body.toString('utf8').slice(0, 500);
      try {
        reason = (JSON.parse(reason) as { error?: string }).error ?? reason;
      } catch { /* not JSON: keep the text */ }
      throw new BundleFetchError(`operator answered ${res.status}: ${reason}`, res.status);
    }
    return parseBundle(res.body);
  }

  #get(path: string, token: string, timeoutMs: number): Promise<FetchResult> {
    const max = this.#o.maxBytes ?? 16 * 1024 * 1024;
    const options: https.RequestOptions = {
      method: 'GET',
      hostname: this.#base.hostname.replace(/^\[|\]$/g, ''),
      port: this.#base.port || (this.#base.protocol === 'https:' ? 443 : 80),
      path,
      agent: this.#agent,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      ...(this.#o.caFile ? { ca: readFileSync(this.#o.caFile) } : {}),
    };
    const mod = this.#base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) req.destroy(new BundleFetchError(`bundle larger than ${max} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      this.#request = req;
      req.setTimeout(timeoutMs, () => req.destroy(new BundleFetchError(`no answer from the operator within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.on('close', () => {
        if (this.#request === req) this.#request = undefined;
      });
      req.end();
    });
  }
}

/** Parses and checks a served bundle: the expected shape and a hash that matches its content. */
export function parseBundle(body: Buffer): Bundle {
  let b: Bundle;
  try {
    b = JSON.parse(body.toString('utf8')) as Bundle;
  } catch {
    throw new BundleFetchError('the operator sent a bundle that is not JSON');
  }
  if (typeof b !== 'object' || b === null || typeof b.hash !== 'string' || !Array.isArray(b.resources) || !Array.isArray(b.policies)) {
    throw new BundleFetchError('the operator sent something that is not a bundle');
  }
  if (b.formatVersion !== bundleFormatVersion) throw new BundleFetchError(`bundle format ${String(b.formatVersion)} is not ${bundleFormatVersion}`);
  if (hashBundle(b) !== b.hash) throw new BundleFetchError('the bundle does not match its hash');
  return b;
}

/**
 * The mounted credentials, keyed by Secret name as OfflineBundle expects: CREDENTIALS_DIR/<resource>/<key> files
 * (Secret volumes also hold `..data`-style entries, which are skipped). A resource whose directory is missing has no
 * entry: its sidecar listener reports that, rather than this source failing the whole bundle.
 */
export function readCredentials(dir: string, bundle: Bundle): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const r of bundle.resources) {
    if (!r.credentialsSecret) continue;
    const rdir = join(dir, r.name);
    let names: string[];
    try {
      names = readdirSync(rdir);
    } catch {
      continue;
    }
    const values: Record<string, string> = {};
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const file = join(rdir, n);
      try {
        if (!statSync(file).isFile()) continue;
        values[n] = readFileSync(file, 'utf8');
      } catch {
        // A file replaced mid-rotation: the next bundle event reads it again.
      }
    }
    out.set(r.credentialsSecret, values);
  }
  return out;
}
