// Secrets out of statement text before it is recorded (audit events, approval requests).
//
// The parser says which statements carry secrets; the scanner says where the string literals are (byte offsets),
// and each literal inside such a statement becomes '***'. Secret-bearing statements:
// - CREATE/ALTER ROLE|USER|GROUP (PASSWORD '…'), CREATE/ALTER USER MAPPING and SERVER and FOREIGN DATA WRAPPER
//   (OPTIONS (password '…')), CREATE/ALTER SUBSCRIPTION (CONNECTION 'conninfo'), ALTER SYSTEM (e.g.
//   primary_conninfo), ALTER ROLE|DATABASE … SET (a setting's value may be a key);
// - any statement that calls a function taking a connection string or a key (dblink*, pgcrypto, aws_commons);
// - DO blocks and CREATE FUNCTION bodies that mention a password, a secret or one of those functions.
// Text the parser rejects has every literal redacted; text the scanner rejects is replaced whole.
import { parseSync, scanSync } from 'libpg-query';
import { parserReady } from './parser.ts';

type Obj = Record<string, unknown>;

const marker = "'***'";
const wholeTextMarker = '/* statement redacted: it could not be scanned */';

const secretStatements: ReadonlySet<string> = new Set([
  'CreateRoleStmt',
  'AlterRoleStmt',
  'AlterRoleSetStmt',
  'AlterDatabaseSetStmt',
  'CreateUserMappingStmt',
  'AlterUserMappingStmt',
  'CreateForeignServerStmt',
  'AlterForeignServerStmt',
  'CreateFdwStmt',
  'AlterFdwStmt',
  'CreateSubscriptionStmt',
  'AlterSubscriptionStmt',
  'AlterSystemStmt',
]);

/** Statements whose literal body is code that may itself contain a secret. */
const codeStatements: ReadonlySet<string> = new Set(['DoStmt', 'CreateFunctionStmt']);

const secretFunctions: ReadonlySet<string> = new Set([
  'crypt',
  'encrypt',
  'encrypt_iv',
  'decrypt',
  'decrypt_iv',
  'hmac',
  'create_aws_credentials',
  'set_config', // set_config may carry a key (e.g. a pgcrypto or app secret setting)
]);
const secretFunctionPrefixes: readonly string[] = ['dblink', 'pgp_sym_', 'pgp_pub_'];

function isSecretFunction(name: string): boolean {
  if (secretFunctions.has(name)) return true;
  for (const p of secretFunctionPrefixes) if (name.startsWith(p)) return true;
  return false;
}

const stringTokens: ReadonlySet<string> = new Set(['SCONST', 'USCONST', 'BCONST', 'XCONST']);

interface Token {
  start: number;
  end: number;
  tokenName: string;
}

/** `sql` with the string literals of its secret-bearing statements replaced by '***'; unchanged when there are none. */
export function redactSecrets(sql: string): string {
  if (sql.length === 0) return sql;
  if (!parserReady()) return wholeTextMarker; // cannot tell where secrets are: record nothing of the text
  let tokens: Token[];
  try {
    tokens = (scanSync(sql) as { tokens?: Token[] }).tokens ?? [];
  } catch {
    return wholeTextMarker;
  }
  const bytes = Buffer.from(sql, 'utf8');
  const ranges = secretRanges(sql, bytes.length);
  if (ranges.length === 0) return sql;

  const chunks: Buffer[] = [];
  let pos = 0;
  let changed = false;
  for (const t of tokens) {
    if (!stringTokens.has(t.tokenName) || !inRanges(ranges, t.start)) continue;
    chunks.push(bytes.subarray(pos, t.start), Buffer.from(marker));
    pos = t.end;
    changed = true;
  }
  if (!changed) return sql;
  chunks.push(bytes.subarray(pos));
  return Buffer.concat(chunks).toString('utf8');
}

/** Byte ranges [start, end) of the statements whose literals must go; everything when the text does not parse. */
function secretRanges(sql: string, totalBytes: number): Array<[number, number]> {
  let stmts: Array<{ stmt?: unknown; stmt_location?: number; stmt_len?: number }>;
  try {
    stmts = (parseSync(sql) as { stmts?: typeof stmts }).stmts ?? [];
  } catch {
    return [[0, totalBytes]];
  }
  const ranges: Array<[number, number]> = [];
  for (const s of stmts) {
    if (!carriesSecret(s.stmt)) continue;
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len === undefined || s.stmt_len === 0 ? totalBytes : start + s.stmt_len;
    ranges.push([start, end]);
  }
  return ranges;
}

function inRanges(ranges: ReadonlyArray<[number, number]>, at: number): boolean {
  for (const [a, b] of ranges) if (at >= a && at < b) return true;
  return false;
}

function carriesSecret(stmt: unknown): boolean {
  if (stmt === null || typeof stmt !== 'object') return true; // unknown shape: redact
  for (const type in stmt as Obj) {
    if (secretStatements.has(type)) return true;
    if (codeStatements.has(type)) return codeMentionsSecret((stmt as Obj)[type]) || callsSecretFunction(stmt);
  }
  return callsSecretFunction(stmt);
}

/** Iterative walk (the tree may be deep): does any FuncCall name a secret-taking function? */
function callsSecretFunction(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    const o = v as Obj;
    for (const key in o) {
      const child = o[key];
      if (key === 'FuncCall' || key === 'funccall') {
        const names = (child as Obj).funcname;
        const last = Array.isArray(names) ? ((names[names.length - 1] as Obj | undefined)?.String as Obj | undefined) : undefined;
        if (typeof last?.sval === 'string' && isSecretFunction(last.sval)) return true;
      }
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return false;
}

/**
 * DO / CREATE FUNCTION: the body is code in any language, and dynamic SQL inside it hides keywords in string
 * literals, so no tokenisation can be trusted here; a case-insensitive mention of a password or of a secret-taking
 * function anywhere in the body is enough to redact (over-redacting an audit record is the safe error).
 */
function codeMentionsSecret(body: unknown): boolean {
  const texts: string[] = [];
  collectStrings(body, texts);
  for (const text of texts) {
    const lower = text.toLowerCase();
    if (lower.includes('password') || lower.includes('passwd') || lower.includes('secret')) return true;
    for (const name of secretFunctions) if (lower.includes(name)) return true;
    for (const prefix of secretFunctionPrefixes) if (lower.includes(prefix)) return true;
  }
  return false;
}

function collectStrings(v: unknown, out: string[]): void {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const item of v) collectStrings(item, out);
    return;
  }
  const o = v as Obj;
  for (const key in o) {
    const child = o[key];
    if (key === 'sval' && typeof child === 'string') out.push(child);
    else collectStrings(child, out);
  }
}
