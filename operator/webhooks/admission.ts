// AdmissionReview v1: the envelope every webhook receives and answers. Parsing is strict about the few fields a
// handler relies on (uid, operation, object) and loose about the rest, so a newer API server never breaks us; a
// review that lacks what a handler needs is a client error (400), never a crash.

export interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind?: { group: string; version: string; kind: string };
  readonly resource?: GroupVersionResource;
  readonly subResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo: UserInfo;
  /** The object after the change (absent for DELETE). */
  readonly object?: unknown;
  /** The object before the change (UPDATE, DELETE). */
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  /** base64 of the JSON Patch document. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** A JSON Patch (RFC 6902) operation; the webhooks only ever emit add/replace/remove. */
export type JsonPatchOp =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** A request the server refuses to decide (HTTP 400): malformed JSON, not an AdmissionReview, missing fields. */
export class BadReviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadReviewError';
  }
}

const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the envelope and returns its request. Throws BadReviewError with the reason. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isObj(body)) throw new BadReviewError('body is not a JSON object');
  if (body.kind !== 'AdmissionReview') throw new BadReviewError(`kind is ${JSON.stringify(body.kind)}, expected AdmissionReview`);
  if (body.apiVersion !== 'admission.k8s.io/v1') {
    throw new BadReviewError(`apiVersion is ${JSON.stringify(body.apiVersion)}, expected admission.k8s.io/v1`);
  }
  const req = body.request;
  if (!isObj(req)) throw new BadReviewError('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw new BadReviewError('request.uid is missing');
  if (typeof req.operation !== 'string' || !OPERATIONS.has(req.operation)) {
    throw new BadReviewError(`request.operation ${JSON.stringify(req.operation)} is not one of CREATE, UPDATE, DELETE, CONNECT`);
  }
  const userInfo = isObj(req.userInfo) ? (req.userInfo as UserInfo) : {};
  return { ...(req as object), uid: req.uid, operation: req.operation as Operation, userInfo } as AdmissionRequest;
}

export function allow(uid: string, warnings?: readonly string[]): AdmissionResponse {
  return { uid, allowed: true, ...(warnings?.length ? { warnings: [...warnings] } : {}) };
}

/** allowed=false with the reason the user sees in kubectl's error (HTTP 403 Forbidden, as Kubernetes reports policy refusals). */
export function deny(uid: string, message: string, code = 403): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason: code === 403 ? 'Forbidden' : 'Invalid', message } };
}

/** allowed=true with a patch; an empty patch is no patch at all (the API server treats both alike, we say less). */
export function allowWithPatch(uid: string, ops: readonly JsonPatchOp[], warnings?: readonly string[]): AdmissionResponse {
  const out = allow(uid, warnings);
  if (ops.length === 0) return out;
  return { ...out, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops), 'utf8').toString('base64') };
}

export function reviewResponse(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** Escapes one JSON Pointer reference token (RFC 6901): `portcullis.dev/injected` → `portcullis.dev~1injected`. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
