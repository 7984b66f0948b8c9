import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { namedBits, oid, pemBlocks, smallInteger, time, tlv, unsignedInteger } from './der.ts';
import { generateCa, ipBytes, issueServingCertificate, keyMatches, signedBy, validity } from './x509.ts';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encodings', () => {
  const cases: [string, Buffer, string][] = [
    ['INTEGER 0', smallInteger(0), '020100'],
    ['INTEGER 127', smallInteger(127), '02017f'],
    ['INTEGER 128 (pad)', smallInteger(128), '02020080'],
    ['INTEGER 256', smallInteger(256), '02020100'],
    ['unsigned INTEGER strips leading zeros', unsignedInteger(Buffer.from([0, 0, 0x12])), '020112'],
    ['OID ecdsa-with-SHA256', oid('1.2.840.10045.4.3.2'), '06082a8648ce3d040302'],
    ['OID commonName', oid('2.5.4.3'), '0603550403'],
    ['KeyUsage digitalSignature', namedBits([0]), '03020780'],
    ['KeyUsage digitalSignature|keyCertSign|cRLSign', namedBits([0, 5, 6]), '03020186'],
    ['UTCTime before 2050', time(new Date('2049-12-31T23:59:59Z')), `170d${Buffer.from('491231235959Z').toString('hex')}`],
    ['GeneralizedTime from 2050', time(new Date('2050-01-01T00:00:00Z')), `180f${Buffer.from('20500101000000Z').toString('hex')}`],
  ];
  for (const [name, got, want] of cases) it(name, () => assert.equal(hex(got), want));

  it('lengths: short form below 128, long form above', () => {
    assert.equal(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4), '047f');
    assert.equal(hex(tlv(0x04, Buffer.alloc(128))).slice(0, 6), '048180');
    assert.equal(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8), '0482012c');
  });

  it('IPv6 addresses in SAN bytes', () => {
    assert.equal(hex(ipBytes('::1')), '00000000000000000000000000000001');
    assert.equal(hex(ipBytes('fd00:1::a')), 'fd00000100000000000000000000000a');
    assert.equal(hex(ipBytes('::ffff:10.0.0.1')), '00000000000000000000ffff0a000001');
    assert.equal(hex(ipBytes('10.96.0.1')), '0a600001');
    assert.throws(() => ipBytes('not-an-ip'), /not an IP address/);
  });
});

describe('issued certificates', () => {
  const now = new Date();
  const ca = generateCa({ validityDays: 3650, now });
  const dnsNames = ['portcullis-operator.portcullis-system.svc', 'localhost'];
  const leaf = issueServingCertificate(ca, { dnsNames, ipAddresses: ['127.0.0.1', '::1'], validityDays: 365, now });

  it('the CA is a CA, self-signed, valid for the requested days', () => {
    const c = new X509Certificate(ca.certPem);
    assert.equal(c.ca, true);
    assert.ok(signedBy(ca.certPem, ca.certPem));
    const v = validity(ca.certPem);
    assert.ok(Math.abs(v.notAfter.getTime() - now.getTime() - 3650 * 86400_000) < 2000);
    assert.ok(v.notBefore.getTime() < now.getTime(), 'backdated against clock skew');
  });

  it('the leaf is not a CA, is signed by the CA, and covers every name', () => {
    const c = new X509Certificate(leaf.certPem);
    assert.equal(c.ca, false);
    assert.ok(signedBy(leaf.certPem, ca.certPem));
    assert.ok(c.checkIssued(new X509Certificate(ca.certPem)));
    for (const d of dnsNames) assert.equal(c.checkHost(d, { subject: 'never' }), d);
    assert.equal(c.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(c.checkIP('::1'));
    assert.equal(c.checkHost('evil.example', { subject: 'never' }), undefined);
    assert.ok(keyMatches(leaf.certPem, leaf.keyPem));
    assert.ok(!keyMatches(leaf.certPem, ca.keyPem));
    assert.match(c.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/);
  });

  it('serials are random and positive', () => {
    const a = new X509Certificate(issueServingCertificate(ca, { dnsNames: ['a'], validityDays: 1 }).certPem).serialNumber;
    const b = new X509Certificate(issueServingCertificate(ca, { dnsNames: ['a'], validityDays: 1 }).certPem).serialNumber;
    assert.notEqual(a, b);
    assert.ok(parseInt(a.slice(0, 1), 16) < 8);
  });

  it('openssl verifies the chain strictly for TLS server use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-x509-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
      const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.match(out, /leaf\.pem: OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a TLS client trusting only the CA completes a handshake by name and by IP', async () => {
    const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      for (const servername of ['localhost', undefined]) {
        const authorized = await new Promise<boolean>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, ...(servername ? { servername } : {}) }, () => {
            resolve(s.authorized);
            s.end();
          });
          s.on('error', reject);
        });
        assert.equal(authorized, true, `servername ${servername}`);
      }
      const other = generateCa({ validityDays: 1 });
      await assert.rejects(
        new Promise((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port, ca: other.certPem, servername: 'localhost' }, () => resolve(s.end()));
          s.on('error', reject);
        }),
        /certificate/,
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('pemBlocks splits a bundle in order', () => {
    const other = generateCa({ validityDays: 1 });
    assert.deepEqual(pemBlocks(`${ca.certPem}${other.certPem}`), [ca.certPem, other.certPem]);
    assert.deepEqual(pemBlocks('garbage'), []);
  });
});
