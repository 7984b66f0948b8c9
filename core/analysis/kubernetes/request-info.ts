// Kubernetes API request → request attributes, computed as the API server's request-info does
// (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), with the contract's deliberate differences:
//  - connect subresources (exec, attach, portforward, proxy) are verb `create` whatever the method, so a
//    read-only allow never opens a shell (WebSocket GET and SPDY POST alike);
//  - namespace objects (/api/v1/namespaces/NAME[/status|/finalize]) carry no namespace attribute;
//  - a namespaced resource requested without a namespace is marked `allNamespaces` (see ./scope.ts);
//  - `Impersonate-*` headers make the request forbidden;
//  - the legacy `/proxy/` verb prefix (no longer served) and anything undecidable are errors, never guesses.
import type { Command, KubernetesPart } from '../command.ts';
import { exactNameFromFieldSelector } from './field-selector.ts';
import { parseRequestTarget, singleQueryValue, type RequestTarget } from './request-target.ts';
import { isClusterScoped } from './scope.ts';

export interface KubernetesRequest {
  readonly method: string;
  /** The request target: path, optionally followed by `?query`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

/** Methods the API server maps to verbs; any other method is refused rather than given an empty verb. */
const RESOURCE_VERBS: Readonly<Record<string, string>> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** Subresources that open a stream into a workload or node; decided as `create` whatever the method. */
const CONNECT_SUBRESOURCES: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** Subresources of namespace objects: `namespaces/NAME/status` is a subresource, not a resource named "status". */
const NAMESPACE_SUBRESOURCES: ReadonlySet<string> = new Set(['status', 'finalize']);

/** The name of the first `Impersonate-*` header present, case-insensitively; undefined when there is none. */
export function impersonationHeader(
  headers: Readonly<Record<string, string | string[] | undefined>> | undefined,
): string | undefined {
  if (headers === undefined) return undefined;
  for (const name of Object.keys(headers)) {
    if (headers[name] !== undefined && name.toLowerCase().startsWith('impersonate-')) return name;
  }
  return undefined;
}

/** The read-only documents kubectl fetches before it does anything: API discovery, OpenAPI and the version. */
function isDiscoveryPath(segments: readonly string[]): boolean {
  const [first, second] = segments;
  switch (first) {
    case 'api':
      return segments.length <= 2;
    case 'apis':
      return segments.length <= 3;
    case 'openapi':
      return (segments.length === 2 && second === 'v2') || (segments.length >= 2 && second === 'v3');
    case 'version':
      return segments.length === 1;
    default:
      return false;
  }
}

function nonResourcePart(method: string, target: RequestTarget): KubernetesPart {
  return {
    protocol: 'kubernetes',
    kind: 'nonResource',
    // RBAC names non-resource verbs after the lower-cased HTTP method.
    verb: method.toLowerCase(),
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    allNamespaces: false,
    name: '',
    path: target.path,
    discovery: method === 'GET' && isDiscoveryPath(target.segments),
  };
}

type PartResult = { readonly part: KubernetesPart } | { readonly error: string };

function resourcePart(method: string, target: RequestTarget): PartResult {
  const segments = target.segments;
  const prefix = segments[0];
  // /api/VERSION/… is the core group; /apis/GROUP/VERSION/… needs one segment more to be a resource request.
  const grouped = prefix === 'apis';
  if ((prefix !== 'api' && !grouped) || segments.length < (grouped ? 4 : 3)) {
    return { part: nonResourcePart(method, target) };
  }
  const apiGroup = grouped ? (segments[1] as string) : '';
  let rest = segments.slice(grouped ? 2 : 1);
  const apiVersion = rest[0] as string;
  rest = rest.slice(1);

  let verb: string | undefined;
  const special = rest[0];
  if (special === 'watch') {
    if (rest.length < 2) return { error: 'watch prefix without a resource' };
    // The API server serves /watch/ routes for GET only; any other method with it is not a watch, it is a mistake.
    if (method !== 'GET') return { error: `${method} with the /watch/ prefix` };
    verb = 'watch';
    rest = rest.slice(1);
  } else if (special === 'proxy') {
    return { error: 'the legacy /proxy/ verb prefix is not served; use the proxy subresource' };
  } else {
    verb = RESOURCE_VERBS[method];
    if (verb === undefined) return { error: `unsupported method ${method}` };
  }

  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] as string;
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] as string)) rest = rest.slice(2);
  }
  // rest is now resource[/name[/subresource[/anything the API server does not interpret]]]
  const resource = rest[0] as string;
  let name = rest[1] ?? '';
  const subresource = rest[2] ?? '';

  // Namespace objects are cluster-scoped: the path's namespace is their name, not a namespace attribute.
  if (apiGroup === '' && resource === 'namespaces') namespace = '';

  if (name === '' && verb === 'get') {
    const watch = singleQueryValue(target.query, 'watch');
    if (!watch.ok) return { error: watch.error };
    // As metav1 converts query booleans: any value but "0" or "false" (any case) means true.
    const isWatch = watch.value !== undefined && watch.value !== '0' && watch.value.toLowerCase() !== 'false';
    verb = isWatch ? 'watch' : 'list';
    const selector = singleQueryValue(target.query, 'fieldSelector');
    if (!selector.ok) return { error: selector.error };
    if (selector.value !== undefined) name = exactNameFromFieldSelector(selector.value) ?? '';
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  if (CONNECT_SUBRESOURCES.has(subresource)) verb = 'create';

  return {
    part: {
      protocol: 'kubernetes',
      kind: 'resource',
      verb,
      apiGroup,
      apiVersion,
      resource,
      subresource,
      namespace,
      allNamespaces: namespace === '' && !isClusterScoped(apiGroup, resource),
      name,
      path: target.path,
      discovery: false,
    },
  };
}

/** Analyses one Kubernetes API request into exactly one part (or an error / a forbidden reason). */
export function analyseKubernetes(req: KubernetesRequest): Command {
  const impersonation = impersonationHeader(req.headers);
  const forbidden =
    impersonation === undefined
      ? undefined
      : `impersonation is not allowed through Portcullis (header ${impersonation})`;

  const target = parseRequestTarget(req.path);
  let result: PartResult;
  if (!target.ok) result = { error: target.error };
  else if (RESOURCE_VERBS[req.method] === undefined) result = { error: `unsupported method ${req.method}` };
  else result = resourcePart(req.method, target.value);

  if ('error' in result) {
    const error = `unanalysable Kubernetes request: ${result.error}`;
    return forbidden === undefined ? { parts: [], error } : { parts: [], error, forbidden };
  }
  return forbidden === undefined ? { parts: [result.part] } : { parts: [result.part], forbidden };
}
