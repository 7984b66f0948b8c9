// Standalone mode's bundle source: the same manifests a cluster would hold, read from files, compiled, and reloaded
// when they change. An invalid edit never replaces a working bundle: the previous one stays in force and the error
// is reported.
import { watch, type FSWatcher } from 'node:fs';
import { EventEmitter } from 'node:events';
import { loadManifests, manifestFiles } from '../../core/manifests/load.ts';
import { offlineBundle, type OfflineBundle } from '../../core/manifests/offline-bundle.ts';

export interface FileSourceOptions {
  readonly paths: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly namespace?: string;
  readonly debounceMs?: number;
}

export interface FileSourceEvents {
  bundle: [OfflineBundle];
  error: [Error];
}

export class FileBundleSource extends EventEmitter<FileSourceEvents> {
  readonly #opts: FileSourceOptions;
  #current: OfflineBundle | undefined;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: FileSourceOptions) {
    super();
    this.#opts = opts;
  }

  get current(): OfflineBundle | undefined {
    return this.#current;
  }

  /** Loads once; throws when the files do not compile (there is no previous bundle to keep). */
  load(): OfflineBundle {
    const next = offlineBundle(loadManifests(this.#opts.paths), {
      ...(this.#opts.labels ? { labels: this.#opts.labels } : {}),
      ...(this.#opts.namespace ? { namespace: this.#opts.namespace } : {}),
    });
    this.#current = next;
    return next;
  }

  /** Watches the files and directories; reloads (debounced) on change. */
  watch(): void {
    const targets = new Set<string>([...this.#opts.paths, ...manifestFiles(this.#opts.paths)]);
    for (const t of targets) {
      try {
        this.#watchers.push(watch(t, { persistent: false }, () => this.#schedule()));
      } catch (e) {
        this.emit('error', new Error(`cannot watch ${t}: ${(e as Error).message}`));
      }
    }
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#opts.debounceMs ?? 150);
    this.#timer.unref();
  }

  /**
   * Reloads now; emits `bundle` on success (always: Secrets are not part of the bundle hash, so an unchanged hash
   * may still carry new credentials), `error` — keeping the previous bundle — when the files are invalid.
   */
  reload(): void {
    try {
      this.emit('bundle', this.load());
    } catch (e) {
      this.emit('error', e as Error);
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }
}
