// Statements recognised by their keywords, on the lexer's tokens. node-sql-parser cannot parse most of them, and
// their MySQL grammar holds no expression, query or function call (DROP, GRANT, REVOKE, RENAME, TRUNCATE, LOCK,
// KILL, COMMIT, …): the statement boundaries come from the lexer, so what the server accepts as such a statement
// can do nothing beyond what its keywords say. Where a grammar does allow an expression (SHOW … WHERE, HANDLER …
// READ, event schedules, administrative statements), a function call or sub-query in it is refused. Statements that
// carry expressions or queries in their own right (CREATE TABLE/VIEW/INDEX, ALTER TABLE/VIEW) go to the parser.
import { fail } from './failure.ts';
import type { LexedStatement, Token } from './lexer.ts';
import { parsedStatement } from './parsed-statement.ts';
import type { Session } from './session.ts';
import { relationName, StatementParts } from './statement-parts.ts';
import { hasCallOrQuery, onlyWordsAndStrings, TokenCursor } from './token-cursor.ts';

/** Administrative statements with no relation of their own: kind `other`. */
const otherStatements: ReadonlySet<string> = new Set([
  'FLUSH',
  'RESET',
  'PURGE',
  'SHUTDOWN',
  'RESTART',
  'INSTALL',
  'UNINSTALL',
  'CACHE',
  'BINLOG',
  'CHANGE',
  'STOP',
  'HELP',
  'CLONE',
  'IMPORT',
  'SIGNAL',
  'RESIGNAL',
]);

/** Table maintenance statements: a part per table. */
const maintenanceStatements: ReadonlySet<string> = new Set(['ANALYZE', 'OPTIMIZE', 'CHECK', 'REPAIR', 'CHECKSUM']);

/** Objects of CREATE/ALTER/DROP without a relation, by their keyword → the kind's object name. */
const plainObjects: Readonly<Record<string, string>> = {
  DATABASE: 'database',
  SCHEMA: 'database', // a synonym of DATABASE in MySQL
  USER: 'role',
  ROLE: 'role',
  PROCEDURE: 'procedure',
  FUNCTION: 'function',
  EVENT: 'event',
  SERVER: 'server',
  TABLESPACE: 'tablespace',
  INSTANCE: 'instance',
};
/** Two-word objects: the first word → the kind's object name (LOGFILE GROUP, RESOURCE GROUP, SPATIAL REFERENCE SYSTEM). */
const twoWordObjects: Readonly<Record<string, string>> = {
  LOGFILE: 'logfile_group',
  RESOURCE: 'resource_group',
};

/** Handles a statement by its first keyword; false when the keyword is not one of this file's. */
export function keywordStatement(st: LexedStatement, session: Session, parts: StatementParts): boolean {
  const first = (st.tokens[0] as Token).upper;
  const c = new TokenCursor(st.tokens, 1);
  switch (first) {
    case 'CREATE':
      create(st, c, session, parts);
      return true;
    case 'ALTER':
      alter(st, c, session, parts);
      return true;
    case 'DROP':
      drop(c, session, parts);
      return true;
    case 'RENAME':
      rename(c, session, parts);
      return true;
    case 'TRUNCATE': {
      c.accept('TABLE');
      parts.add('truncate', relation(c, session));
      c.end('TRUNCATE');
      return true;
    }
    case 'GRANT':
      parts.add('grant');
      return true;
    case 'REVOKE':
      parts.add('revoke');
      return true;
    case 'BEGIN':
    case 'START':
    case 'COMMIT':
    case 'ROLLBACK':
    case 'SAVEPOINT':
    case 'RELEASE':
    case 'XA':
      transaction(first, st, c, parts);
      return true;
    case 'LOCK':
    case 'UNLOCK':
      lock(first, c, session, parts);
      return true;
    case 'KILL': {
      if (!c.accept('CONNECTION')) c.accept('QUERY');
      const id = c.current;
      if (id === undefined || id.kind !== 'word' || !/^[0-9]+$/.test(id.value)) fail('KILL takes a connection id number');
      c.index++;
      c.end('KILL');
      parts.add('kill');
      return true;
    }
    case 'HANDLER':
      handler(st, c, session, parts);
      return true;
    case 'SHOW':
      show(st, c, session, parts);
      return true;
    case 'USE': {
      const database = c.identifier('database name');
      c.end('USE');
      parts.add('use');
      session.database = database;
      return true;
    }
    default:
      if (maintenanceStatements.has(first)) {
        maintenance(first, st, c, session, parts);
        return true;
      }
      if (otherStatements.has(first)) {
        if (hasCallOrQuery(st.tokens)) fail(`${first} with a function call or query is not supported`);
        parts.add('other');
        return true;
      }
      return false;
  }
}

