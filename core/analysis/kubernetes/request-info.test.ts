import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesPart } from '../command.ts';
import { analyseKubernetes, type KubernetesRequest } from './request-info.ts';

type Expected = Partial<Omit<KubernetesPart, 'protocol'>>;

interface Case {
  readonly name: string;
  readonly req: KubernetesRequest;
  /** Fields the single part must have (fields not named are not checked, except the defaults below). */
  readonly want?: Expected;
  /** A substring of the expected error. */
  readonly error?: string;
  /** A substring of the expected forbidden reason. */
  readonly forbidden?: string;
}

const get = (path: string, headers?: KubernetesRequest['headers']): KubernetesRequest =>
  headers === undefined ? { method: 'GET', path } : { method: 'GET', path, headers };
const req = (method: string, path: string): KubernetesRequest => ({ method, path });

const cases: readonly Case[] = [
  // get vs list, core and named groups
  {
    name: 'get a pod',
    req: get('/api/v1/namespaces/default/pods/web-1'),
    want: { kind: 'resource', verb: 'get', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', namespace: 'default', name: 'web-1', allNamespaces: false },
  },
  {
    name: 'list pods in a namespace',
    req: get('/api/v1/namespaces/default/pods'),
    want: { verb: 'list', resource: 'pods', namespace: 'default', name: '', allNamespaces: false },
  },
  {
    name: 'list pods across all namespaces',
    req: get('/api/v1/pods'),
    want: { verb: 'list', resource: 'pods', namespace: '', allNamespaces: true },
  },
  {
    name: 'list deployments in a group',
    req: get('/apis/apps/v1/namespaces/prod/deployments?limit=500'),
    want: { verb: 'list', apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', namespace: 'prod' },
  },
  {
    name: 'HEAD is a get',
    req: req('HEAD', '/api/v1/namespaces/a/configmaps/c'),
    want: { verb: 'get', resource: 'configmaps', name: 'c' },
  },
  // cluster-scoped vs namespaced
  { name: 'list nodes (cluster-scoped)', req: get('/api/v1/nodes'), want: { verb: 'list', resource: 'nodes', allNamespaces: false } },
  { name: 'get a node', req: get('/api/v1/nodes/n1'), want: { verb: 'get', resource: 'nodes', name: 'n1', allNamespaces: false } },
  {
    name: 'list clusterroles (cluster-scoped, group)',
    req: get('/apis/rbac.authorization.k8s.io/v1/clusterroles'),
    want: { verb: 'list', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', allNamespaces: false },
  },
  {
    name: 'create a selfsubjectaccessreview (cluster-scoped)',
    req: req('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'),
    want: { verb: 'create', resource: 'selfsubjectaccessreviews', allNamespaces: false },
  },
  {
    name: 'roles without a namespace touch every namespace',
    req: get('/apis/rbac.authorization.k8s.io/v1/roles'),
    want: { verb: 'list', resource: 'roles', allNamespaces: true },
  },
  {
    name: 'a "nodes" resource of another group is not assumed cluster-scoped',
    req: get('/apis/example.com/v1/nodes'),
    want: { verb: 'list', apiGroup: 'example.com', resource: 'nodes', allNamespaces: true },
  },
  {
    name: 'unknown resource without namespace: possibly namespaced',
    req: get('/apis/widgets.example.com/v1beta1/widgets'),
    want: { verb: 'list', resource: 'widgets', allNamespaces: true },
  },
  // namespace objects
  {
    name: 'get a namespace object: no namespace attribute',
    req: get('/api/v1/namespaces/sandbox'),
    want: { verb: 'get', resource: 'namespaces', name: 'sandbox', namespace: '', allNamespaces: false },
  },
  {
    name: 'delete a namespace object',
    req: req('DELETE', '/api/v1/namespaces/sandbox'),
    want: { verb: 'delete', resource: 'namespaces', name: 'sandbox', namespace: '', allNamespaces: false },
  },
  {
    name: 'list namespaces',
    req: get('/api/v1/namespaces'),
    want: { verb: 'list', resource: 'namespaces', name: '', namespace: '', allNamespaces: false },
  },
  {
    name: 'namespace status subresource',
    req: req('PUT', '/api/v1/namespaces/sandbox/status'),
    want: { verb: 'update', resource: 'namespaces', subresource: 'status', name: 'sandbox', namespace: '' },
  },
  {
    name: 'namespace finalize subresource',
    req: req('PUT', '/api/v1/namespaces/sandbox/finalize'),
    want: { verb: 'update', resource: 'namespaces', subresource: 'finalize', name: 'sandbox', namespace: '' },
  },
  // verbs
  { name: 'POST creates', req: req('POST', '/api/v1/namespaces/a/pods'), want: { verb: 'create', resource: 'pods', name: '' } },
  { name: 'PUT updates', req: req('PUT', '/api/v1/namespaces/a/pods/p'), want: { verb: 'update', name: 'p' } },
  { name: 'PATCH patches', req: req('PATCH', '/apis/apps/v1/namespaces/a/deployments/d'), want: { verb: 'patch', resource: 'deployments', name: 'd' } },
  {
    name: 'server-side apply is a patch',
    req: {
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/a/deployments/d?fieldManager=kubectl&force=true',
      headers: { 'content-type': 'application/apply-patch+yaml' },
    },
    want: { verb: 'patch', resource: 'deployments', name: 'd' },
  },
  { name: 'DELETE with a name deletes', req: req('DELETE', '/api/v1/namespaces/a/pods/p'), want: { verb: 'delete', name: 'p' } },
  {
    name: 'DELETE without a name is deletecollection',
    req: req('DELETE', '/api/v1/namespaces/a/pods?labelSelector=app%3Dweb'),
    want: { verb: 'deletecollection', resource: 'pods', namespace: 'a', name: '' },
  },
  {
    name: 'cluster-wide deletecollection touches every namespace',
    req: req('DELETE', '/apis/apps/v1/deployments'),
    want: { verb: 'deletecollection', resource: 'deployments', allNamespaces: true },
  },
  // watch
  { name: 'watch=true', req: get('/api/v1/namespaces/a/pods?watch=true'), want: { verb: 'watch', resource: 'pods' } },
  { name: 'watch=1', req: get('/api/v1/pods?watch=1&resourceVersion=10'), want: { verb: 'watch', allNamespaces: true } },
  { name: 'watch=false is a list', req: get('/api/v1/namespaces/a/pods?watch=false'), want: { verb: 'list' } },
  { name: 'watch=FALSE is a list', req: get('/api/v1/namespaces/a/pods?watch=FALSE'), want: { verb: 'list' } },
  { name: 'watch=0 is a list', req: get('/api/v1/namespaces/a/pods?watch=0'), want: { verb: 'list' } },
  { name: 'repeated equal watch values', req: get('/api/v1/namespaces/a/pods?watch=1&watch=1'), want: { verb: 'watch' } },
  { name: 'conflicting repeated watch values', req: get('/api/v1/namespaces/a/pods?watch=false&watch=true'), error: 'conflicting' },
  {
    name: 'legacy /watch/ prefix',
    req: get('/api/v1/watch/namespaces/a/pods'),
    want: { verb: 'watch', resource: 'pods', namespace: 'a', name: '' },
  },
  {
    name: 'legacy /watch/ prefix with a name',
    req: get('/apis/apps/v1/watch/namespaces/a/deployments/d'),
    want: { verb: 'watch', apiGroup: 'apps', resource: 'deployments', namespace: 'a', name: 'd' },
  },
  { name: 'legacy /watch/ across namespaces', req: get('/api/v1/watch/pods'), want: { verb: 'watch', allNamespaces: true } },
  { name: '/watch/ without a resource', req: get('/api/v1/watch'), error: 'watch prefix without a resource' },
  { name: '/watch/ prefix with DELETE', req: req('DELETE', '/api/v1/watch/namespaces/a/pods'), error: 'watch' },
  { name: 'legacy /proxy/ verb prefix', req: get('/api/v1/proxy/namespaces/a/pods/p'), error: 'proxy' },
  // fieldSelector names a list like the API server does
  {
    name: 'fieldSelector metadata.name sets the name',
    req: get('/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Dtoken'),
    want: { verb: 'list', resource: 'secrets', name: 'token' },
  },
  {
    name: 'fieldSelector == on a watch sets the name',
    req: get('/api/v1/namespaces/a/pods?watch=true&fieldSelector=metadata.name%3D%3Dp1,status.phase%3DRunning'),
    want: { verb: 'watch', name: 'p1' },
  },
  { name: 'fieldSelector != sets no name', req: get('/api/v1/namespaces/a/pods?fieldSelector=metadata.name!%3Dp1'), want: { verb: 'list', name: '' } },
  { name: 'fieldSelector with an invalid escape sets no name', req: get('/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dp%5Cx'), want: { verb: 'list', name: '' } },
  { name: 'fieldSelector naming a path is ignored', req: get('/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Da/b'), want: { verb: 'list', name: '' } },
  // subresources
  { name: 'status', req: req('PUT', '/apis/apps/v1/namespaces/a/deployments/d/status'), want: { verb: 'update', resource: 'deployments', subresource: 'status', name: 'd' } },
  { name: 'scale', req: req('PATCH', '/apis/apps/v1/namespaces/prod/deployments/d/scale'), want: { verb: 'patch', resource: 'deployments', subresource: 'scale', namespace: 'prod' } },
  { name: 'log', req: get('/api/v1/namespaces/a/pods/p/log?container=c&follow=true'), want: { verb: 'get', resource: 'pods', subresource: 'log', name: 'p' } },
  { name: 'exec via SPDY POST is create', req: req('POST', '/api/v1/namespaces/a/pods/p/exec?command=sh&stdin=true&tty=true'), want: { verb: 'create', subresource: 'exec', name: 'p' } },
  { name: 'exec via WebSocket GET is create', req: get('/api/v1/namespaces/a/pods/p/exec?command=ls'), want: { verb: 'create', subresource: 'exec' } },
  { name: 'attach via GET is create', req: get('/api/v1/namespaces/a/pods/p/attach?stdin=true'), want: { verb: 'create', subresource: 'attach' } },
  { name: 'portforward via GET is create', req: get('/api/v1/namespaces/a/pods/p/portforward?ports=8080'), want: { verb: 'create', subresource: 'portforward' } },
  {
    name: 'pod proxy with a sub-path is create',
    req: get('/api/v1/namespaces/a/pods/p:8080/proxy/some/path/'),
    want: { verb: 'create', resource: 'pods', subresource: 'proxy', name: 'p:8080', path: '/api/v1/namespaces/a/pods/p:8080/proxy/some/path/' },
  },
  { name: 'service proxy via DELETE is create', req: req('DELETE', '/api/v1/namespaces/a/services/s/proxy/x'), want: { verb: 'create', resource: 'services', subresource: 'proxy' } },
  { name: 'node proxy is create, cluster-scoped', req: get('/api/v1/nodes/n1/proxy/metrics'), want: { verb: 'create', resource: 'nodes', subresource: 'proxy', allNamespaces: false } },
  { name: 'ephemeralcontainers', req: req('PATCH', '/api/v1/namespaces/a/pods/p/ephemeralcontainers'), want: { verb: 'patch', subresource: 'ephemeralcontainers' } },
  { name: 'eviction', req: req('POST', '/api/v1/namespaces/a/pods/p/eviction'), want: { verb: 'create', subresource: 'eviction', name: 'p' } },
  { name: 'serviceaccount token', req: req('POST', '/api/v1/namespaces/a/serviceaccounts/sa/token'), want: { verb: 'create', resource: 'serviceaccounts', subresource: 'token' } },
  // CRDs
  {
    name: 'portcullis.dev kinds are namespaced',
    req: get('/apis/portcullis.dev/v1alpha1/namespaces/x/agentpolicies'),
    want: { verb: 'list', apiGroup: 'portcullis.dev', apiVersion: 'v1alpha1', resource: 'agentpolicies', namespace: 'x', allNamespaces: false },
  },
  {
    name: 'portcullis.dev approval status',
    req: req('PATCH', '/apis/portcullis.dev/v1alpha1/namespaces/x/approvalrequests/r1/status'),
    want: { verb: 'patch', resource: 'approvalrequests', subresource: 'status', name: 'r1' },
  },
  { name: 'portcullis.dev across namespaces', req: get('/apis/portcullis.dev/v1alpha1/agentpolicies'), want: { allNamespaces: true } },
  {
    name: 'creating a CRD (cluster-scoped)',
    req: req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'),
    want: { verb: 'create', resource: 'customresourcedefinitions', allNamespaces: false },
  },
  // URL encoding tricks
  { name: '%73ecrets decodes to secrets', req: get('/api/v1/namespaces/a/%73ecrets/s'), want: { resource: 'secrets', name: 's', verb: 'get' } },
  { name: 'upper-case hex escapes', req: get('/api/v1/namespaces/a/%53%45%43RETS'), want: { resource: 'SECRETS' } },
  {
    name: '%2F splits segments as the API server does',
    req: get('/api/v1/namespaces/a%2Fsecrets%2Fs'),
    want: { resource: 'secrets', namespace: 'a', name: 's', verb: 'get' },
  },
  { name: 'encoded dot-dot', req: get('/api/v1/namespaces/a/pods/%2e%2e/secrets'), error: 'dot segment' },
  { name: 'raw dot-dot', req: get('/api/v1/namespaces/a/pods/../secrets'), error: 'dot segment' },
  { name: 'single dot', req: get('/api/v1/./pods'), error: 'dot segment' },
  { name: 'empty segment', req: get('/api/v1//pods'), error: 'empty path segment' },
  { name: 'encoded NUL', req: get('/api/v1/namespaces/a/pods/p%00'), error: 'control character' },
  { name: 'encoded newline', req: get('/api/v1/namespaces/a/pods/p%0a'), error: 'control character' },
  { name: 'invalid percent escape', req: get('/api/v1/namespaces/a/pods/%zz'), error: 'invalid percent escape' },
  { name: 'truncated percent escape', req: get('/api/v1/pods%2'), error: 'invalid percent escape' },
  { name: 'invalid UTF-8 escape', req: get('/api/v1/namespaces/a/pods/%ff'), error: 'UTF-8' },
  { name: 'raw space', req: get('/api/v1/pods x'), error: 'character in URL' },
  { name: 'backslash', req: get('/api/v1/namespaces\\a/pods'), error: 'backslash' },
  { name: 'over 8 KiB', req: get(`/api/v1/namespaces/a/pods/${'p'.repeat(8200)}`), error: 'longer than' },
  { name: 'not origin-form', req: get('https://evil/api/v1/pods'), error: 'must start with' },
  { name: 'semicolon query separator', req: get('/api/v1/pods?watch=false;watch=true'), error: 'semicolon' },
  { name: 'invalid escape in the query', req: get('/api/v1/pods?watch=%G1'), error: 'query' },
  { name: 'unsupported method', req: req('OPTIONS', '/api/v1/pods'), error: 'unsupported method' },
  { name: 'lower-case method is not GET', req: req('get', '/api/v1/pods'), error: 'unsupported method' },
  // discovery and non-resource URLs
  { name: 'discovery GET /api', req: get('/api?timeout=32s'), want: { kind: 'nonResource', verb: 'get', discovery: true, path: '/api' } },
  { name: 'discovery GET /api/v1', req: get('/api/v1'), want: { kind: 'nonResource', discovery: true } },
  { name: 'discovery GET /apis', req: get('/apis'), want: { kind: 'nonResource', discovery: true } },
  { name: 'discovery GET /apis/apps', req: get('/apis/apps'), want: { kind: 'nonResource', discovery: true } },
  { name: 'discovery GET /apis/apps/v1', req: get('/apis/apps/v1'), want: { kind: 'nonResource', discovery: true, path: '/apis/apps/v1' } },
  { name: 'discovery GET /openapi/v2', req: get('/openapi/v2'), want: { kind: 'nonResource', discovery: true } },
  { name: 'discovery GET /openapi/v3', req: get('/openapi/v3'), want: { kind: 'nonResource', discovery: true } },
  { name: 'discovery GET /openapi/v3/apis/apps/v1', req: get('/openapi/v3/apis/apps/v1?hash=abc'), want: { kind: 'nonResource', discovery: true } },
  { name: 'discovery GET /version', req: get('/version'), want: { kind: 'nonResource', discovery: true } },
  { name: 'POST /api is not discovery', req: req('POST', '/api'), want: { kind: 'nonResource', verb: 'post', discovery: false } },
  { name: '/openapi/v1 is not discovery', req: get('/openapi/v1'), want: { kind: 'nonResource', discovery: false } },
  { name: '/healthz', req: get('/healthz'), want: { kind: 'nonResource', verb: 'get', discovery: false, path: '/healthz' } },
  { name: '/metrics', req: get('/metrics'), want: { kind: 'nonResource', verb: 'get', discovery: false } },
  { name: '/logs/…', req: get('/logs/kube-apiserver.log'), want: { kind: 'nonResource', verb: 'get', path: '/logs/kube-apiserver.log' } },
  { name: 'DELETE on a non-resource URL', req: req('DELETE', '/logs/x'), want: { kind: 'nonResource', verb: 'delete' } },
  { name: 'root', req: get('/'), want: { kind: 'nonResource', verb: 'get', discovery: false, path: '/' } },
];

const impersonationCases: readonly Case[] = [
  { name: 'Impersonate-User', req: get('/api/v1/pods', { 'Impersonate-User': 'admin' }), forbidden: 'Impersonate-User' },
  { name: 'impersonate-user (lower case)', req: get('/api/v1/pods', { 'impersonate-user': 'admin' }), forbidden: 'impersonat' },
  { name: 'IMPERSONATE-GROUP (upper case)', req: get('/api/v1/pods', { 'IMPERSONATE-GROUP': 'system:masters' }), forbidden: 'IMPERSONATE-GROUP' },
  { name: 'Impersonate-Group as a list', req: get('/api/v1/pods', { 'impersonate-group': ['a', 'b'] }), forbidden: 'impersonat' },
  { name: 'Impersonate-Uid', req: get('/api/v1/pods', { 'Impersonate-Uid': '1' }), forbidden: 'Impersonate-Uid' },
  { name: 'Impersonate-Extra-*', req: get('/api/v1/pods', { 'Impersonate-Extra-Scopes': 'view' }), forbidden: 'Impersonate-Extra-Scopes' },
  { name: 'empty Impersonate value', req: get('/api/v1/pods', { 'Impersonate-User': '' }), forbidden: 'Impersonate-User' },
  { name: 'impersonation on an unparsable path', req: get('/api/v1/../x', { 'Impersonate-User': 'x' }), forbidden: 'Impersonate-User', error: 'dot segment' },
];

const defaults = { protocol: 'kubernetes', discovery: false, allNamespaces: false } as const;

function check(c: Case): void {
  const command = analyseKubernetes(c.req);
  if (c.error !== undefined) {
    assert.ok(command.error?.includes(c.error), `error ${JSON.stringify(command.error)} should mention ${c.error}`);
    assert.equal(command.parts.length, 0);
  } else {
    assert.equal(command.error, undefined);
    assert.equal(command.parts.length, 1);
  }
  if (c.forbidden !== undefined) {
    assert.ok(command.forbidden?.includes(c.forbidden), `forbidden ${JSON.stringify(command.forbidden)}`);
  } else {
    assert.equal(command.forbidden, undefined);
  }
  if (c.want !== undefined) {
    const part = command.parts[0] as KubernetesPart;
    const expected: Record<string, unknown> = { ...defaults, ...c.want };
    const actual: Record<string, unknown> = {};
    for (const key of Object.keys(expected)) actual[key] = part[key as keyof KubernetesPart];
    assert.deepEqual(actual, expected);
  }
}

describe('analyseKubernetes', () => {
  for (const c of cases) it(c.name, () => check(c));
});

describe('analyseKubernetes: impersonation is forbidden', () => {
  for (const c of impersonationCases) it(c.name, () => check(c));

  it('an unrelated header is fine', () => {
    const command = analyseKubernetes(get('/api/v1/pods', { 'X-Impersonate-User': 'a', Authorization: 'Bearer t' }));
    assert.equal(command.forbidden, undefined);
  });

  it('keeps the analysed part for the record', () => {
    const command = analyseKubernetes(get('/api/v1/namespaces/a/pods', { 'Impersonate-User': 'admin' }));
    assert.equal(command.parts.length, 1);
    assert.equal((command.parts[0] as KubernetesPart).verb, 'list');
  });
});

describe('analyseKubernetes: part shape', () => {
  it('fills every field of a resource part', () => {
    assert.deepEqual(analyseKubernetes(get('/apis/apps/v1/namespaces/a/deployments/d/scale')).parts, [
      {
        protocol: 'kubernetes',
        kind: 'resource',
        verb: 'get',
        apiGroup: 'apps',
        apiVersion: 'v1',
        resource: 'deployments',
        subresource: 'scale',
        namespace: 'a',
        allNamespaces: false,
        name: 'd',
        path: '/apis/apps/v1/namespaces/a/deployments/d/scale',
        discovery: false,
      },
    ]);
  });

  it('fills every field of a non-resource part', () => {
    assert.deepEqual(analyseKubernetes(req('HEAD', '/healthz/')).parts, [
      {
        protocol: 'kubernetes',
        kind: 'nonResource',
        verb: 'head',
        apiGroup: '',
        apiVersion: '',
        resource: '',
        subresource: '',
        namespace: '',
        allNamespaces: false,
        name: '',
        path: '/healthz/',
        discovery: false,
      },
    ]);
  });
});
