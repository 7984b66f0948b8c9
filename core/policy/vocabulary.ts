// The closed vocabularies of the API contract, used to reject typos at compile time ("selct" would otherwise be a
// rule that silently never matches).

export const actions = ['allow', 'deny', 'approve'] as const;
export type Action = (typeof actions)[number];

/** deny beats approve beats allow. */
export const actionRank: Readonly<Record<Action, number>> = { allow: 0, approve: 1, deny: 2 };

export const sqlStatementKinds: ReadonlySet<string> = new Set([
  'select', 'insert', 'update', 'delete', 'merge', 'truncate', 'copy_to', 'copy_from', 'copy_file', 'copy_program',
  'alter_system', 'grant', 'revoke', 'call', 'do', 'set', 'set_role', 'show', 'transaction', 'prepare', 'execute',
  'deallocate', 'explain', 'vacuum', 'analyze', 'lock', 'listen', 'unlisten', 'notify', 'comment',
  'refresh_materialized_view', 'reindex', 'cluster', 'discard', 'checkpoint', 'other',
  // MySQL additions of the contract.
  'load_data', 'replace', 'handler', 'kill', 'use',
]);

/** create_<object>, alter_<object>, drop_<object>: the object list is open-ended in the contract. */
const ddlKind = /^(create|alter|drop)_[a-z][a-z_]*$/;

export function isKnownStatementKind(kind: string): boolean {
  return sqlStatementKinds.has(kind) || ddlKind.test(kind);
}

export const kubernetesVerbs: ReadonlySet<string> = new Set([
  'get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection',
  // Non-resource URLs are requested with the lower-cased HTTP method, as in RBAC.
  'post', 'put', 'head', 'options',
]);

export const readVerbs: ReadonlySet<string> = new Set(['get', 'list', 'watch']);

export const maskingStrategies = ['redact', 'last4', 'hash', 'null'] as const;
export type MaskingStrategy = (typeof maskingStrategies)[number];
