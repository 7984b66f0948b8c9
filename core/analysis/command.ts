// The one command shape every protocol analyser produces and the policy engine consumes.
// Adapters translate protocol messages into a Command; the engine never sees protocol bytes.

/** A function call found in a SQL statement. `schema` is set only when the call was schema-qualified. */
export interface SqlFunctionRef {
  readonly schema?: string;
  /** Case-folded as PostgreSQL folds unquoted identifiers. */
  readonly name: string;
}

/**
 * One (statement kind, relation) pair of a SQL command — see "A command is split into parts" in the API contract.
 * `functions` are those called by the statement the part belongs to (every part of that statement carries them).
 */
export interface SqlPart {
  readonly protocol: 'sql';
  /** A kind of the contract's `statements` vocabulary: select, insert, drop_table, copy_program, … */
  readonly kind: string;
  /** `schema.name`, case-folded, resolved through pg_catalog and the search_path. Absent: the part has no relation. */
  readonly relation?: string;
  readonly functions: readonly SqlFunctionRef[];
  /** true for update/delete parts whose WHERE is missing or references no column of the target. */
  readonly unboundedWrite: boolean;
  /** Functions of this statement that run SQL passed as text; denied unless a rule names them. */
  readonly dynamicSqlFunctions: readonly SqlFunctionRef[];
  /** Index of the top-level statement this part came from (0-based), for reasons and records. */
  readonly statement: number;
}

/** Kubernetes request attributes, as the API server's request-info computes them (with the contract's differences). */
export interface KubernetesPart {
  readonly protocol: 'kubernetes';
  readonly kind: 'resource' | 'nonResource';
  /** get, list, watch, create, update, patch, delete, deletecollection (connect subresources: create). */
  readonly verb: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  /** '' for cluster-scoped objects and for requests across all namespaces (see `allNamespaces`). */
  readonly namespace: string;
  /** true when a namespaced resource is requested without a namespace: the request touches every namespace. */
  readonly allNamespaces: boolean;
  readonly name: string;
  /** Non-resource requests: the URL path. */
  readonly path: string;
  /** A read-only discovery request kubectl needs (GET /api, /apis…, /openapi/…, /version). */
  readonly discovery: boolean;
}

export interface HttpPart {
  readonly protocol: 'http';
  readonly method: string;
  /** Normalised path: percent-decoding of unreserved characters, dot-segments removed, no query. */
  readonly path: string;
  readonly query: string;
  /** Lower-cased header names → values. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON body, or undefined when there is none or it is not JSON. */
  readonly jsonBody?: unknown;
}

export interface SshPart {
  readonly protocol: 'ssh';
  readonly kind: 'exec' | 'shell' | 'sftp';
  /** One simple command (argv joined by single spaces) of the command line; absent for shell/sftp. */
  readonly command?: string;
  readonly argv?: readonly string[];
}

export type Part = SqlPart | KubernetesPart | HttpPart | SshPart;

/** What an analyser returns. A command that cannot be analysed carries `error` and is denied by the engine. */
export interface Command {
  readonly parts: readonly Part[];
  /** Set when the command cannot be analysed (unparseable, too big, too deep, unknown prepared statement, …). */
  readonly error?: string;
  /** A command that must be denied whatever the policy says (e.g. Kubernetes impersonation, MySQL conditional comments). */
  readonly forbidden?: string;
}

export function unanalysable(error: string): Command {
  return { parts: [], error };
}
