// The approval grant window (AgentPolicy spec.approval.grantWindow): once a person approved a statement, the same
// statement text from the same subject and pod runs again without asking, for that long. Keyed by a hash of the
// exact text, never the text itself; bounded.
export interface Grant {
  readonly until: number;
  readonly id: string;
  readonly by: string;
}

export class GrantWindow {
  readonly #grants = new Map<string, Grant>();
  readonly #max: number;

  constructor(maxEntries = 10_000) {
    this.#max = maxEntries;
  }

  static key(subject: string, pod: string, fingerprint: string, rule: string): string {
    return `${subject}\u0000${pod}\u0000${rule}\u0000${fingerprint}`;
  }

  /** The grant covering `key` now, if any (expired grants are forgotten). */
  get(key: string, now = Date.now()): Grant | undefined {
    const g = this.#grants.get(key);
    if (g === undefined) return undefined;
    if (g.until <= now) {
      this.#grants.delete(key);
      return undefined;
    }
    return g;
  }

  put(key: string, grant: Grant): void {
    if (this.#grants.size >= this.#max) {
      const oldest = this.#grants.keys().next().value;
      if (oldest !== undefined) this.#grants.delete(oldest);
    }
    this.#grants.delete(key);
    this.#grants.set(key, grant);
  }
}
