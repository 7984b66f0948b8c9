// The v1alpha1 API in one import: the generated types, the schemas and names, the offline validator, and the
// constants both processes share (group, version, kinds, label and annotation keys, documented defaults).
export type * from './types.generated.ts';
export type { ObjectMeta, OwnerReference } from './meta.ts';
export type { CelValidationRule, OpenApiSchema } from './schema.ts';
export { apiKinds, crdNames, crdSchemas, type ApiKind, type CrdNames } from './schemas.generated.ts';
export { formatFieldError, formatFieldErrors, isApiKind, validateAgainstSchema, validateObject, type FieldError } from './validate.ts';

export const GROUP = 'portcullis.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = 'portcullis.dev/v1alpha1';
/** The category every kind is in: `kubectl get portcullis` lists them all. */
export const CATEGORY = 'portcullis';

export const KIND_PROTECTED_RESOURCE = 'ProtectedResource';
export const KIND_AGENT_POLICY = 'AgentPolicy';
export const KIND_APPROVAL_REQUEST = 'ApprovalRequest';
export const KIND_AGENT_SESSION = 'AgentSession';
export const KIND_SESSION_CHUNK = 'SessionChunk';

/** Namespace label: pods of namespaces labelled `portcullis.dev/injection=enabled` get the sidecar. */
export const INJECTION_LABEL = 'portcullis.dev/injection';
export const INJECTION_ENABLED = 'enabled';
/** Pod annotation: `portcullis.dev/inject: "false"` opts a pod out of injection. */
export const INJECT_ANNOTATION = 'portcullis.dev/inject';

// Defaults the CRDs document for omitted fields (the compiler applies them; only defaultAction is also defaulted by
// the API server through the schema).
export const DEFAULT_ACTION = 'deny';
export const DEFAULT_AUDIENCE = 'portcullis';
export const DEFAULT_SESSION_GRACE = '5m';
export const DEFAULT_APPROVAL_TIMEOUT = '10m';
export const DEFAULT_GRANT_WINDOW = '0s';
export const DEFAULT_RECORDED_RESPONSES = 'summary';
export const DEFAULT_RETENTION = '720h';
/** Key of the CA bundle in `endpoint.tls.caSecretRef` when `key` is omitted. */
export const DEFAULT_CA_KEY = 'ca.crt';
/** Upper bound of SessionChunk.spec.events (base64 characters): 512 KiB of gzip, well under the 1 MiB object limit. */
export const MAX_CHUNK_EVENTS_LENGTH = 699052;
