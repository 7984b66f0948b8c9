// Registers admission webhooks served by a local process (the operator run by a suite) with the API server:
// clientConfig.url = https://127.0.0.1:PORT/path plus the caBundle that signs the server's certificate.
// Registration replaces the named Mutating/ValidatingWebhookConfiguration objects as a whole.
//
// The API server picks configuration changes up asynchronously (usually within a second): a suite that needs the
// webhook active should poll with a request the webhook is known to affect.
import { readFileSync } from 'node:fs';
import { ensureCluster, kubectl } from './cluster.ts';

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface WebhookRule {
  readonly operations: readonly ('CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT' | '*')[];
  readonly apiGroups: readonly string[];
  readonly apiVersions: readonly string[];
  /** e.g. pods, approvalrequests/status, pods/ephemeralcontainers */
  readonly resources: readonly string[];
  readonly scope?: 'Cluster' | 'Namespaced' | '*';
}

export interface WebhookSpec {
  /** Fully qualified, at least three DNS labels, unique within the configuration: e.g. inject.portcullis.dev */
  readonly name: string;
  /** Path on the local server, starting with '/'. */
  readonly path: string;
  readonly rules: readonly WebhookRule[];
  readonly failurePolicy?: 'Fail' | 'Ignore';
  readonly sideEffects?: 'None' | 'NoneOnDryRun';
  readonly timeoutSeconds?: number;
  readonly matchPolicy?: 'Exact' | 'Equivalent';
  readonly namespaceSelector?: LabelSelector;
  readonly objectSelector?: LabelSelector;
  readonly matchConditions?: readonly { name: string; expression: string }[];
  /** Mutating webhooks only. */
  readonly reinvocationPolicy?: 'Never' | 'IfNeeded';
}

export interface WebhookRegistration {
  /** Name of both configuration objects. */
  readonly name: string;
  readonly port: number;
  /** Default 127.0.0.1 (the serving certificate from the e2e PKI has SANs 127.0.0.1 and localhost). */
  readonly host?: string;
  /** PEM CA that signs the server's certificate; default: the local cluster's serving CA (webhookServingCert().ca). */
  readonly caBundle?: string;
  readonly mutating?: readonly WebhookSpec[];
  readonly validating?: readonly WebhookSpec[];
}

export interface ServingCert {
  readonly cert: string;
  readonly key: string;
  /** PEM CA to pass as caBundle. */
  readonly ca: string;
}

/** The e2e PKI's serving certificate for 127.0.0.1/localhost, for a webhook server run as a local process. */
export async function webhookServingCert(): Promise<ServingCert> {
  const { pki } = await ensureCluster();
  if (!pki) throw new Error('no e2e PKI: against an external cluster, bring your own serving certificate and caBundle');
  return {
    cert: readFileSync(pki.webhookCert, 'utf8'),
    key: readFileSync(pki.webhookKey, 'utf8'),
    ca: readFileSync(pki.caCert, 'utf8'),
  };
}

const FIELD_MANAGER = 'portcullis-e2e-webhooks';

/** The admissionregistration.k8s.io/v1 objects for a registration (pure; exported for inspection in tests). */
export function webhookConfigurations(reg: WebhookRegistration, caBundlePem: string): object[] {
  if (!Number.isInteger(reg.port) || reg.port < 1 || reg.port > 65535) throw new Error(`invalid webhook port ${reg.port}`);
  const host = reg.host ?? '127.0.0.1';
  const caBundle = Buffer.from(caBundlePem, 'utf8').toString('base64');
  const webhook = (spec: WebhookSpec, mutating: boolean): Record<string, unknown> => {
    if (!spec.path.startsWith('/')) throw new Error(`webhook ${spec.name}: path must start with '/'`);
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const out: Record<string, unknown> = {
      name: spec.name,
      clientConfig: { url: `https://${hostPart}:${reg.port}${spec.path}`, caBundle },
      rules: spec.rules,
      failurePolicy: spec.failurePolicy ?? 'Fail',
      sideEffects: spec.sideEffects ?? 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: spec.timeoutSeconds ?? 10,
      matchPolicy: spec.matchPolicy ?? 'Equivalent',
    };
    if (spec.namespaceSelector) out.namespaceSelector = spec.namespaceSelector;
    if (spec.objectSelector) out.objectSelector = spec.objectSelector;
    if (spec.matchConditions) out.matchConditions = spec.matchConditions;
    if (mutating) out.reinvocationPolicy = spec.reinvocationPolicy ?? 'Never';
    else if (spec.reinvocationPolicy) throw new Error(`webhook ${spec.name}: reinvocationPolicy is for mutating webhooks`);
    return out;
  };
  const objects: object[] = [];
  const metadata = { name: reg.name, labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER } };
  if (reg.mutating?.length) {
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      webhooks: reg.mutating.map((w) => webhook(w, true)),
    });
  }
  if (reg.validating?.length) {
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata,
      webhooks: reg.validating.map((w) => webhook(w, false)),
    });
  }
  return objects;
}

/**
 * Creates or replaces the named configurations. A kind with no webhooks in `reg` is deleted, so the cluster ends up
 * with exactly what `reg` describes.
 */
export async function registerWebhooks(reg: WebhookRegistration): Promise<void> {
  const ca = reg.caBundle ?? (await webhookServingCert()).ca;
  const objects = webhookConfigurations(reg, ca);
  if (objects.length === 0) throw new Error(`webhook registration ${reg.name} has no webhooks`);
  if (!reg.mutating?.length) await kubectl(['delete', 'mutatingwebhookconfiguration', reg.name, '--ignore-not-found']);
  if (!reg.validating?.length) await kubectl(['delete', 'validatingwebhookconfiguration', reg.name, '--ignore-not-found']);
  // Server-side apply with one field manager: webhooks dropped from `reg` are removed, the rest replaced.
  await kubectl(['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

/** Deletes both configurations of a registration (absent ones are fine). */
export async function unregisterWebhooks(name: string): Promise<void> {
  await kubectl(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', name, '--ignore-not-found']);
}
