// `subjects.claims`: claim → accepted values. A claim matches when its value — or, for an array claim such as
// `groups`, any of its elements — is one of the accepted values. `groups` is checked against the identity's groups
// (so service-account tokens match on their derived groups) and `sub` against the subject.

import { AuthError } from './auth-error.ts';

export type RequiredClaims = Readonly<Record<string, readonly string[]>>;

function claimValues(value: unknown): readonly string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const element of value) {
    if (typeof element === 'string') out.push(element);
    else if (typeof element === 'number' || typeof element === 'boolean') out.push(String(element));
  }
  return out;
}

/** Throws at configuration time on a requirement that could never be met or is not a list of strings. */
export function validateRequiredClaims(required: unknown): RequiredClaims {
  if (required === undefined) return {};
  if (typeof required !== 'object' || required === null || Array.isArray(required)) {
    throw new Error('claims must map claim names to lists of accepted values');
  }
  for (const [name, accepted] of Object.entries(required)) {
    if (!Array.isArray(accepted) || accepted.length === 0 || !accepted.every((v) => typeof v === 'string')) {
      throw new Error(`claims.${name} must be a non-empty list of accepted values`);
    }
  }
  return required as RequiredClaims;
}

export function checkRequiredClaims(
  required: RequiredClaims,
  payload: Readonly<Record<string, unknown>>,
  subject: string,
  groups: readonly string[],
): void {
  for (const name of Object.keys(required)) {
    const accepted = required[name] as readonly string[];
    const values = name === 'groups' ? groups : name === 'sub' ? [subject] : claimValues(payload[name]);
    if (!values.some((value) => accepted.includes(value))) {
      throw new AuthError('claims', `token claim "${name}" has no accepted value`);
    }
  }
}
