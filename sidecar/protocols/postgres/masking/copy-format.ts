// COPY … TO STDOUT rows in text and CSV format: split one row (one CopyData message — PostgreSQL sends one per
// row) into fields where they lie, decode a field's value, and encode a replacement the way COPY itself would.
//
// Text format (copy.c CopyAttributeOutText): fields separated by the delimiter; backslash escapes \b \f \n \r \t
// \v \\, octal \NNN, hex \xHH, and a backslash before any other character (the delimiter) stands for it; the NULL
// string (default \N) is a null. CSV: fields separated by the delimiter; a field in QUOTE characters may hold
// delimiters, newlines and ESCAPE-escaped quotes (ESCAPE defaults to QUOTE, so "" is one quote); an unquoted field
// equal to the NULL string (default empty) is a null.

export class CopyFormatError extends Error {}

export interface CopyFormat {
  readonly csv: boolean;
  readonly binary: boolean;
  readonly delimiter: number;
  readonly nullText: Buffer;
  readonly quote: number;
  readonly escape: number;
  /** The first message is a header line (column names), not data. */
  readonly header: boolean;
}

/** The format from COPY's options (lower-case names; a bare option is true). */
export function copyFormat(options: ReadonlyMap<string, string | boolean>): CopyFormat {
  const format = String(options.get('format') ?? 'text').toLowerCase();
  if (format !== 'text' && format !== 'csv' && format !== 'binary') throw new CopyFormatError(`unknown COPY format ${format}`);
  const csv = format === 'csv';
  const byte = (name: string, dflt: string): number => {
    const v = options.get(name);
    const s = typeof v === 'string' ? v : dflt;
    const b = Buffer.from(s, 'utf8');
    // PostgreSQL requires single one-byte characters here.
    if (b.length !== 1) throw new CopyFormatError(`COPY ${name} must be a single one-byte character`);
    return b[0] as number;
  };
  const delimiter = byte('delimiter', csv ? ',' : '\t');
  const quote = byte('quote', '"');
  const escape = options.has('escape') ? byte('escape', '"') : quote;
  const nullOpt = options.get('null');
  const nullText = Buffer.from(typeof nullOpt === 'string' ? nullOpt : csv ? '' : '\\N', 'utf8');
  const h = options.get('header');
  const header = h === true || (typeof h === 'string' && !['false', 'off', '0', 'no'].includes(h.toLowerCase()));
  return { csv, binary: format === 'binary', delimiter, nullText, quote, escape, header };
}

/** Field positions of one row, reused from row to row. */
export class CopyRowIndex {
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  /** Whether a CSV field was quoted. */
  quoted = new Uint8Array(16);
  count = 0;
  /** End of the row's content (before its newline). */
  contentEnd = 0;

  /** Splits the row `data`; throws CopyFormatError when it is not one well-formed row. */
  split(data: Buffer, fmt: CopyFormat): number {
    let end = data.length;
    if (end > 0 && data[end - 1] === 0x0a) {
      end--;
      if (end > 0 && data[end - 1] === 0x0d) end--;
    }
    this.contentEnd = end;
    this.count = 0;
    let pos = 0;
    for (;;) {
      const start = pos;
      let quoted = 0;
      if (fmt.csv && pos < end && data[pos] === fmt.quote) {
        quoted = 1;
        pos++;
        for (;;) {
          if (pos >= end) throw new CopyFormatError('COPY CSV row ends inside a quoted field');
          const b = data[pos] as number;
          if (b === fmt.escape && fmt.escape !== fmt.quote && pos + 1 < end && (data[pos + 1] === fmt.quote || data[pos + 1] === fmt.escape)) {
            pos += 2;
          } else if (b === fmt.quote) {
            if (fmt.escape === fmt.quote && data[pos + 1] === fmt.quote) pos += 2;
            else {
              pos++;
              break;
            }
          } else pos++;
        }
        if (pos < end && data[pos] !== fmt.delimiter) throw new CopyFormatError('COPY CSV: text after a closing quote');
      } else if (fmt.csv) {
        while (pos < end && data[pos] !== fmt.delimiter) pos++;
      } else {
        while (pos < end && data[pos] !== fmt.delimiter) pos += data[pos] === 0x5c ? 2 : 1;
        if (pos > end) throw new CopyFormatError('COPY text row ends with a lone backslash');
      }
      this.push(start, pos, quoted);
      if (pos >= end) return this.count;
      pos++; // the delimiter
    }
  }

