// The parts of one statement while it is walked, and the SqlPart objects they become.
import type { SqlFunctionRef, SqlPart } from '../command.ts';

/** Parts of one statement unit, deduplicated by (kind, relation); few entries, so a linear scan beats a Map. */
export class PartList {
  readonly kinds: string[] = [];
  readonly relations: (string | undefined)[] = [];
  readonly unbounded: boolean[] = [];

  get size(): number {
    return this.kinds.length;
  }

  add(kind: string, relation?: string, unbounded = false): void {
    const kinds = this.kinds;
    for (let i = 0; i < kinds.length; i++) {
      if (kinds[i] === kind && this.relations[i] === relation) {
        if (unbounded) this.unbounded[i] = true;
        return;
      }
    }
    kinds.push(kind);
    this.relations.push(relation);
    this.unbounded.push(unbounded);
  }

  addAll(other: PartList): void {
    for (let i = 0; i < other.kinds.length; i++) {
      this.add(other.kinds[i] as string, other.relations[i], other.unbounded[i] === true);
    }
  }

  /** Distinct relations, in order of appearance. */
  relationList(): string[] {
    const out: string[] = [];
    for (const r of this.relations) if (r !== undefined && !out.includes(r)) out.push(r);
    return out;
  }
}

export function makePart(
  kind: string,
  relation: string | undefined,
  unboundedWrite: boolean,
  functions: readonly SqlFunctionRef[],
  dynamicSqlFunctions: readonly SqlFunctionRef[],
  statement: number,
): SqlPart {
  return relation === undefined
    ? { protocol: 'sql', kind, functions, unboundedWrite, dynamicSqlFunctions, statement }
    : { protocol: 'sql', kind, relation, functions, unboundedWrite, dynamicSqlFunctions, statement };
}
