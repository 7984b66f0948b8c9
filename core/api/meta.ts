// The part of Kubernetes' ObjectMeta that Portcullis reads and writes. Hand-written: the CRD schemas leave
// `metadata` to the API server, so the generator has nothing to generate it from.

/** Points at the object that owns this one (SessionChunks are owned by their AgentSession). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Standard object metadata (the fields Portcullis uses; the API server keeps the rest). */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  /** RFC 3339 date-time, set by the API server. */
  creationTimestamp?: string;
  /** RFC 3339 date-time, set by the API server when deletion was requested. */
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}
