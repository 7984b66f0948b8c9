// The self-managed certificate's life cycle as a pure function: given what the Secret holds (or nothing) and the
// time, what should it hold? Renewal happens at a fraction (default 2/3) of a certificate's lifetime, so there is
// always a long overlap in which the old certificate still works while every replica picks up the new one.
//
// CA rotation: a new CA is generated at 2/3 of the old one's life, the serving certificate is re-issued under it,
// and ca.crt carries both CAs (new first) until the old one expires — clients holding either verify the server.
import { X509Certificate } from 'node:crypto';
import { pemBlocks } from './der.ts';
import { generateCa, issueServingCertificate, keyMatches, signedBy, type CertificateAuthority } from './x509.ts';

/** The Secret's keys (type kubernetes.io/tls plus the CA's). */
export type TlsData = {
  readonly 'ca.crt': string;
  readonly 'ca.key': string;
  readonly 'tls.crt': string;
  readonly 'tls.key': string;
};

export interface RotationPolicy {
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly caValidityDays: number;
  readonly certValidityDays: number;
  /** Fraction of a certificate's lifetime after which it is replaced. */
  readonly renewAt: number;
}

export const DEFAULT_ROTATION: Omit<RotationPolicy, 'dnsNames'> = { caValidityDays: 3650, certValidityDays: 365, renewAt: 2 / 3 };

export interface RotationResult {
  readonly data: TlsData;
  /** What changed and why (empty: nothing to write). */
  readonly changes: readonly string[];
}

function parse(pemText: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pemText);
  } catch {
    return undefined;
  }
}

function due(cert: X509Certificate, renewAt: number, now: Date): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return now.getTime() >= from + (to - from) * renewAt;
}

function covers(cert: X509Certificate, policy: RotationPolicy): boolean {
  return policy.dnsNames.every((d) => cert.checkHost(d, { subject: 'never' }) !== undefined) && (policy.ipAddresses ?? []).every((ip) => cert.checkIP(ip) !== undefined);
}

/** What the Secret should hold at `now`. Pure apart from key generation. */
export function rotate(existing: Partial<TlsData> | undefined, policy: RotationPolicy, now: Date): RotationResult {
  const changes: string[] = [];
  const bundle = pemBlocks(existing?.['ca.crt'] ?? '');
  let signing: CertificateAuthority | undefined;
  const first = bundle[0];
  const firstCert = first ? parse(first) : undefined;
  if (first && firstCert && existing?.['ca.key'] && keyMatches(first, existing['ca.key']) && Date.parse(firstCert.validTo) > now.getTime()) {
    signing = { certPem: first, keyPem: existing['ca.key'] };
  }
  let previous: string[] = bundle.slice(1);
  if (!signing) {
    changes.push(existing ? 'the CA is missing, unreadable or expired: new CA' : 'no certificate yet: new CA');
    signing = generateCa({ validityDays: policy.caValidityDays, now });
    previous = [];
  } else if (due(firstCert!, policy.renewAt, now)) {
    changes.push(`the CA is past ${Math.round(policy.renewAt * 100)}% of its lifetime: new CA, the old one stays trusted until it expires`);
    previous = [signing.certPem, ...previous];
    signing = generateCa({ validityDays: policy.caValidityDays, now });
  }
  // Trust no CA past its expiry.
  const kept = previous.filter((p) => {
    const c = parse(p);
    return c !== undefined && Date.parse(c.validTo) > now.getTime();
  });
  if (kept.length !== previous.length) changes.push('dropped expired CAs from the bundle');

  let leafCert = existing?.['tls.crt'];
  let leafKey = existing?.['tls.key'];
  const leaf = leafCert ? parse(leafCert) : undefined;
  let reason: string | undefined;
  if (!leaf || !leafKey || !keyMatches(leafCert!, leafKey)) reason = 'no valid serving certificate';
  else if (!signedBy(leafCert!, signing.certPem)) reason = 'the serving certificate is not signed by the current CA';
  else if (due(leaf, policy.renewAt, now)) reason = `the serving certificate is past ${Math.round(policy.renewAt * 100)}% of its lifetime`;
  else if (!covers(leaf, policy)) reason = 'the serving certificate does not cover the configured names';
  if (reason) {
    changes.push(`${reason}: new serving certificate`);
    const issued = issueServingCertificate(signing, {
      dnsNames: policy.dnsNames,
      ...(policy.ipAddresses?.length ? { ipAddresses: policy.ipAddresses } : {}),
      validityDays: policy.certValidityDays,
      now,
    });
    leafCert = issued.certPem;
    leafKey = issued.keyPem;
  }
  const data: TlsData = { 'ca.crt': [signing.certPem, ...kept].join(''), 'ca.key': signing.keyPem, 'tls.crt': leafCert!, 'tls.key': leafKey! };
  return { data, changes };
}

/** When the next check can change something: the CA's and the certificate's renewal, an old CA's expiry. */
export function nextRenewal(data: TlsData, renewAt: number): Date {
  const moments: number[] = [];
  const renewal = (c: X509Certificate | undefined) => {
    if (!c) return;
    const from = Date.parse(c.validFrom);
    moments.push(from + (Date.parse(c.validTo) - from) * renewAt);
  };
  const [signing, ...previous] = pemBlocks(data['ca.crt']);
  renewal(signing ? parse(signing) : undefined);
  renewal(parse(data['tls.crt']));
  for (const p of previous) {
    const c = parse(p);
    if (c) moments.push(Date.parse(c.validTo));
  }
  return new Date(Math.min(...moments));
}
