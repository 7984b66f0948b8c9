// The MutatingWebhookConfiguration and ValidatingWebhookConfiguration that route admission to the handlers of
// routes.ts — by `service` in the cluster (Helm renders the same shape; the e2e suite checks they agree) or by `url`
// for a local process (`make operator-local`, e2e), registered with registerLocalWebhooks.
//
// Scope decisions:
//   - Pod webhooks see only namespaces labelled portcullis.dev/injection=enabled, and never the operator's own
//     namespace, matched on the immutable kubernetes.io/metadata.name label. The operator's pods are excluded by
//     namespace rather than by an objectSelector on pod labels: any pod author can copy a label, and a copied
//     label would skip every check (credentials Secrets included) — a namespace name cannot be copied.
//   - failurePolicy Fail everywhere: an agent never starts unprotected, a policy that was not checked is not
//     admitted, an approval is never stamped by nobody.
//   - reinvocationPolicy IfNeeded on injection: when a later webhook changes the pod, the injector runs again and
//     either confirms its work (no patch) or redoes it; the validating pod webhook then checks the final object.
import { KubeConfig } from '@kubernetes/client-node';
import { GROUP, INJECTION_ENABLED, INJECTION_LABEL, VERSION } from '../../core/api/index.ts';
import { kubeApiFromConfig, KubeError, type KubeApi } from '../kube/rest.ts';
import { WEBHOOK_PATHS } from './routes.ts';

export const DEFAULT_CONFIGURATION_NAME = 'portcullis';
/** Set by the API server on every namespace, immutable: selectors on it cannot be satisfied by relabelling. */
const NAME_LABEL = 'kubernetes.io/metadata.name';

export type WebhookTarget =
  | { readonly url: string }
  | { readonly service: { readonly name: string; readonly namespace: string; readonly port: number } };

export interface ConfigurationOptions {
  /** Name of both configuration objects. */
  readonly name?: string;
  readonly operatorNamespace: string;
  readonly target: WebhookTarget;
  /** PEM CA bundle; omitted in cert-manager mode (the cainjector fills it) or when the operator patches it later. */
  readonly caBundle?: string;
  /** cert-manager mode: `namespace/certificate` for the cert-manager.io/inject-ca-from annotation. */
  readonly certManagerCertificate?: string;
  readonly timeoutSeconds?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Restrict every webhook to these namespaces (the operator watches only them: outside them it would judge from
   * empty caches). Empty or absent: all namespaces.
   */
  readonly namespaces?: readonly string[];
}

interface Rule {
  operations: string[];
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope: 'Namespaced';
}

const rule = (operations: string[], apiGroups: string[], apiVersions: string[], resources: string[]): Rule => ({
  operations,
  apiGroups,
  apiVersions,
  resources,
  scope: 'Namespaced',
});

export interface WebhookConfigurations {
  readonly mutating: Record<string, unknown>;
  readonly validating: Record<string, unknown>;
}

