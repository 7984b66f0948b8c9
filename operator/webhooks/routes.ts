// The admission webhooks as one express Router. Every route reads a bounded body, parses the AdmissionReview
// itself (so a malformed request gets a 400 with the reason rather than a framework page), runs a synchronous
// handler and answers with the AdmissionReview. A handler that throws answers allowed=false (fail closed) with the
// error, never a crash and never a silent allow.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { BadReviewError, deny, parseAdmissionReview, reviewResponse, type AdmissionRequest, type AdmissionResponse } from './admission.ts';
import { mutateApprovalStatus, type ApprovalStatusDeps } from './approval-status.ts';
import { mutatePod, type InjectionDeps } from './inject.ts';
import type { InjectorConfig } from './injector-config.ts';
import { validatePod } from './validate-pod.ts';
import { validateAgentPolicy, validateProtectedResource, type PolicyValidationDeps } from './validate-policy.ts';

export const WEBHOOK_PATHS = {
  mutatePods: '/mutate-pods',
  validatePods: '/validate-pods',
  validatePodsEphemeral: '/validate-pods-ephemeral',
  validatePolicies: '/validate-policies',
  validateResources: '/validate-resources',
  mutateApprovalStatus: '/mutate-approval-status',
} as const;

export type WebhookName = keyof typeof WEBHOOK_PATHS;

/** One answered (or refused-as-malformed) review, for metrics and logs. */
export interface ReviewEvent {
  readonly webhook: WebhookName;
  readonly operation?: string;
  /** allowed, denied (allowed=false), mutated (allowed with a patch), or the request was bad / the handler failed. */
  readonly decision: 'allowed' | 'denied' | 'mutated' | 'bad-request' | 'error';
  readonly durationMs: number;
  readonly message?: string;
}

export interface WebhookDeps {
  readonly injection: InjectionDeps;
  readonly injector: InjectorConfig;
  readonly policies: PolicyValidationDeps;
  readonly approvals: ApprovalStatusDeps;
  /** Called once per request after the answer is built. Must not throw. */
  readonly onReview?: (event: ReviewEvent) => void;
  /** Default 8 MiB: a pod and its old version, each up to the API server's 3 MiB request limit, plus the envelope. */
  readonly maxBodyBytes?: number;
}

type Handler = (req: AdmissionRequest) => AdmissionResponse;

export function webhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();
  const limit = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  // Raw bytes whatever the content type: parsing is ours, so every failure has our wording.
  const body = express.raw({ type: () => true, limit });
  const handlers: Record<WebhookName, Handler> = {
    mutatePods: (r) => mutatePod(r, deps.injection, deps.injector),
    validatePods: (r) => validatePod(r, deps.injection, deps.injector),
    validatePodsEphemeral: (r) => validatePod(r, deps.injection, deps.injector),
    validatePolicies: (r) => validateAgentPolicy(r, deps.policies),
    validateResources: (r) => validateProtectedResource(r, deps.policies),
    mutateApprovalStatus: (r) => mutateApprovalStatus(r, deps.approvals),
  };
  for (const name of Object.keys(WEBHOOK_PATHS) as WebhookName[]) {
    const handler = handlers[name];
    router.post(WEBHOOK_PATHS[name], body, (req: Request, res: Response) => {
      const started = performance.now();
      const report = (event: Omit<ReviewEvent, 'webhook' | 'durationMs'>) => {
        try {
          deps.onReview?.({ webhook: name, durationMs: performance.now() - started, ...event });
        } catch {
          // Metrics never decide admission.
        }
      };
      let review: AdmissionRequest;
      try {
        if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new BadReviewError('empty body: expected an AdmissionReview');
        let parsed: unknown;
        try {
          parsed = JSON.parse(req.body.toString('utf8'));
        } catch (e) {
          throw new BadReviewError(`body is not JSON: ${(e as Error).message}`);
        }
        review = parseAdmissionReview(parsed);
      } catch (e) {
        const message = (e as Error).message;
        report({ decision: 'bad-request', message });
        res.status(400).json({ error: message });
        return;
      }
      let answer: AdmissionResponse;
      let failed = false;
      try {
        answer = handler(review);
      } catch (e) {
        failed = true;
        answer = deny(review.uid, `portcullis: internal error in the ${WEBHOOK_PATHS[name]} webhook: ${(e as Error).message}`, 500);
      }
      report({
        operation: review.operation,
        decision: failed ? 'error' : !answer.allowed ? 'denied' : answer.patch ? 'mutated' : 'allowed',
        ...(answer.status?.message ? { message: answer.status.message } : {}),
      });
      // Written directly: express's send() would hash the body for an ETag nobody uses, on every pod create.
      const payload = JSON.stringify(reviewResponse(answer));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  }
  // Body-parser failures (too large, aborted) arrive here: answer with the reason, in JSON.
  router.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
    res.status(status).json({ error: err.type === 'entity.too.large' ? `body over ${limit} bytes` : err.message });
  });
  return router;
}
