// Minimal X.509 v3 issuance with node:crypto: ECDSA P-256 keys, SHA-256 signatures, the extensions a CA and a TLS
// server certificate need (basicConstraints, keyUsage, extKeyUsage, subjectAltName, key identifiers).
//
// Why not openssl through child_process: the operator image is distroless (no openssl binary), rotation runs in the
// operator process, and this is ~150 lines that tests verify with node's X509Certificate, `openssl verify` and,
// end to end, the API server's Go TLS stack.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import {
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  namedBits,
  octetString,
  oid,
  pem,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

// KeyUsage bits (RFC 5280 §4.2.1.3).
const DIGITAL_SIGNATURE = 0;
const KEY_CERT_SIGN = 5;
const CRL_SIGN = 6;

export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA: boolean;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** The issuing CA; absent for a self-signed certificate. */
  readonly issuer?: KeyPair;
}

function name(commonName: string, organization?: string): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(...(organization ? [rdn(OID.organization, organization)] : []), rdn(OID.commonName, commonName));
}

function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  // critical is BOOLEAN DEFAULT FALSE: DER leaves a default out.
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function keyId(publicKey: KeyObject): Buffer {
  // RFC 7093 §2 method 1 style: leftmost 160 bits of SHA-256 over the key.
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 20);
}

export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Issues a certificate for a fresh P-256 key. */
export function issueCertificate(opts: IssueOptions): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = opts.issuer ? createPrivateKey(opts.issuer.keyPem) : privateKey;
  const issuerCert = opts.issuer ? new X509Certificate(opts.issuer.certPem) : undefined;
  const issuerName = issuerCert ? Buffer.from(issuerCert.raw.subarray(...subjectRange(issuerCert.raw))) : name(opts.commonName, opts.organization);
  const issuerKey = issuerCert ? issuerCert.publicKey : publicKey;

  // Serial: 16 random bytes, top bit cleared so the INTEGER is positive without padding; never all zero.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;

  const sigAlg = sequence(oid(OID.ecdsaWithSha256));
  const exts: Buffer[] = [
    extension(OID.basicConstraints, true, opts.isCA ? sequence(boolean(true), smallInteger(0)) : sequence()),
    extension(OID.keyUsage, true, namedBits(opts.isCA ? [DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN] : [DIGITAL_SIGNATURE])),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId(publicKey))),
  ];
  if (opts.issuer) exts.push(extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId(issuerKey)))));
  if (!opts.isCA) {
    exts.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
    const names = [
      ...(opts.dnsNames ?? []).map((d) => implicitPrimitive(2, Buffer.from(d, 'ascii'))),
      ...(opts.ipAddresses ?? []).map((ip) => implicitPrimitive(7, ipBytes(ip))),
    ];
    if (names.length === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
    exts.push(extension(OID.subjectAltName, false, sequence(...names)));
  }
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    sigAlg,
    issuerName,
    sequence(time(opts.notBefore), time(opts.notAfter)),
    name(opts.commonName, opts.organization),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...exts)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = sequence(tbs, sigAlg, bitString(signature));
  return { certPem: pem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Byte range of the subject Name inside a certificate's DER (to copy the issuer name byte for byte). */
function subjectRange(der: Buffer): [number, number] {
  // Certificate → TBSCertificate → [version, serial, sigAlg, issuer, validity, subject, …]
  let [, pos] = header(der, 0); // Certificate SEQUENCE
  [, pos] = header(der, pos); // TBSCertificate SEQUENCE
  for (let field = 0; field < 5; field++) pos = skip(der, pos);
  return [pos, skip(der, pos)];
}

function header(der: Buffer, pos: number): [length: number, contentStart: number] {
  const first = der[pos + 1]!;
  if (first < 0x80) return [first, pos + 2];
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[pos + 2 + i]!;
  return [len, pos + 2 + n];
}

function skip(der: Buffer, pos: number): number {
  const [len, start] = header(der, pos);
  return start + len;
}

export type CertificateAuthority = KeyPair;

const DAY_MS = 24 * 60 * 60 * 1000;
// Backdated a little: clocks of the API server and the operator are never exactly equal.
const BACKDATE_MS = 5 * 60 * 1000;

export function generateCa(opts: { commonName?: string; validityDays: number; now?: Date }): CertificateAuthority {
  const now = opts.now ?? new Date();
  return issueCertificate({
    commonName: opts.commonName ?? 'portcullis-webhook-ca',
    organization: 'portcullis.dev',
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + opts.validityDays * DAY_MS),
    isCA: true,
  });
}

export function issueServingCertificate(
  ca: CertificateAuthority,
  opts: { dnsNames?: readonly string[]; ipAddresses?: readonly string[]; validityDays: number; now?: Date },
): KeyPair {
  const now = opts.now ?? new Date();
  return issueCertificate({
    commonName: opts.dnsNames?.[0] ?? opts.ipAddresses?.[0] ?? 'portcullis',
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + opts.validityDays * DAY_MS),
    isCA: false,
    ...(opts.dnsNames ? { dnsNames: opts.dnsNames } : {}),
    ...(opts.ipAddresses ? { ipAddresses: opts.ipAddresses } : {}),
    issuer: ca,
  });
}

/** notBefore/notAfter of a PEM certificate. */
export function validity(certPem: string): { notBefore: Date; notAfter: Date } {
  const c = new X509Certificate(certPem);
  return { notBefore: new Date(c.validFrom), notAfter: new Date(c.validTo) };
}

/** True when the key belongs to the certificate. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** True when `certPem` is signed by `caPem`'s key. */
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    return new X509Certificate(certPem).verify(createPublicKey(new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'pem' })));
  } catch {
    return false;
  }
}
