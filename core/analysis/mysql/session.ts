// The session state an analysis reads and changes, statement by statement, within one command.
import type { SqlPart } from '../command.ts';

export class Session {
  database: string | undefined;
  readonly maxDepth: number;
  private preparedMap: ReadonlyMap<string, readonly SqlPart[]>;
  private preparedOwned = false;

  constructor(database: string | undefined, prepared: ReadonlyMap<string, readonly SqlPart[]>, maxDepth: number) {
    this.database = database;
    this.preparedMap = prepared;
    this.maxDepth = maxDepth;
  }

  /** The prepared statements now; the input map itself while nothing changed. */
  get prepared(): ReadonlyMap<string, readonly SqlPart[]> {
    return this.preparedMap;
  }

  /** MySQL statement names are case-insensitive. */
  lookupPrepared(name: string): readonly SqlPart[] | undefined {
    return this.preparedMap.get(name.toLowerCase());
  }

  setPrepared(name: string, parts: readonly SqlPart[] | undefined): void {
    const map = this.ownPrepared();
    if (parts === undefined) map.delete(name.toLowerCase());
    else map.set(name.toLowerCase(), parts);
  }

  private ownPrepared(): Map<string, readonly SqlPart[]> {
    if (!this.preparedOwned) {
      this.preparedMap = new Map(this.preparedMap);
      this.preparedOwned = true;
    }
    return this.preparedMap as Map<string, readonly SqlPart[]>;
  }
}
