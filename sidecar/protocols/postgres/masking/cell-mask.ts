// What one classified value becomes, by the column's type and format. Text types get the strategy's output;
// json/jsonb get it as a JSON string (so the value still parses as the type says); xml gets it escaped; bpchar is
// masked without its padding (last4 of a padded value would show the blanks). Every other type — and every
// binary-format value — becomes NULL: a masked number or date cannot be written in its own type.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { checkHashKey, HASH_BYTES, HASH_PREFIX, LAST4_FILL, maskValue, REDACTED_MARKER, type MaskingStrategy } from '../../../../core/masking/strategies.ts';

/** How a column's values are masked. */
export type CellAction = 'null' | 'text' | 'bpchar' | 'json' | 'xml';

/** Built-in types whose text form is the value itself. */
const textTypes: ReadonlySet<number> = new Set([25 /* text */, 1043 /* varchar */, 19 /* name */, 705 /* unknown */]);
const BPCHAR = 1042;
const JSON_OID = 114;
const JSONB_OID = 3802;
const XML_OID = 142;
/** OIDs below this are built into PostgreSQL; others (extensions, domains) need the catalog's type category. */
export const FIRST_NORMAL_OID = 16384;

/**
 * The action for a masked column: undefined when the type's category must come from the catalog first.
 * `category` is pg_type.typcategory for a type that is not built in ('S' = string: citext, a domain over text…).
 */
export function cellAction(typeOid: number, format: number, category?: string | null): CellAction | undefined {
  if (format !== 0) return 'null';
  if (textTypes.has(typeOid)) return 'text';
  if (typeOid === BPCHAR) return 'bpchar';
  if (typeOid === JSON_OID || typeOid === JSONB_OID) return 'json';
  if (typeOid === XML_OID) return 'xml';
  if (typeOid < FIRST_NORMAL_OID) return 'null';
  if (category === undefined) return undefined;
  return category === 'S' ? 'text' : 'null';
}

/** The masked text of a value, or null for SQL NULL. */
export function maskText(action: CellAction, strategy: MaskingStrategy, value: string, hashKey: Buffer): string | null {
  if (action === 'null') return null;
  const v = action === 'bpchar' ? value.replace(/ +$/, '') : value;
  const masked = strategy === 'hash' ? fastHash(v, hashKey) : maskValue(strategy, v, hashKey);
  if (masked === null) return null;
  if (action === 'json') return JSON.stringify(masked);
  if (action === 'xml') return escapeXml(masked);
  return masked;
}

/**
 * The masked bytes of the UTF-8 value `buf[start, end)`, or null for SQL NULL. `redact` needs no look at the
 * value, so its bytes are shared (see constantMask).
 */
export function maskBytes(action: CellAction, strategy: MaskingStrategy, buf: Buffer, start: number, end: number, hashKey: Buffer): Buffer | null {
  const constant = constantMask(action, strategy);
  if (constant !== undefined) return constant;
  if (strategy === 'last4' && (action === 'text' || action === 'bpchar')) {
    const fast = asciiLastFour(buf, start, action === 'bpchar' ? trimBlanks(buf, start, end) : end);
    if (fast !== undefined) return fast;
  }
  const masked = maskText(action, strategy, buf.toString('utf8', start, end), hashKey);
  return masked === null ? null : Buffer.from(masked, 'utf8');
}

const fillByte = LAST4_FILL.charCodeAt(0);

/** lastFour for an ASCII value, straight from its bytes (one character per byte): undefined for anything else. */
export function asciiLastFour(buf: Buffer, start: number, end: number): Buffer | undefined {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return undefined;
  const len = end - start;
  const out = Buffer.allocUnsafe(len);
  const hidden = len <= 4 ? len : len - 4;
  out.fill(fillByte, 0, hidden);
  buf.copy(out, hidden, start + hidden, end);
  return out;
}

function trimBlanks(buf: Buffer, start: number, end: number): number {
  while (end > start && buf[end - 1] === 0x20) end--;
  return end;
}

const redactedText = Buffer.from(REDACTED_MARKER, 'utf8');
const redactedJson = Buffer.from(JSON.stringify(REDACTED_MARKER), 'utf8');
const redactedXml = Buffer.from(escapeXml(REDACTED_MARKER), 'utf8');

/** The output that does not depend on the value (NULL, or redact's marker); undefined when it does. */
export function constantMask(action: CellAction, strategy: MaskingStrategy): Buffer | null | undefined {
  if (action === 'null' || strategy === 'null') return null;
  if (strategy !== 'redact') return undefined;
  return action === 'json' ? redactedJson : action === 'xml' ? redactedXml : redactedText;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

const keyObjects = new WeakMap<Buffer, KeyObject>();

/**
 * hashValue's output (core/masking/strategies.ts), with the key imported once: an HMAC keyed by a raw Buffer
 * imports the key on every call, which costs about five times the hashing itself on a per-cell path.
 */
export function fastHash(value: string, hashKey: Buffer): string {
  let key = keyObjects.get(hashKey);
  if (key === undefined) {
    checkHashKey(hashKey);
    key = createSecretKey(hashKey);
    keyObjects.set(hashKey, key);
  }
  return HASH_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest().toString('base64url', 0, HASH_BYTES);
}
