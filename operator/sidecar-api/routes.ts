// The sidecar API: `GET /v1/bundle` answers the calling pod's bundle. The caller is whoever its bearer token says
// (TokenReview, pod-bound, audience portcullis-sidecar); the pod in the token — never a parameter — decides the bundle.
//
// Long poll: `?wait=<hash>` with the hash the sidecar has holds the request until the pod's bundle hash differs
// (then 200 with the new bundle) or `timeout` (default 30s, at most 60s) passes (then 304). Bundles carry no secret
// material: credentials reach the sidecar as mounted files.
import express, { type Request, type Response, type Router } from 'express';
import type { Bundle } from '../../core/policy/bundle.ts';
import { parseDuration } from '../../core/util/duration.ts';
import type { BundleCache, BundleResult } from '../bundles.ts';
import type { PodMeta, Store } from '../controller/types.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { ReviewResult, SidecarIdentity } from './token-review.ts';

export interface SidecarApiDeps {
  readonly bundles: BundleCache;
  readonly pods: Store<PodMeta>;
  readonly review: (token: string) => Promise<ReviewResult>;
  /** False until the informers have synced: answers would be guesses. */
  readonly ready: () => boolean;
  /** Namespaces this operator serves; undefined: all. */
  readonly namespaces?: ReadonlySet<string>;
  readonly metrics?: OperatorMetrics;
  readonly log?: { warn(obj: object, msg: string): void };
  /** Coalesces bursts of changes before waiting sidecars are re-checked; default 20 ms. */
  readonly coalesceMs?: number;
}

export const MAX_WAIT_MS = 60_000;
const DEFAULT_WAIT_MS = 30_000;
const MAX_TOKEN_LENGTH = 16 * 1024;

type Outcome = 'served' | 'not_modified' | 'denied' | 'unavailable' | 'error';

/** Serialised bundles, shared by every sidecar of a policy set (bundles are immutable once built). */
const serialized = new WeakMap<Bundle, Buffer>();
function bodyOf(bundle: Bundle): Buffer {
  let b = serialized.get(bundle);
  if (!b) {
    b = Buffer.from(JSON.stringify(bundle));
    serialized.set(bundle, b);
  }
  return b;
}

interface Waiter {
  readonly identity: SidecarIdentity;
  readonly wait: string;
  readonly finish: (result: BundleResult | undefined) => void;
}

