// metav1.Condition bookkeeping with the API conventions: one condition per type, lastTransitionTime changes only when
// the status changes (a new reason or message alone keeps it), observedGeneration says which spec it describes.
import type { Condition } from '../../core/api/index.ts';

export interface DesiredCondition {
  readonly type: string;
  readonly status: Condition['status'];
  readonly reason: string;
  readonly message: string;
}

/** The CRD bounds a condition's message; a compile error listing many issues must still fit. */
export const MAX_CONDITION_MESSAGE = 32_768;

export function truncateMessage(message: string): string {
  if (message.length <= MAX_CONDITION_MESSAGE) return message;
  const suffix = ' … (truncated)';
  return message.slice(0, MAX_CONDITION_MESSAGE - suffix.length) + suffix;
}

/** The conditions after applying `desired` to `current` (types not in `desired` are kept as they are). */
export function mergeConditions(
  current: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number | undefined,
  now: string,
): Condition[] {
  const out: Condition[] = [...(current ?? [])];
  for (const d of desired) {
    const i = out.findIndex((c) => c.type === d.type);
    const prev = i >= 0 ? out[i] : undefined;
    const next: Condition = {
      type: d.type,
      status: d.status,
      reason: d.reason,
      message: truncateMessage(d.message),
      lastTransitionTime: prev && prev.status === d.status ? prev.lastTransitionTime : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  return out;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