function relation(c: TokenCursor, session: Session): string {
  const name = c.qualifiedName('table name');
  return relationName(name.db, name.name, session.database);
}

/** `name [, name …]` as relations. */
function relationList(c: TokenCursor, session: Session): string[] {
  const out = [relation(c, session)];
  while (c.acceptPunct(',')) out.push(relation(c, session));
  return out;
}

/** The modifiers between CREATE/ALTER and the object keyword. */
function skipDefinitionPrefix(c: TokenCursor): void {
  for (;;) {
    if (c.accept('OR')) c.expect('REPLACE');
    else if (c.accept('ALGORITHM')) {
      c.acceptPunct('=');
      c.identifier('algorithm');
    } else if (c.accept('DEFINER')) {
      if (!c.acceptPunct('=')) fail('expected = after DEFINER');
      skipUser(c);
    } else if (c.accept('SQL')) {
      c.expect('SECURITY');
      c.identifier('security type');
    } else if (
      c.accept('TEMPORARY') ||
      c.accept('UNIQUE') ||
      c.accept('FULLTEXT') ||
      (c.isWord('SPATIAL') && !c.isWord('REFERENCE', 1) && c.accept('SPATIAL')) ||
      c.accept('AGGREGATE') ||
      c.accept('ONLINE') ||
      c.accept('OFFLINE') ||
      c.accept('IGNORE')
    ) {
      continue;
    } else return;
  }
}

/** `'user'@'host'`, `user@host`, `CURRENT_USER`, `CURRENT_USER()`. */
function skipUser(c: TokenCursor): void {
  const t = c.current;
  if (t === undefined) fail('expected a user');
  if (t.kind === 'word' && t.upper === 'CURRENT_USER') {
    c.index++;
    if (c.acceptPunct('(') && !c.acceptPunct(')')) fail('expected ) after CURRENT_USER(');
    return;
  }
  if (t.kind !== 'string' && t.kind !== 'word' && t.kind !== 'ident') fail('expected a user');
  c.index++;
  if (c.acceptPunct('@')) {
    const host = c.current;
    if (host === undefined || (host.kind !== 'string' && host.kind !== 'word' && host.kind !== 'ident')) fail('expected a host');
    c.index++;
  }
}

/** The object keyword after CREATE/ALTER/DROP → the kind's object name, or undefined. */
function objectName(c: TokenCursor): string | undefined {
  const t = c.current;
  if (t === undefined || t.kind !== 'word') return undefined;
  const plain = plainObjects[t.upper];
  if (plain !== undefined) {
    c.index++;
    return plain;
  }
  const twoWords = twoWordObjects[t.upper];
  if (twoWords !== undefined && c.isWord('GROUP', 1)) {
    c.index += 2;
    return twoWords;
  }
  if (t.upper === 'SPATIAL' && c.isWord('REFERENCE', 1) && c.isWord('SYSTEM', 2)) {
    c.index += 3;
    return 'spatial_reference_system';
  }
  return undefined;
}

function create(st: LexedStatement, c: TokenCursor, session: Session, parts: StatementParts): void {
  skipDefinitionPrefix(c);
  if (c.isWord('TABLE') || c.isWord('VIEW') || c.isWord('INDEX')) {
    parsedStatement(st.text, session, parts);
    return;
  }
  if (c.isWord('TRIGGER')) {
    storedProgram(st, 'TRIGGER');
    // CREATE TRIGGER name {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON table …
    let i = c.index;
    while (i < st.tokens.length && !(st.tokens[i]?.kind === 'word' && st.tokens[i]?.upper === 'ON')) i++;
    if (i >= st.tokens.length) fail('CREATE TRIGGER without ON table');
    parts.add('create_trigger', relation(new TokenCursor(st.tokens, i + 1), session));
    return;
  }
  const object = objectName(c);
  if (object === undefined) fail(`unsupported CREATE ${c.current?.value ?? ''}`);
  if (object === 'procedure' || object === 'function' || object === 'event') storedProgram(st, object.toUpperCase());
  if (object === 'event') checkSchedule(st);
  parts.add(`create_${object}`);
}