export function webhookConfigurations(opts: ConfigurationOptions): WebhookConfigurations {
  const name = opts.name ?? DEFAULT_CONFIGURATION_NAME;
  const clientConfig = (path: string): Record<string, unknown> => {
    const base = 'url' in opts.target
      ? { url: `${opts.target.url.replace(/\/$/, '')}${path}` }
      : { service: { ...opts.target.service, path } };
    return opts.caBundle ? { ...base, caBundle: Buffer.from(opts.caBundle, 'utf8').toString('base64') } : base;
  };
  const scope = opts.namespaces?.length ? [{ key: NAME_LABEL, operator: 'In', values: [...opts.namespaces] }] : [];
  const injectionNamespaces = {
    matchExpressions: [
      { key: INJECTION_LABEL, operator: 'In', values: [INJECTION_ENABLED] },
      { key: NAME_LABEL, operator: 'NotIn', values: [opts.operatorNamespace] },
      ...scope,
    ],
  };
  const common = (webhookName: string, path: string, rules: Rule[]) => ({
    name: webhookName,
    clientConfig: clientConfig(path),
    rules,
    ...(scope.length ? { namespaceSelector: { matchExpressions: scope } } : {}),
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: opts.timeoutSeconds ?? 10,
  });
  const metadata = {
    name,
    labels: { 'app.kubernetes.io/name': 'portcullis', 'app.kubernetes.io/component': 'webhooks', ...opts.labels },
    ...(opts.certManagerCertificate ? { annotations: { 'cert-manager.io/inject-ca-from': opts.certManagerCertificate } } : {}),
  };
  const crd = (resources: string[], operations: string[]) => rule(operations, [GROUP], [VERSION], resources);
  return {
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      webhooks: [
        {
          ...common('pods.inject.portcullis.dev', WEBHOOK_PATHS.mutatePods, [rule(['CREATE'], [''], ['v1'], ['pods'])]),
          namespaceSelector: injectionNamespaces,
          reinvocationPolicy: 'IfNeeded',
        },
        {
          ...common('approvalrequests.status.portcullis.dev', WEBHOOK_PATHS.mutateApprovalStatus, [crd(['approvalrequests/status'], ['UPDATE'])]),
          reinvocationPolicy: 'Never',
        },
      ],
    },
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata,
      webhooks: [
        {
          ...common('pods.validate.portcullis.dev', WEBHOOK_PATHS.validatePods, [rule(['CREATE', 'UPDATE'], [''], ['v1'], ['pods'])]),
          namespaceSelector: injectionNamespaces,
        },
        {
          ...common('ephemeralcontainers.validate.portcullis.dev', WEBHOOK_PATHS.validatePodsEphemeral, [rule(['UPDATE'], [''], ['v1'], ['pods/ephemeralcontainers'])]),
          namespaceSelector: injectionNamespaces,
        },
        common('agentpolicies.validate.portcullis.dev', WEBHOOK_PATHS.validatePolicies, [crd(['agentpolicies'], ['CREATE', 'UPDATE'])]),
        common('protectedresources.validate.portcullis.dev', WEBHOOK_PATHS.validateResources, [crd(['protectedresources'], ['CREATE', 'UPDATE'])]),
      ],
    },
  };
}

const FIELD_MANAGER = 'portcullis-operator';
const BASE = '/apis/admissionregistration.k8s.io/v1';

/** Server-side applies both configurations (creates or replaces what this field manager owns). */
export async function applyWebhookConfigurations(api: KubeApi, configs: WebhookConfigurations): Promise<void> {
  for (const [plural, body] of [['mutatingwebhookconfigurations', configs.mutating], ['validatingwebhookconfigurations', configs.validating]] as const) {
    const name = (body.metadata as { name: string }).name;
    const path = `${BASE}/${plural}/${encodeURIComponent(name)}`;
    const res = await api.request('PATCH', path, {
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
    });
    if (res.status !== 200 && res.status !== 201) throw new KubeError('PATCH', path, res.status, res.body);
  }
}

export async function deleteWebhookConfigurations(api: KubeApi, name = DEFAULT_CONFIGURATION_NAME): Promise<void> {
  for (const plural of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) {
    const path = `${BASE}/${plural}/${encodeURIComponent(name)}`;
    const res = await api.request('DELETE', path);
    if (res.status !== 200 && res.status !== 202 && res.status !== 404) throw new KubeError('DELETE', path, res.status, res.body);
  }
}

export interface LocalRegistrationOptions {
  /** Default 127.0.0.1 (the local serving certificate covers 127.0.0.1, ::1 and localhost). */
  readonly host?: string;
  readonly name?: string;
  /** The namespace whose pods are never injected; default portcullis-system. */
  readonly operatorNamespace?: string;
  /** Only these namespaces (see ConfigurationOptions.namespaces). */
  readonly namespaces?: readonly string[];
}

/**
 * Local mode: registers the webhooks by URL (https://127.0.0.1:PORT/...) with `caBundle`, for `make operator-local`
 * and the e2e suites. Returns a function that removes them again.
 */
export async function registerLocalWebhooks(
  kubeconfig: string | KubeConfig,
  port: number,
  caBundle: string,
  opts: LocalRegistrationOptions = {},
): Promise<() => Promise<void>> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid webhook port ${port}`);
  let kc: KubeConfig;
  if (typeof kubeconfig === 'string') {
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
  } else kc = kubeconfig;
  const api = kubeApiFromConfig(kc);
  const host = opts.host ?? '127.0.0.1';
  const name = opts.name ?? DEFAULT_CONFIGURATION_NAME;
  const configs = webhookConfigurations({
    name,
    operatorNamespace: opts.operatorNamespace ?? 'portcullis-system',
    target: { url: `https://${host.includes(':') ? `[${host}]` : host}:${port}` },
    caBundle,
    ...(opts.namespaces ? { namespaces: opts.namespaces } : {}),
  });
  await applyWebhookConfigurations(api, configs);
  return () => deleteWebhookConfigurations(api, name);
}
