// Changes to a session's prepared-statement and portal maps while an extended-protocol batch is decided. The batch
// sees its own Parse/Bind/Close at once, but nothing of it may remain if the batch is not forwarded: a denied batch
// is undone, and one held for approval is undone while it waits and redone when it runs. Replaces copying both maps
// for every batch; the journal's arrays are reused, so the usual batch allocates nothing here.

export class MapJournal {
  readonly #maps: Array<Map<string, unknown> | undefined> = [];
  readonly #keys: string[] = [];
  readonly #had: boolean[] = [];
  readonly #old: unknown[] = [];
  #len = 0;

  set<V>(map: Map<string, V>, key: string, value: V): void {
    this.#note(map as Map<string, unknown>, key);
    map.set(key, value);
  }

  delete<V>(map: Map<string, V>, key: string): void {
    this.#note(map as Map<string, unknown>, key);
    map.delete(key);
  }

  /** Keeps every change (the batch was forwarded). */
  commit(): void {
    for (let i = 0; i < this.#len; i++) {
      this.#maps[i] = undefined;
      this.#old[i] = undefined;
    }
    this.#len = 0;
  }

  /**
   * Undoes every change, newest first, and returns what redoes them (through the journal again, so a redone batch
   * can still be undone).
   */
  rollback(): () => void {
    const redo: Array<{ map: Map<string, unknown>; key: string; has: boolean; value: unknown }> = [];
    for (let i = 0; i < this.#len; i++) {
      const map = this.#maps[i]!;
      const key = this.#keys[i]!;
      redo.push({ map, key, has: map.has(key), value: map.get(key) });
    }
    for (let i = this.#len - 1; i >= 0; i--) {
      const map = this.#maps[i]!;
      if (this.#had[i]) map.set(this.#keys[i]!, this.#old[i]);
      else map.delete(this.#keys[i]!);
    }
    this.commit();
    return () => {
      for (const r of redo) {
        if (r.has) this.set(r.map, r.key, r.value);
        else this.delete(r.map, r.key);
      }
    };
  }

  get size(): number {
    return this.#len;
  }

  #note(map: Map<string, unknown>, key: string): void {
    const i = this.#len++;
    this.#maps[i] = map;
    this.#keys[i] = key;
    this.#had[i] = map.has(key);
    this.#old[i] = map.get(key);
  }
}
