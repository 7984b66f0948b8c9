// search_path values as PostgreSQL reads them.

const maxIdentifierBytes = 63; // NAMEDATALEN - 1

/**
 * The schema list of a search_path given as one string (set_config, startup options): PostgreSQL's
 * SplitIdentifierString — comma-separated, whitespace around names ignored, "quoted" names keep case and `""`
 * stands for one quote, unquoted names are folded to lower case (ASCII only, as for UTF-8 databases) and every
 * name is truncated to 63 bytes. Returns undefined where PostgreSQL would reject the value.
 */
export function parseSearchPathText(text: string): string[] | undefined {
  const names: string[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  skipSpace();
  if (i === n) return names; // an empty string is an empty list
  for (;;) {
    let name: string;
    if (text[i] === '"') {
      let out = '';
      i++;
      for (;;) {
        const end = text.indexOf('"', i);
        if (end < 0) return undefined; // unterminated quote
        out += text.slice(i, end);
        i = end + 1;
        if (text[i] === '"') {
          out += '"';
          i++;
          continue;
        }
        break;
      }
      // PostgreSQL accepts "" here: a schema with an empty name, which never exists.
      name = out;
    } else {
      const start = i;
      while (i < n && text[i] !== ',' && !isSpace(text.charCodeAt(i))) i++;
      if (i === start) return undefined; // empty element
      name = asciiLower(text.slice(start, i));
    }
    names.push(truncateIdentifier(name));
    skipSpace();
    if (i === n) return names;
    if (text[i] !== ',') return undefined;
    i++;
    skipSpace();
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function asciiLower(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

export function truncateIdentifier(name: string): string {
  if (name.length <= maxIdentifierBytes / 4) return name;
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= maxIdentifierBytes) return name;
  // Cut at a character boundary, as PostgreSQL's pg_mbcliplen does.
  let end = maxIdentifierBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
