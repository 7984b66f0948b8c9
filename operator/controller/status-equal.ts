// Status comparison that ignores key order and undefined fields: a reconcile that computes what is already there
// writes nothing (and so does not wake every informer up again).
import { canonicalJson } from '../../core/policy/bundle.ts';

export function statusEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}
