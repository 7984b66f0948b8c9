// HTTP rule matching: method, path globs, header conditions and JSON body conditions (every set field, AND).
import type { HttpPart } from '../../analysis/command.ts';
import { jsonPathQuery } from '../../analysis/http/json-path.ts';
import { matchJsonCondition } from '../../analysis/http/json-condition.ts';
import type { Action } from '../vocabulary.ts';
import { compileAny } from '../glob.ts';
import type { HttpMatch } from '../bundle.ts';

export type HttpPartMatcher = (part: HttpPart) => boolean;

export function compileHttpMatcher(m: HttpMatch, action: Action): HttpPartMatcher {
  const tests: HttpPartMatcher[] = [];
  if (m.methods) {
    const methods = compileAny(m.methods.map((s) => s.toUpperCase()));
    tests.push((p) => methods(p.method));
  }
  if (m.paths) {
    const paths = compileAny(m.paths);
    tests.push((p) => paths(p.path));
  }
  for (const [name, values] of Object.entries(m.headers ?? {})) {
    const key = name.toLowerCase();
    const accepted = compileAny(values);
    tests.push((p) => p.headers[key] !== undefined && accepted(p.headers[key]!));
  }
  // A path with wildcards selects several values. Deny and approve rules match when any of them meets a condition;
  // an allow rule covers the body only when every selected value does (one prod item among dev items is not "dev").
  const every = action === 'allow';
  for (const [path, conditions] of Object.entries(m.jsonBody ?? {})) {
    // A condition on a body that is absent or not JSON does not match: an allow rule never covers what it cannot see.
    tests.push((p) => {
      if (p.jsonBody === undefined) return false;
      const values = jsonPathQuery(p.jsonBody, path);
      if (values.length === 0) return false;
      const ok = (v: unknown) => conditions.some((c) => matchJsonCondition(v, c));
      return every ? values.every(ok) : values.some(ok);
    });
  }
  return (p) => {
    for (const t of tests) if (!t(p)) return false;
    return true;
  };
}
