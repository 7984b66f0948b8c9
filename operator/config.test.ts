import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type OperatorConfig } from './config.ts';

const cfg = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env) as OperatorConfig;

test('defaults: all namespaces, 8443/8080 on every address, 15 s lease in portcullis-system', () => {
  const c = cfg([], { POD_NAME: 'op-0' });
  assert.deepEqual(c.namespaces, []);
  assert.equal(c.port, 8443);
  assert.equal(c.metricsPort, 8080);
  assert.equal(c.address, '0.0.0.0');
  assert.equal(c.leaseNamespace, 'portcullis-system');
  assert.equal(c.leaseDurationMs, 15_000);
  assert.match(c.identity, /^op-0-[0-9a-f]{8}$/);
});

test('--local listens on loopback and keeps its lease in default', () => {
  const c = cfg(['--local']);
  assert.equal(c.address, '127.0.0.1');
  assert.equal(c.metricsAddress, '127.0.0.1');
  assert.equal(c.leaseNamespace, 'default');
});

test('flags win over PORTCULLIS_* environment variables', () => {
  const env = { PORTCULLIS_NAMESPACES: 'a,b', PORTCULLIS_PORT: '9443', PORTCULLIS_SIDECAR_IMAGE: 'img:env', PORTCULLIS_SIDECAR_RESOURCES: '{"requests":{"cpu":"10m"}}' };
  const c = cfg(['--port', '10443', '--sidecar-image', 'img:flag'], env);
  assert.deepEqual(c.namespaces, ['a', 'b']);
  assert.equal(c.port, 10443);
  assert.equal(c.sidecarImage, 'img:flag');
  assert.deepEqual(c.sidecarResources, { requests: { cpu: '10m' } });
});

const bad: Array<[string, string[], RegExp]> = [
  ['a bad port', ['--port', 'http'], /not a port/],
  ['a bad namespace', ['--namespaces', 'Bad_NS'], /not a namespace name/],
  ['resources that are not JSON', ['--sidecar-resources', 'cpu=1'], /must be JSON/],
  ['a cert without a key', ['--tls-cert', 'c.pem'], /go together/],
  ['a too short lease', ['--lease-duration', '1s'], /at least 3s/],
  ['an unknown flag', ['--frobnicate'], /Unknown option/],
];
for (const [name, argv, message] of bad) {
  test(`refused: ${name}`, () => assert.throws(() => parseConfig(argv, {}), message));
}

test('certificate modes: files when given, local with --local, self-managed in a cluster; registration only locally', () => {
  assert.equal(cfg(['--tls-cert', 'c', '--tls-key', 'k']).certMode, 'files');
  assert.equal(cfg(['--local']).certMode, 'local');
  assert.equal(cfg(['--local']).registerWebhooks, true);
  assert.equal(cfg(['--local', '--skip-webhook-registration']).registerWebhooks, false);
  const inCluster = cfg([], { POD_NAMESPACE: 'portcullis' });
  assert.equal(inCluster.certMode, 'self-managed');
  assert.equal(inCluster.registerWebhooks, false);
  assert.equal(inCluster.operatorNamespace, 'portcullis');
  assert.equal(inCluster.leaseNamespace, 'portcullis');
  assert.throws(() => parseConfig(['--cert-mode', 'magic'], {}), /--cert-mode must be/);
  assert.throws(() => parseConfig(['--cert-mode', 'files'], {}), /needs --tls-cert/);
});

test('the chart\'s sidecar settings arrive through the environment', () => {
  const c = cfg([], { PORTCULLIS_SIDECAR_UID: '65532', PORTCULLIS_SIDECAR_ADMIN_PORT: '15021', PORTCULLIS_SIDECAR_IMAGE_PULL_POLICY: 'Always', PORTCULLIS_SIDECAR_WAL_SIZE_LIMIT: '128Mi' });
  assert.equal(c.sidecarUid, 65532);
  assert.equal(c.sidecarAdminPort, 15021);
  assert.equal(c.sidecarImagePullPolicy, 'Always');
  assert.equal(c.sidecarWalSizeLimit, '128Mi');
  assert.throws(() => parseConfig(['--sidecar-uid', 'root'], {}), /not a whole number/);
});

test('--help', () => assert.equal(parseConfig(['--help'], {}), 'help'));
