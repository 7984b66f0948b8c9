// `strict: true`: a statement that uses a classified column to filter, group, order or join — in any nested query —
// is denied, because the rows it returns (or their count and order) tell about the values even when the values
// themselves are masked. Decided synchronously before the statement is forwarded, from the parse tree (lineage's
// filter positions, resolved through sub-selects, CTEs and views) and the cached catalog. A relation the catalog has
// not described yet cannot be ruled out: the statement is denied with a "retry" reason while the facts are fetched
// (the planner loads every relation up front when strict masking is configured, so this happens after DDL only).
import {
  ANYTHING,
  lineageOfStatements,
  READS,
  type Col,
} from '../../../../core/analysis/postgres/lineage.ts';
import type { PgTrackedState } from '../../../../core/analysis/postgres/session-tracker.ts';
import type { Catalog } from './catalog.ts';
import { Missing } from './catalog.ts';
import { Classifier, type MaskClass } from './classify.ts';

export interface StrictInput {
  /** The parsed top-level statements (see parseStatements). */
  readonly statements: readonly unknown[];
  readonly state: PgTrackedState;
}

export interface StrictResult {
  /** The reason to deny, if any. */
  readonly violation?: string;
  /** Catalog facts that were missing (the caller fetches them); a violation found without them still stands. */
  readonly missing?: Missing;
}

/** Checks the statements against the strict classifications. */
export function checkStrict(input: StrictInput, classes: readonly MaskClass[], catalog: Catalog): StrictResult {
  const strict = classes.filter((c) => c.strict);
  if (strict.length === 0) return {};
  const missing = new Missing();
  const classifier = new Classifier(classes, catalog, missing);
  const uses: Array<{ statement: number; position: string; col: Col }> = [];
  const lin = lineageOfStatements(input.statements, input.state, {
    catalog: classifier.lineageCatalog,
    filters: (statement, position, col) => uses.push({ statement, position, col }),
  });
  for (const u of uses) {
    const hit = violation(u.col, lin.statements[u.statement]?.relations ?? [], strict, classifier);
    if (hit !== undefined) {
      return { violation: `strict masking: ${hit.what} (classification ${hit.class}) is used in ${u.position}; the statement could reveal it by filtering` };
    }
  }
  return missing.empty ? {} : { missing };
}

function violation(col: Col, relations: readonly string[], strict: readonly MaskClass[], classifier: Classifier): { what: string; class: string } | undefined {
  const first = (set: ReadonlySet<number>): string | undefined => strict.find((c) => set.has(c.index))?.name;
  for (const s of col.sources) {
    const c = first(classifier.ofSource(s));
    if (c !== undefined) return { what: s.endsWith('.*') ? `a whole row of ${s.slice(0, -2)}` : `column ${s}`, class: c };
  }
  if (col.unknown === ANYTHING) {
    const c = strict[0];
    if (c) return { what: 'a value computed by code portcullis cannot see into', class: c.name };
  }
  if (col.unknown === READS) {
    for (const r of relations) {
      const c = first(classifier.ofRelation(r));
      if (c !== undefined) return { what: `a value of ${r} whose column cannot be determined`, class: c };
    }
  }
  return undefined;
}
