import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_API_AUDIENCES, DEFAULT_SIDECAR, injectorConfig, quantityBytes, recordsMaxBytes, type InjectorConfigInput } from './injector-config.ts';

const base: InjectorConfigInput = { operatorUrl: 'https://portcullis-operator.ns.svc:443', operatorCa: 'CA', operatorNamespace: 'ns' };

describe('injectorConfig', () => {
  it('applies the documented defaults', () => {
    const c = injectorConfig(base);
    assert.deepEqual(c.sidecar, DEFAULT_SIDECAR);
    assert.equal(c.agentTokenExpirationSeconds, 600);
    assert.equal(c.sidecarTokenExpirationSeconds, 3600);
    assert.equal(c.operatorCa(), 'CA');
    assert.deepEqual(c.apiAudiences(), DEFAULT_API_AUDIENCES);
  });

  it('reads a rotating CA through the function it was given', () => {
    let ca = 'one';
    const c = injectorConfig({ ...base, operatorCa: () => ca });
    ca = 'two';
    assert.equal(c.operatorCa(), 'two');
  });

  const bad: [string, Omit<Partial<InjectorConfigInput>, 'sidecar'> & { sidecar?: Record<string, unknown> }, RegExp][] = [
    ['root UID', { sidecar: { uid: 0 } }, /sidecar\.uid 0 must be a non-root UID/],
    ['admin port', { sidecar: { adminPort: 70000 } }, /sidecar\.adminPort 70000 is not a port/],
    ['WAL size', { sidecar: { walSizeLimit: 'big' } }, /walSizeLimit "big" is not a quantity/],
    ['WAL size below 1Mi', { sidecar: { walSizeLimit: '900Ki' } }, /walSizeLimit "900Ki" is below 1Mi/],
    ['resource quantity', { sidecar: { resources: { limits: { memory: '1 GB' } } } }, /sidecar\.resources\.limits\.memory "1 GB" is not a quantity/],
    ['pull policy', { sidecar: { imagePullPolicy: 'Sometimes' } }, /imagePullPolicy "Sometimes"/],
    ['log level', { sidecar: { logLevel: 'loud' } }, /logLevel "loud" is not a pino level/],
    ['plain http operator URL', { operatorUrl: 'http://x:80' }, /operatorUrl must be https/],
    ['no URL', { operatorUrl: 'not a url' }, /is not a URL/],
    ['token below the API server minimum', { agentTokenExpirationSeconds: 60 }, /agentTokenExpirationSeconds 60 must be an integer of at least 600/],
    ['no image', { sidecar: { image: '' } }, /sidecar\.image is required/],
  ];
  for (const [name, override, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => injectorConfig({ ...base, ...override, sidecar: override.sidecar as InjectorConfigInput['sidecar'] }), message);
    });
  }

  it('lists every problem at once', () => {
    assert.throws(() => injectorConfig({ ...base, operatorUrl: 'http://x', sidecar: { uid: 0, adminPort: 0 } }), (e: Error) => e.message.split('\n').length === 4);
  });
});

describe('the write-ahead bound the sidecar gets', () => {
  it('reads Kubernetes quantities in bytes', () => {
    assert.equal(quantityBytes('256Mi'), 268435456);
    assert.equal(quantityBytes('1Gi'), 2 ** 30);
    assert.equal(quantityBytes('500M'), 5e8);
    assert.equal(quantityBytes('1.5Gi'), 1.5 * 2 ** 30);
    assert.equal(quantityBytes('4096'), 4096);
    assert.throws(() => quantityBytes('12Q'), /not a quantity/);
  });

  it('is 90 % of the volume, so the sidecar refuses commands before the kubelet evicts the pod', () => {
    assert.equal(recordsMaxBytes('256Mi'), Math.floor(268435456 * 0.9));
  });
});
