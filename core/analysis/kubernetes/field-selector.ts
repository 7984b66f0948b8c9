// The object name a list or watch is narrowed to by `fieldSelector=metadata.name=X`, read as the API server reads
// it (k8s.io/apimachinery fields.ParseSelector + RequiresExactMatch): terms split on unescaped commas, operators
// `!=`, `==`, `=` tried at each position, values unescaped (`\\`, `\,`, `\=`). Whatever the API server would not
// read as an exact name yields undefined, and the request then stays a request without a name (the stricter case).

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '\\') i++;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const OPERATORS = ['!=', '==', '='] as const;

function splitTerm(term: string): { key: string; op: string; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) return { key: term.slice(0, i), op, value: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function unescapeValue(value: string): string | undefined {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') return undefined;
      out += c;
      escaped = false;
    } else if (c === '\\') escaped = true;
    else if (c === ',' || c === '=') return undefined;
    else out += c;
  }
  return escaped ? undefined : out;
}

/** A name the API server accepts as one path segment (path.IsValidPathSegmentName). */
export function isValidPathSegmentName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** The exact `metadata.name` the selector requires, or undefined. */
export function exactNameFromFieldSelector(selector: string): string | undefined {
  if (selector.trim() === '') return undefined;
  let name: string | undefined;
  for (const raw of splitTerms(selector)) {
    const term = splitTerm(raw);
    // One unparsable term makes the API server reject the selector; it then authorizes without a name. The key is
    // compared untrimmed: should the API server trim it, reading no name here is only stricter.
    if (term === undefined) return undefined;
    const value = unescapeValue(term.value);
    if (value === undefined) return undefined;
    if (name === undefined && term.key === 'metadata.name' && (term.op === '=' || term.op === '==')) {
      name = value;
    }
  }
  return name !== undefined && isValidPathSegmentName(name) ? name : undefined;
}
