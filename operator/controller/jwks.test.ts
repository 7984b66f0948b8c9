import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JwksRefresher } from './jwks.ts';
import { ManualClock } from './testing.ts';
import type { KubeApi, KubeResponse } from '../kube/rest.ts';

function fakeApi(state: { kid: string; fail?: boolean; issuer?: string }): KubeApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async request<T>(_m: string, path: string): Promise<KubeResponse<T>> {
      calls.push(path);
      if (state.fail) return { status: 503, body: { message: 'unavailable' } as T };
      if (path === '/.well-known/openid-configuration') return { status: 200, body: { issuer: state.issuer ?? 'https://kubernetes.default.svc', jwks_uri: 'https://elsewhere/keys' } as T };
      if (path === '/openid/v1/jwks') return { status: 200, body: { keys: [{ kty: 'RSA', kid: state.kid }] } as T };
      return { status: 404, body: {} as T };
    },
  };
}

test('keys are fetched from the API server (not jwks_uri), reported on change only, refreshed on the interval', async () => {
  const state = { kid: 'k1' };
  const api = fakeApi(state);
  const clock = new ManualClock();
  const seen: string[] = [];
  const r = new JwksRefresher({ api, clock, intervalMs: 1000, onKeys: (k) => seen.push(`${k.issuer}#${(k.jwks.keys[0] as { kid: string }).kid}`) });
  assert.equal(await r.start(), true);
  assert.deepEqual(api.calls, ['/.well-known/openid-configuration', '/openid/v1/jwks']);
  assert.equal(await r.refresh(), true);
  assert.deepEqual(seen, ['https://kubernetes.default.svc#k1'], 'unchanged keys are not reported again');
  state.kid = 'k2';
  assert.equal(await r.refresh(), true);
  assert.deepEqual(seen, ['https://kubernetes.default.svc#k1', 'https://kubernetes.default.svc#k2']);
  assert.deepEqual(clock.pending(), [1000]);
  r.stop();
  assert.deepEqual(clock.pending(), []);
});

test('a failed refresh keeps the last keys and retries sooner', async () => {
  const state = { kid: 'k1', fail: false };
  const clock = new ManualClock();
  const errors: string[] = [];
  const r = new JwksRefresher({ api: fakeApi(state), clock, intervalMs: 1000, retryMs: 100, onKeys: () => {}, onError: (e) => errors.push(e.message) });
  await r.start();
  state.fail = true;
  assert.equal(await r.refresh(), false);
  assert.equal((r.current!.jwks.keys[0] as { kid: string }).kid, 'k1');
  assert.match(errors[0]!, /503/);
  r.stop();
  const r2 = new JwksRefresher({ api: fakeApi(state), clock, retryMs: 100, onKeys: () => {} });
  assert.equal(await r2.start(), false);
  assert.deepEqual(clock.pending(), [100]);
  r2.stop();
});
