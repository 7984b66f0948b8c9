import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { CertManagerCertSource } from './cert-manager.ts';
import { memorySecretStore, WriteConflictError, type SecretStore } from './secret-store.ts';
import { SelfManagedCertSource } from './self-managed.ts';
import { CertListeners, localCertSource, type CertSource, type ServingCertificate } from './source.ts';
import { createTlsServer } from './tls-server.ts';
import { generateCa, issueServingCertificate, signedBy } from './x509.ts';

const DAY = 86400_000;
const T0 = new Date('2030-01-01T00:00:00Z');
const policy = { dnsNames: ['portcullis-operator.portcullis-system.svc'] };

describe('SelfManagedCertSource', () => {
  it('two replicas starting together write the Secret once and serve the same certificate', async () => {
    const store = memorySecretStore();
    const published: string[] = [];
    const opts = { store, policy, now: () => T0, publishCaBundle: async (ca: string) => void published.push(ca) };
    const [a, b] = await Promise.all([SelfManagedCertSource.start(opts), SelfManagedCertSource.start(opts)]);
    try {
      assert.equal(store.writes, 1);
      assert.equal(a.current().cert, b.current().cert);
      assert.ok(signedBy(a.current().cert, a.current().ca));
      assert.deepEqual(published, [a.current().ca, a.current().ca]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('renewal: one replica renews, listeners on both see the new certificate, the other adopts it without writing', async () => {
    const store = memorySecretStore();
    let now = T0;
    const opts = { store, policy, now: () => now };
    const a = await SelfManagedCertSource.start(opts);
    const b = await SelfManagedCertSource.start(opts);
    try {
      const seen: { a: ServingCertificate[]; b: ServingCertificate[] } = { a: [], b: [] };
      a.onChange((c) => seen.a.push(c));
      b.onChange((c) => seen.b.push(c));
      const before = a.current().cert;
      now = new Date(T0.getTime() + 250 * DAY);
      await a.check();
      assert.equal(store.writes, 2);
      await b.check();
      assert.equal(store.writes, 2, 'b adopted a\'s renewal');
      assert.equal(seen.a.length, 1);
      assert.equal(seen.b.length, 1);
      assert.notEqual(seen.a[0]!.cert, before);
      assert.equal(seen.a[0]!.cert, seen.b[0]!.cert);
      await a.check();
      assert.equal(seen.a.length, 1, 'no change, no event');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a lost race adopts the winner\'s certificate', async () => {
    const inner = memorySecretStore();
    // Another replica creates the Secret between our read and our create.
    const racing: SecretStore = {
      read: () => inner.read(),
      update: (d, rv) => inner.update(d, rv),
      async create(data) {
        const theirs = await SelfManagedCertSource.start({ store: inner, policy, now: () => T0 });
        theirs.close();
        return inner.create(data);
      },
    };
    const ours = await SelfManagedCertSource.start({ store: racing, policy, now: () => T0 });
    try {
      assert.equal(inner.writes, 1);
      assert.equal(ours.current().cert, inner.stored()!.data['tls.crt']);
    } finally {
      ours.close();
    }
  });

  it('store errors other than conflicts surface', async () => {
    const failing: SecretStore = {
      read: async () => undefined,
      create: async () => {
        throw new Error('forbidden: secrets is forbidden');
      },
      update: async () => {
        throw new WriteConflictError('x');
      },
    };
    await assert.rejects(SelfManagedCertSource.start({ store: failing, policy, now: () => T0 }), /forbidden/);
  });
});

describe('CertManagerCertSource', () => {
  const ca = generateCa({ validityDays: 30 });
  const leaf = issueServingCertificate(ca, { dnsNames: ['x.svc'], validityDays: 30 });

  it('waits for cert-manager\'s first certificate, then follows its renewals', async () => {
    let data: Record<string, string> | undefined;
    let reads = 0;
    const store = {
      read: async () => {
        reads++;
        if (reads === 3) data = { 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem, 'ca.crt': ca.certPem };
        return data ? { data, resourceVersion: String(reads) } : undefined;
      },
    };
    const source = await CertManagerCertSource.start({ store, retryDelayMs: 5 });
    try {
      assert.equal(source.current().cert, leaf.certPem);
      assert.equal(source.current().ca, ca.certPem);
      const renewed = issueServingCertificate(ca, { dnsNames: ['x.svc'], validityDays: 30 });
      const seen: ServingCertificate[] = [];
      source.onChange((c) => seen.push(c));
      data = { 'tls.crt': renewed.certPem, 'tls.key': renewed.keyPem, 'ca.crt': ca.certPem };
      assert.equal(await source.check(), undefined);
      assert.equal(seen[0]?.cert, renewed.certPem);
      data = { 'tls.crt': renewed.certPem, 'tls.key': leaf.keyPem };
      assert.match((await source.check()) ?? '', /does not match/);
      assert.equal(source.current().cert, renewed.certPem, 'a broken Secret keeps the current certificate');
    } finally {
      source.close();
    }
  });

  it('gives up after the start timeout with the reason', async () => {
    await assert.rejects(
      CertManagerCertSource.start({ store: { read: async () => undefined }, startTimeoutMs: 20, retryDelayMs: 5 }),
      /cert-manager has not issued the webhook certificate: the Secret has no tls\.crt/,
    );
  });
});

describe('createTlsServer', () => {
  it('serves the source\'s certificate and swaps it on rotation without a restart', async () => {
    const first = localCertSource();
    const listeners = new CertListeners();
    let current = first.current();
    const source: CertSource = { current: () => current, onChange: (l) => listeners.add(l), close: () => {} };
    const server = createTlsServer((_req, res) => res.end('ok'), source);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const peer = (ca: string) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.end();
        });
        s.on('error', reject);
      });
    try {
      assert.equal(await peer(current.ca), new X509Certificate(first.current().cert).fingerprint256);
      const second = localCertSource();
      current = second.current();
      listeners.emit(current);
      assert.equal(await peer(current.ca), new X509Certificate(second.current().cert).fingerprint256);
      await assert.rejects(peer(first.current().ca), /certificate/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