/**
 * Stored program bodies are not analysed (they run later, on CALL or when fired). Compound bodies (BEGIN … END)
 * contain `;`, which the lexer takes as the end of the statement, so they are refused outright.
 */
function storedProgram(st: LexedStatement, what: string): void {
  if (st.tokens.some((t) => t.kind === 'word' && t.upper === 'BEGIN')) {
    fail(`${what} with a BEGIN … END body is not supported`);
  }
}

/** An event's schedule is evaluated when the event is created or altered: no function calls or queries in it. */
function checkSchedule(st: LexedStatement): void {
  const tokens = st.tokens;
  const start = tokens.findIndex((t) => t.kind === 'word' && t.upper === 'SCHEDULE');
  if (start < 0) return;
  let end = tokens.findIndex((t, i) => i > start && t.kind === 'word' && t.upper === 'DO');
  if (end < 0) end = tokens.length;
  if (hasCallOrQuery(tokens.slice(start, end))) fail('event schedules with a function call or query are not supported');
}

function alter(st: LexedStatement, c: TokenCursor, session: Session, parts: StatementParts): void {
  skipDefinitionPrefix(c);
  if (c.isWord('TABLE')) {
    parsedStatement(st.text, session, parts);
    return;
  }
  if (c.isWord('VIEW')) {
    // ALTER VIEW has CREATE VIEW's grammar: parse it as CREATE OR REPLACE and report alter_view.
    const text = `CREATE OR REPLACE${st.text.slice((st.tokens[0] as Token).end)}`;
    const inner = new StatementParts();
    parsedStatement(text, session, inner);
    for (const d of inner.drafts) parts.add(d.kind === 'create_view' ? 'alter_view' : d.kind, d.relation, d.unboundedWrite);
    for (const f of inner.functions) parts.addFunction(f.schema, f.name);
    return;
  }
  const object = objectName(c);
  if (object === undefined) fail(`unsupported ALTER ${c.current?.value ?? ''}`);
  if (object === 'event') {
    storedProgram(st, 'EVENT');
    checkSchedule(st);
  }
  parts.add(`alter_${object}`);
}

function drop(c: TokenCursor, session: Session, parts: StatementParts): void {
  if (c.accept('PREPARE')) {
    const name = c.identifier('prepared statement name');
    c.end('DROP PREPARE');
    parts.add('deallocate');
    session.setPrepared(name, undefined);
    return;
  }
  const temporary = c.accept('TEMPORARY');
  const kind = c.accept('TABLE') || c.accept('TABLES') ? 'drop_table' : !temporary && c.accept('VIEW') ? 'drop_view' : undefined;
  if (kind !== undefined) {
    if (c.accept('IF')) c.expect('EXISTS');
    for (const r of relationList(c, session)) parts.add(kind, r);
    if (!c.accept('RESTRICT')) c.accept('CASCADE');
    c.end('DROP');
    return;
  }
  if (temporary) fail('expected TABLE after DROP TEMPORARY');
  if (c.accept('INDEX')) {
    c.identifier('index name');
    c.expect('ON');
    parts.add('drop_index', relation(c, session));
    // Only ALGORITHM [=] x and LOCK [=] x may follow.
    while (c.accept('ALGORITHM') || c.accept('LOCK')) {
      c.acceptPunct('=');
      c.identifier('option value');
    }
    c.end('DROP INDEX');
    return;
  }
  if (c.accept('TRIGGER')) {
    parts.add('drop_trigger'); // the trigger's table is not named
    return;
  }
  const object = objectName(c);
  if (object === undefined || object === 'instance') fail(`unsupported DROP ${c.current?.value ?? ''}`);
  parts.add(`drop_${object}`);
}

function rename(c: TokenCursor, session: Session, parts: StatementParts): void {
  if (c.accept('USER')) {
    parts.add('alter_role');
    return;
  }
  if (!c.accept('TABLE')) c.expect('TABLES');
  // RENAME TABLE a TO b, c TO d: both names of each pair are changed.
  do {
    parts.add('alter_table', relation(c, session));
    c.expect('TO');
    parts.add('alter_table', relation(c, session));
  } while (c.acceptPunct(','));
  c.end('RENAME TABLE');
}

