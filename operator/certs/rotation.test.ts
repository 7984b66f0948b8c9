import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { pemBlocks } from './der.ts';
import { nextRenewal, rotate, type RotationPolicy, type TlsData } from './rotation.ts';
import { generateCa, issueServingCertificate, signedBy } from './x509.ts';

const DAY = 86400_000;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const policy: RotationPolicy = { dnsNames: ['portcullis-operator.portcullis-system.svc'], caValidityDays: 3650, certValidityDays: 365, renewAt: 2 / 3 };

const first = rotate(undefined, policy, T0);

describe('rotate: the self-managed certificate\'s life', () => {
  it('nothing stored → a new CA and a serving certificate signed by it', () => {
    assert.match(first.changes.join(), /no certificate yet: new CA/);
    assert.match(first.changes.join(), /new serving certificate/);
    assert.equal(pemBlocks(first.data['ca.crt']).length, 1);
    assert.ok(signedBy(first.data['tls.crt'], first.data['ca.crt']));
    assert.ok(new X509Certificate(first.data['tls.crt']).checkHost(policy.dnsNames[0]!, { subject: 'never' }));
  });

  it('still fresh → nothing changes', () => {
    const again = rotate(first.data, policy, at(200));
    assert.deepEqual(again.changes, []);
    assert.deepEqual(again.data, first.data);
  });

  it('past 2/3 of the serving certificate\'s life → renewed under the same CA', () => {
    const renewed = rotate(first.data, policy, at(244));
    assert.deepEqual(renewed.changes, ['the serving certificate is past 67% of its lifetime: new serving certificate']);
    assert.equal(renewed.data['ca.crt'], first.data['ca.crt']);
    assert.notEqual(renewed.data['tls.crt'], first.data['tls.crt']);
    assert.ok(signedBy(renewed.data['tls.crt'], first.data['ca.crt']));
  });

  it('past 2/3 of the CA\'s life → new CA first in the bundle, old one still trusted, certificate re-issued', () => {
    const renewed = rotate(first.data, policy, at(2434));
    const bundle = pemBlocks(renewed.data['ca.crt']);
    assert.equal(bundle.length, 2);
    assert.equal(bundle[1], first.data['ca.crt']);
    assert.ok(signedBy(renewed.data['tls.crt'], bundle[0]!));
    assert.match(renewed.changes.join(), /the CA is past 67% of its lifetime/);

    // Later, once the old CA expired, it leaves the bundle.
    const later = rotate(renewed.data, policy, at(3651));
    assert.equal(pemBlocks(later.data['ca.crt']).length, 1);
    assert.equal(pemBlocks(later.data['ca.crt'])[0], bundle[0]);
    assert.match(later.changes.join(), /dropped expired CAs/);
  });

  it('a serving certificate for other names → re-issued', () => {
    const moved = rotate(first.data, { ...policy, dnsNames: ['portcullis.other-ns.svc'] }, at(1));
    assert.match(moved.changes.join(), /does not cover the configured names/);
    assert.ok(new X509Certificate(moved.data['tls.crt']).checkHost('portcullis.other-ns.svc', { subject: 'never' }));
    assert.equal(moved.data['ca.crt'], first.data['ca.crt']);
  });

  it('IP addresses are covered too', () => {
    const withIp = rotate(first.data, { ...policy, ipAddresses: ['127.0.0.1'] }, at(1));
    assert.equal(new X509Certificate(withIp.data['tls.crt']).checkIP('127.0.0.1'), '127.0.0.1');
  });

  const broken: [string, Partial<TlsData>, RegExp][] = [
    ['garbage everywhere', { 'ca.crt': 'x', 'ca.key': 'y', 'tls.crt': 'z', 'tls.key': 'w' }, /CA is missing, unreadable or expired/],
    ['a CA key that is not the CA\'s', { ...first.data, 'ca.key': generateCa({ validityDays: 1 }).keyPem }, /CA is missing/],
    ['a serving key that is not the certificate\'s', { ...first.data, 'tls.key': first.data['ca.key'] }, /no valid serving certificate/],
    [
      'a serving certificate from another CA',
      { ...first.data, ...(() => {
        const other = issueServingCertificate(generateCa({ validityDays: 10, now: T0 }), { dnsNames: policy.dnsNames, validityDays: 10, now: T0 });
        return { 'tls.crt': other.certPem, 'tls.key': other.keyPem };
      })() },
      /not signed by the current CA/,
    ],
  ];
  for (const [name, data, reason] of broken) {
    it(`repairs ${name}`, () => {
      const fixed = rotate(data, policy, at(1));
      assert.match(fixed.changes.join(), reason);
      assert.ok(signedBy(fixed.data['tls.crt'], pemBlocks(fixed.data['ca.crt'])[0]!));
      assert.deepEqual(rotate(fixed.data, policy, at(1)).changes, [], 'the repair is stable');
    });
  }

  it('an expired CA is replaced, not kept', () => {
    const expired = rotate(first.data, policy, at(3700));
    assert.match(expired.changes.join(), /CA is missing, unreadable or expired/);
    assert.equal(pemBlocks(expired.data['ca.crt']).length, 1);
  });
});

describe('nextRenewal', () => {
  it('is the serving certificate\'s 2/3 mark while the CA is young', () => {
    const next = nextRenewal(first.data, 2 / 3);
    assert.ok(Math.abs(next.getTime() - at(365 * (2 / 3)).getTime()) < 10 * 60_000, next.toISOString());
  });

  it('after a CA rotation: the new certificate\'s renewal, or the old CA\'s expiry when that comes first', () => {
    const early = nextRenewal(rotate(first.data, policy, at(2434)).data, 2 / 3);
    assert.ok(Math.abs(early.getTime() - at(2434 + 365 * (2 / 3)).getTime()) < 10 * 60_000, early.toISOString());
    const late = nextRenewal(rotate(first.data, policy, at(3600)).data, 2 / 3);
    assert.ok(Math.abs(late.getTime() - at(3650).getTime()) < 10 * 60_000, late.toISOString());
  });
});
