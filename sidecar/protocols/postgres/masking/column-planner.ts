// Column-level masking for PostgreSQL results (catalog + parse-tree lineage) on top of the detector backstop.
// Placeholder: until the column planner lands, only the detector backstop runs.
import type { BundleResource } from '../../../../core/policy/bundle.ts';
import type { ResultPlanner } from '../result-masking.ts';

export function columnPlanner(base: ResultPlanner, _ctx: { resource: BundleResource; hashKey: Buffer }): ResultPlanner {
  return base;
}