function transaction(first: string, st: LexedStatement, c: TokenCursor, parts: StatementParts): void {
  if (first === 'BEGIN') {
    // BEGIN [WORK] only: MariaDB's BEGIN NOT ATOMIC … END runs a block of statements.
    c.accept('WORK');
    c.end('BEGIN');
  } else if (first === 'START' && !c.isWord('TRANSACTION')) {
    // START SLAVE / REPLICA / GROUP_REPLICATION
    if (hasCallOrQuery(st.tokens)) fail('START with a function call or query is not supported');
    parts.add('other');
    return;
  } else if (first === 'RELEASE') {
    c.expect('SAVEPOINT');
  }
  if (!onlyWordsAndStrings(st.tokens)) fail(`unexpected syntax in ${first}`);
  parts.add('transaction');
}

const lockTypeWords: ReadonlySet<string> = new Set(['READ', 'WRITE', 'LOW_PRIORITY', 'LOCAL']);

function lock(first: string, c: TokenCursor, session: Session, parts: StatementParts): void {
  if (first === 'UNLOCK' || c.isWord('INSTANCE')) {
    // UNLOCK TABLES | UNLOCK INSTANCE | LOCK INSTANCE FOR BACKUP
    parts.add('lock');
    return;
  }
  if (!c.accept('TABLES')) c.expect('TABLE');
  do {
    const r = relation(c, session);
    if (c.accept('AS')) c.identifier('alias');
    else if ((c.current?.kind === 'word' && !lockTypeWords.has(c.current.upper)) || c.current?.kind === 'ident') c.index++;
    let typed = false;
    while (c.current?.kind === 'word' && lockTypeWords.has(c.current.upper)) {
      c.index++;
      typed = true;
    }
    if (!typed) fail('expected READ or WRITE in LOCK TABLES');
    parts.add('lock', r);
  } while (c.acceptPunct(','));
  c.end('LOCK TABLES');
}

function handler(st: LexedStatement, c: TokenCursor, session: Session, parts: StatementParts): void {
  // HANDLER t OPEN [[AS] alias] | HANDLER t READ … | HANDLER t CLOSE. READ and CLOSE name the table or the alias
  // it was opened as; the relation reported is that name, resolved like a table (OPEN is where the table is decided).
  const r = relation(c, session);
  if (c.accept('OPEN')) {
    if (c.accept('AS') || !c.done) c.identifier('alias');
    c.end('HANDLER OPEN');
  } else if (c.accept('CLOSE')) {
    c.end('HANDLER CLOSE');
  } else if (c.accept('READ')) {
    if (hasCallOrQuery(st.tokens)) fail('HANDLER READ with a function call or query is not supported');
  } else {
    fail(`expected OPEN, READ or CLOSE after HANDLER${c.describeCurrent()}`);
  }
  parts.add('handler', r);
}

function show(st: LexedStatement, c: TokenCursor, session: Session, parts: StatementParts): void {
  const where = st.tokens.findIndex((t) => t.kind === 'word' && t.upper === 'WHERE');
  if (where >= 0 && hasCallOrQuery(st.tokens, where)) fail('SHOW … WHERE with a function call or query is not supported');
  while (c.accept('FULL') || c.accept('EXTENDED')) {
    // SHOW [EXTENDED] [FULL] COLUMNS …
  }
  if (c.accept('COLUMNS') || c.accept('FIELDS') || c.accept('INDEX') || c.accept('INDEXES') || c.accept('KEYS')) {
    if (!c.accept('FROM')) c.expect('IN');
    const table = c.qualifiedName('table name');
    let db = table.db;
    if (c.accept('FROM') || c.accept('IN')) db = c.identifier('database name');
    parts.add('show', relationName(db, table.name, session.database));
    return;
  }
  if (c.accept('CREATE') && (c.accept('TABLE') || c.accept('VIEW'))) {
    parts.add('show', relation(c, session));
    c.end('SHOW CREATE');
    return;
  }
  parts.add('show');
}

function maintenance(first: string, st: LexedStatement, c: TokenCursor, session: Session, parts: StatementParts): void {
  // {ANALYZE|OPTIMIZE|CHECK|REPAIR|CHECKSUM} [NO_WRITE_TO_BINLOG|LOCAL] TABLE t [, t …] [options]
  if (!c.accept('NO_WRITE_TO_BINLOG')) c.accept('LOCAL');
  if (!c.accept('TABLE')) c.expect('TABLES');
  const kind = first === 'ANALYZE' ? 'analyze' : 'other';
  for (const r of relationList(c, session)) parts.add(kind, r);
  if (hasCallOrQuery(st.tokens, c.index)) fail(`${first} TABLE with a function call or query is not supported`);
}
