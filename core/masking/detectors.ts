// The value detectors a ProtectedResource's classification may name, by name. Each lives in detectors/<name>.ts
// with its own scanner (hand-written, O(n) by construction: no regular expressions) and its pre-filter.

import type { Detector } from './detector.ts';
import { awsAccessKey } from './detectors/aws-access-key.ts';
import { creditCard } from './detectors/credit-card.ts';
import { email } from './detectors/email.ts';
import { iban } from './detectors/iban.ts';
import { jwt } from './detectors/jwt.ts';
import { phone } from './detectors/phone.ts';
import { privateKey } from './detectors/private-key.ts';
import { usSsn } from './detectors/us-ssn.ts';

export type { Detector } from './detector.ts';
export type { Span } from './span.ts';
export { findAwsAccessKeys } from './detectors/aws-access-key.ts';
export { findCreditCards } from './detectors/credit-card.ts';
export { findEmails } from './detectors/email.ts';
export { findIbans } from './detectors/iban.ts';
export { findJwts } from './detectors/jwt.ts';
export { findPhones } from './detectors/phone.ts';
export { findPrivateKeys } from './detectors/private-key.ts';
export { findUsSsns } from './detectors/us-ssn.ts';

const all: readonly Detector[] = [creditCard, email, iban, usSsn, phone, jwt, awsAccessKey, privateKey];

export const DETECTORS: ReadonlyMap<string, Detector> = new Map(all.map((d) => [d.name, d]));

/** The contract's detector names, for validating a ProtectedResource. */
export const DETECTOR_NAMES: readonly string[] = all.map((d) => d.name);

export function isKnownDetector(name: string): boolean {
  return DETECTORS.has(name);
}
