// Kubernetes rule matching with RBAC's resource semantics and the contract's fail-closed differences for requests
// that touch every namespace or no named object: deny/approve rules that name namespaces/names match them; an allow
// rule covers them only when it does not restrict namespaces/names.
import type { KubernetesPart } from '../../analysis/command.ts';
import { compileAny, compileGlob, type StringMatcher } from '../glob.ts';
import type { KubernetesMatch } from '../bundle.ts';
import type { Action } from '../vocabulary.ts';

export type KubernetesPartMatcher = (part: KubernetesPart) => boolean;

const unrestricted = (list: readonly string[] | undefined) => list === undefined || list.includes('*');

/** `deployments` is not `deployments/scale`; `pods/*` is every pod subresource; `*` is everything. */
function compileResourceMatcher(patterns: readonly string[]): (p: KubernetesPart) => boolean {
  const whole: StringMatcher[] = [];
  const sub: StringMatcher[] = [];
  for (const pat of patterns) {
    if (pat === '*') {
      whole.push(() => true);
      sub.push(() => true);
    } else if (pat.includes('/')) sub.push(compileGlob(pat));
    else whole.push(compileGlob(pat));
  }
  return (p) => {
    if (p.subresource === '') return whole.some((m) => m(p.resource));
    const full = `${p.resource}/${p.subresource}`;
    return sub.some((m) => m(full));
  };
}

export function compileKubernetesMatcher(m: KubernetesMatch, action: Action): KubernetesPartMatcher {
  const verbs = m.verbs ? compileAny(m.verbs) : undefined;
  if (m.nonResourceURLs) {
    const urls = compileAny(m.nonResourceURLs);
    return (p) => p.kind === 'nonResource' && urls(p.path) && (!verbs || verbs(p.verb));
  }
  const groups = m.apiGroups ? compileAny(m.apiGroups) : undefined;
  const resources = m.resources ? compileResourceMatcher(m.resources) : undefined;
  const namespaces = m.namespaces ? compileAny(m.namespaces) : undefined;
  const names = m.names ? compileAny(m.names) : undefined;
  const restrictive = action !== 'allow';
  const nsOpen = unrestricted(m.namespaces);
  const namesOpen = unrestricted(m.names);
  return (p) => {
    if (p.kind !== 'resource') return false;
    if (verbs && !verbs(p.verb)) return false;
    if (groups && !groups(p.apiGroup)) return false;
    if (resources && !resources(p)) return false;
    if (namespaces) {
      // A cluster-scoped object (a Namespace included) has no namespace: rules restricted to namespaces never match it.
      if (p.namespace === '' && !p.allNamespaces) return false;
      if (p.allNamespaces) {
        if (!restrictive && !nsOpen) return false;
      } else if (!namespaces(p.namespace)) return false;
    }
    if (names) {
      if (p.name === '') {
        if (!restrictive && !namesOpen) return false;
      } else if (!names(p.name)) return false;
    }
    return true;
  };
}