  isNull(data: Buffer, i: number, fmt: CopyFormat): boolean {
    if (this.quoted[i] === 1) return false;
    const s = this.starts[i] as number;
    const e = this.ends[i] as number;
    return e - s === fmt.nullText.length && data.compare(fmt.nullText, 0, fmt.nullText.length, s, e) === 0;
  }

  /** The field's value as text. */
  decode(data: Buffer, i: number, fmt: CopyFormat): string {
    const s = this.starts[i] as number;
    const e = this.ends[i] as number;
    return fmt.csv ? decodeCsv(data, s, e, this.quoted[i] === 1, fmt) : decodeText(data, s, e);
  }

  private push(start: number, end: number, quoted: number): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
      this.quoted = grow(this.quoted, (n) => new Uint8Array(n));
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.quoted[this.count] = quoted;
    this.count++;
  }
}

const simpleEscapes: Readonly<Record<number, number>> = { 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };

function decodeText(data: Buffer, s: number, e: number): string {
  if (data.indexOf(0x5c, s) < 0 || data.indexOf(0x5c, s) >= e) return data.toString('utf8', s, e);
  const out = Buffer.allocUnsafe(e - s);
  let o = 0;
  for (let p = s; p < e; p++) {
    const b = data[p] as number;
    if (b !== 0x5c) {
      out[o++] = b;
      continue;
    }
    const c = data[++p] as number;
    if (c >= 0x30 && c <= 0x37) {
      let v = c - 0x30;
      for (let k = 0; k < 2 && p + 1 < e && (data[p + 1] as number) >= 0x30 && (data[p + 1] as number) <= 0x37; k++) v = v * 8 + ((data[++p] as number) - 0x30);
      out[o++] = v & 0xff;
    } else if (c === 0x78 && p + 1 < e && isHex(data[p + 1] as number)) {
      let v = hexValue(data[++p] as number);
      if (p + 1 < e && isHex(data[p + 1] as number)) v = v * 16 + hexValue(data[++p] as number);
      out[o++] = v;
    } else {
      out[o++] = simpleEscapes[c] ?? c;
    }
  }
  return out.toString('utf8', 0, o);
}

function decodeCsv(data: Buffer, s: number, e: number, quoted: boolean, fmt: CopyFormat): string {
  if (!quoted) return data.toString('utf8', s, e);
  const out = Buffer.allocUnsafe(e - s);
  let o = 0;
  for (let p = s + 1; p < e - 1; p++) {
    const b = data[p] as number;
    if ((b === fmt.escape || b === fmt.quote) && p + 1 < e - 1 && (data[p + 1] === fmt.quote || (b === fmt.escape && data[p + 1] === fmt.escape))) {
      out[o++] = data[++p] as number;
    } else out[o++] = b;
  }
  return out.toString('utf8', 0, o);
}

/** A field as COPY writes it: the NULL string for null, else escaped (text) or quoted (CSV). */
export function encodeField(value: string | null, fmt: CopyFormat): Buffer {
  if (value === null) return fmt.nullText;
  if (fmt.csv) {
    const q = String.fromCharCode(fmt.quote);
    const esc = String.fromCharCode(fmt.escape);
    let body = '';
    for (const ch of value) body += ch === q || (ch === esc && fmt.escape !== fmt.quote) ? esc + ch : ch;
    return Buffer.from(q + body + q, 'utf8');
  }
  const delim = String.fromCharCode(fmt.delimiter);
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\v':
        out += '\\v';
        break;
      default:
        out += ch === delim ? '\\' + ch : ch;
    }
  }
  return Buffer.from(out, 'utf8');
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}
