// Which resources are cluster-scoped. The proxy has no discovery client in the decision path, so it carries the
// built-in cluster-scoped resources as a static list keyed by API group. Everything not listed — custom resources,
// portcullis.dev kinds, resources this list does not know yet — is treated as namespaced: a request for it without a
// namespace then counts as touching every namespace, which only ever makes a decision stricter (fail closed).

const CLUSTER_SCOPED: ReadonlyMap<string, ReadonlySet<string>> = new Map<string, ReadonlySet<string>>([
  ['', new Set(['nodes', 'namespaces', 'persistentvolumes', 'componentstatuses'])],
  ['rbac.authorization.k8s.io', new Set(['clusterroles', 'clusterrolebindings'])],
  ['apiextensions.k8s.io', new Set(['customresourcedefinitions'])],
  ['apiregistration.k8s.io', new Set(['apiservices'])],
  [
    'admissionregistration.k8s.io',
    new Set([
      'mutatingwebhookconfigurations',
      'validatingwebhookconfigurations',
      'validatingadmissionpolicies',
      'validatingadmissionpolicybindings',
      'mutatingadmissionpolicies',
      'mutatingadmissionpolicybindings',
    ]),
  ],
  ['storage.k8s.io', new Set(['storageclasses', 'csidrivers', 'csinodes', 'volumeattachments', 'volumeattributesclasses'])],
  ['scheduling.k8s.io', new Set(['priorityclasses'])],
  ['node.k8s.io', new Set(['runtimeclasses'])],
  ['networking.k8s.io', new Set(['ingressclasses', 'ipaddresses', 'servicecidrs'])],
  ['certificates.k8s.io', new Set(['certificatesigningrequests', 'clustertrustbundles'])],
  ['authentication.k8s.io', new Set(['tokenreviews', 'selfsubjectreviews'])],
  ['authorization.k8s.io', new Set(['subjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'])],
  ['flowcontrol.apiserver.k8s.io', new Set(['flowschemas', 'prioritylevelconfigurations'])],
  ['resource.k8s.io', new Set(['deviceclasses', 'resourceslices'])],
  ['internal.apiserver.k8s.io', new Set(['storageversions'])],
  ['storagemigration.k8s.io', new Set(['storageversionmigrations'])],
]);

/** True only for resources known to be cluster-scoped; unknown resources are assumed namespaced. */
export function isClusterScoped(apiGroup: string, resource: string): boolean {
  return CLUSTER_SCOPED.get(apiGroup)?.has(resource) ?? false;
}
