// HTTP rule matching: method, path globs, header conditions and JSON body conditions (every set field, AND).
import type { HttpPart } from '../../analysis/command.ts';
import { jsonPathGet, matchJsonCondition } from '../../analysis/http/request.ts';
import { compileAny } from '../glob.ts';
import type { HttpMatch } from '../bundle.ts';

export type HttpPartMatcher = (part: HttpPart) => boolean;

export function compileHttpMatcher(m: HttpMatch): HttpPartMatcher {
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
  for (const [path, conditions] of Object.entries(m.jsonBody ?? {})) {
    // A condition on a body that is absent or not JSON does not match: an allow rule never covers what it cannot see.
    tests.push((p) => {
      if (p.jsonBody === undefined) return false;
      const value = jsonPathGet(p.jsonBody, path);
      return conditions.some((c) => matchJsonCondition(value, c));
    });
  }
  return (p) => {
    for (const t of tests) if (!t(p)) return false;
    return true;
  };
}