export function sidecarApiRouter(deps: SidecarApiDeps): Router & { waiting(): number; close(): void } {
  const router = express.Router() as Router & { waiting(): number; close(): void };
  const waiters = new Set<Waiter>();
  let scheduled: NodeJS.Timeout | undefined;

  const count = (o: Outcome) => deps.metrics?.bundleRequests.inc({ outcome: o });
  const fail = (res: Response, status: number, outcome: Outcome, message: string) => {
    count(outcome);
    if (status === 503) res.setHeader('retry-after', '2');
    res.status(status).json({ error: message });
  };

  /** The bundle for an authenticated sidecar, after checking its pod is the one the token was bound to. */
  const resolve = (id: SidecarIdentity): BundleResult | { ok: false; reason: 'Forbidden'; message: string } => {
    if (deps.namespaces && !deps.namespaces.has(id.namespace)) return { ok: false, reason: 'Forbidden', message: `namespace ${id.namespace} is not served by this operator` };
    const pod = deps.pods.get(id.namespace, id.podName);
    if (!pod || pod.metadata.deletionTimestamp) return { ok: false, reason: 'Forbidden', message: `pod ${id.namespace}/${id.podName} does not exist` };
    if (pod.metadata.uid !== id.podUid) return { ok: false, reason: 'Forbidden', message: `pod ${id.namespace}/${id.podName} is not the pod the token was bound to` };
    return deps.bundles.bundleForPod(id.namespace, id.podName);
  };

  const answer = (res: Response, result: ReturnType<typeof resolve>, wait: string | undefined) => {
    if (result.ok) {
      if (wait !== undefined && result.bundle.hash === wait) {
        count('not_modified');
        res.setHeader('etag', `"${result.bundle.hash}"`);
        res.status(304).end();
        return;
      }
      count('served');
      res.setHeader('etag', `"${result.bundle.hash}"`);
      res.setHeader('cache-control', 'no-store');
      res.type('application/json').send(bodyOf(result.bundle));
      return;
    }
    switch (result.reason) {
      case 'Forbidden':
      case 'PodNotFound':
        return fail(res, 403, 'denied', result.message);
      case 'NotSelected':
        return fail(res, 404, 'denied', result.message);
      case 'CompileFailed':
        return fail(res, 503, 'unavailable', `the pod's policies do not compile: ${result.message}`);
    }
  };

  const recheck = () => {
    scheduled = undefined;
    for (const w of [...waiters]) {
      const r = resolve(w.identity);
      // Wake on a new hash, or on anything that is not a bundle (pod gone, compile failure): the caller learns now.
      if (!r.ok || r.bundle.hash !== w.wait) w.finish(r as BundleResult);
    }
  };
  const onChanged = () => {
    if (waiters.size === 0 || scheduled) return;
    scheduled = setTimeout(recheck, deps.coalesceMs ?? 20);
  };
  deps.bundles.on('changed', onChanged);

  router.get('/v1/bundle', async (req: Request, res: Response) => {
    if (!deps.ready()) return fail(res, 503, 'unavailable', 'the operator is starting (caches not synced)');
    const auth = req.get('authorization') ?? '';
    const m = /^Bearer ([^\s]+)$/i.exec(auth);
    if (!m || m[1]!.length > MAX_TOKEN_LENGTH) {
      res.setHeader('www-authenticate', 'Bearer');
      return fail(res, 401, 'denied', 'a bearer token (the projected service-account token, audience portcullis-sidecar) is required');
    }
    let review: ReviewResult;
    try {
      review = await deps.review(m[1]!);
    } catch (e) {
      deps.log?.warn({ err: (e as Error).message }, 'TokenReview failed');
      return fail(res, 503, 'error', 'cannot verify the token right now');
    }
    if (!review.ok) {
      if (review.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return fail(res, review.status, 'denied', review.message);
    }
    const identity = review.identity;

    const wait = typeof req.query.wait === 'string' && req.query.wait !== '' ? req.query.wait : undefined;
    let timeoutMs = DEFAULT_WAIT_MS;
    if (typeof req.query.timeout === 'string') {
      try {
        timeoutMs = Math.min(MAX_WAIT_MS, parseDuration(req.query.timeout));
      } catch {
        return fail(res, 400, 'error', `timeout ${JSON.stringify(req.query.timeout)} is not a duration such as 30s`);
      }
    }
    const first = resolve(identity);
    if (wait === undefined || !first.ok || first.bundle.hash !== wait || timeoutMs <= 0) return answer(res, first, wait);

    // Hold the request until the hash changes, the timeout passes or the client goes away.
    let done = false;
    const waiter: Waiter = {
      identity,
      wait,
      finish: (result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        waiters.delete(waiter);
        deps.metrics?.bundleWaiters.set(waiters.size);
        if (result === undefined) return; // client gone
        answer(res, result, wait);
      },
    };
    const timer = setTimeout(() => waiter.finish(resolve(identity) as BundleResult), timeoutMs);
    res.on('close', () => waiter.finish(undefined));
    waiters.add(waiter);
    deps.metrics?.bundleWaiters.set(waiters.size);
  });

  router.waiting = () => waiters.size;
  router.close = () => {
    deps.bundles.off('changed', onChanged);
    clearTimeout(scheduled);
    // Answer every waiting sidecar now (304 or the new bundle), so a shutdown does not leave them hanging.
    for (const w of [...waiters]) w.finish(resolve(w.identity) as BundleResult);
  };
  return router;
}
