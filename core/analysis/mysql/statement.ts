// One top-level statement → its parts. Dispatches on the first keyword: queries and DML go to the parser, statements
// with keyword-only grammars to keyword-statements.ts, and the statements that wrap another one (EXPLAIN, ANALYZE,
// PREPARE, EXECUTE) are handled here.
import { fail, forbid } from './failure.ts';
import { lexMysql, type LexedStatement, type Token } from './lexer.ts';
import { keywordStatement } from './keyword-statements.ts';
import { parsedStatement } from './parsed-statement.ts';
import { parserText } from './rewrites.ts';
import type { Session } from './session.ts';
import { classifySet } from './set-statement.ts';
import { relationName, StatementParts } from './statement-parts.ts';
import { onlyWordsAndStrings, TokenCursor } from './token-cursor.ts';

/** First keywords of the statements EXPLAIN and PREPARE may wrap through the parser. */
const queryStarts: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'TABLE', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE']);
/** Statements a PREPARE text may not hold (MySQL refuses them, and they would change this analysis' session). */
const notPreparable: ReadonlySet<string> = new Set(['PREPARE', 'EXECUTE', 'DEALLOCATE', 'USE']);

export function analyseStatement(st: LexedStatement, session: Session, depth: number): StatementParts {
  if (depth > session.maxDepth) fail(`statements nested deeper than ${session.maxDepth}`);
  const parts = new StatementParts();
  const first = st.tokens[0] as Token;
  if (first.kind === 'punct' && first.value === '(') {
    parsedStatement(parserText(st), session, parts); // (SELECT …) UNION (SELECT …)
    return parts;
  }
  if (first.kind !== 'word') fail('statement does not start with a keyword');
  switch (first.upper) {
    case 'SELECT':
    case 'WITH':
    case 'CALL':
    case 'INSERT':
    case 'REPLACE':
    case 'UPDATE':
    case 'DELETE':
      parsedStatement(parserText(st), session, parts);
      break;
    case 'TABLE':
      // TABLE t [ORDER BY …] [LIMIT …] is SELECT * FROM t …
      parsedStatement(`SELECT * FROM${parserText(st).slice(first.end)}`, session, parts);
      break;
    case 'DO':
      // DO expr, … evaluates like SELECT expr, … and discards the result.
      parsedStatement(`SELECT${parserText(st).slice(first.end)}`, session, parts);
      break;
    case 'LOAD':
      if (!st.tokens[1] || st.tokens[1].upper !== 'DATA') {
        if (st.tokens[1]?.upper === 'INDEX' && onlyWordsAndStrings(st.tokens)) parts.add('other'); // LOAD INDEX INTO CACHE
        else fail(`unsupported LOAD ${st.tokens[1]?.value ?? ''}`);
        break;
      }
      parsedStatement(st.text, session, parts);
      break;
    case 'SET':
      set(st, session, parts);
      break;
    case 'EXPLAIN':
    case 'DESCRIBE':
    case 'DESC':
      explain(st, session, depth, parts, false);
      break;
    case 'ANALYZE': {
      const next = st.tokens[1]?.upper;
      if (next === 'TABLE' || next === 'TABLES' || next === 'NO_WRITE_TO_BINLOG' || next === 'LOCAL') keywordStatement(st, session, parts);
      else explain(st, session, depth, parts, true); // MariaDB's ANALYZE <statement> runs it and explains it
      break;
    }
    case 'PREPARE':
      prepare(st, session, depth, parts);
      break;
    case 'EXECUTE':
      execute(st, session, parts);
      break;
    case 'DEALLOCATE': {
      const c = new TokenCursor(st.tokens, 1);
      c.expect('PREPARE');
      const name = c.identifier('prepared statement name');
      c.end('DEALLOCATE PREPARE');
      parts.add('deallocate');
      session.setPrepared(name, undefined);
      break;
    }
    default:
      if (!keywordStatement(st, session, parts)) fail(`unsupported statement ${first.value}`);
  }
  return parts;
}

function set(st: LexedStatement, session: Session, parts: StatementParts): void {
  switch (classifySet(st.tokens)) {
    case 'set_role':
      parts.add('set_role');
      return;
    case 'alter_role':
      parts.add('alter_role');
      return;
    case 'set_transaction':
      if (!onlyWordsAndStrings(st.tokens)) fail('unexpected syntax in SET TRANSACTION');
      parts.add('set');
      return;
    case 'assignments':
      parsedStatement(parserText(st, true), session, parts);
      return;
  }
}

/** The statement from token `index` on, as a statement of its own. */
function subStatement(st: LexedStatement, index: number): LexedStatement {
  const start = (st.tokens[index] as Token).start;
  return {
    text: st.text.slice(start),
    tokens: st.tokens.slice(index).map((t) => ({ ...t, start: t.start - start, end: t.end - start })),
    placeholders: st.placeholders,
  };
}

/**
 * EXPLAIN/DESCRIBE <statement>: an explain part per relation of the statement (one without a relation if it has
 * none); with ANALYZE the statement runs, so its own parts are added too. EXPLAIN/DESCRIBE <table>: an explain part
 * for the table.
 */
function explain(st: LexedStatement, session: Session, depth: number, parts: StatementParts, analyzeKeyword: boolean): void {
  const c = new TokenCursor(st.tokens, 1);
  let analyze = analyzeKeyword;
  let options = false;
  for (;;) {
    if (c.accept('ANALYZE')) analyze = true;
    else if (c.accept('EXTENDED') || c.accept('PARTITIONS')) options = true;
    else if (c.accept('FORMAT')) {
      if (!c.acceptPunct('=')) fail('expected = after FORMAT');
      c.identifier('format');
      options = true;
    } else break;
  }
  const t = c.current;
  if (t === undefined) fail(`${(st.tokens[0] as Token).value} without a statement or table`);
  if (c.isWord('FOR') && c.isWord('CONNECTION', 1)) {
    // EXPLAIN FOR CONNECTION n: the plan of another session's statement
    c.index += 2;
    c.identifier('connection id');
    c.end('EXPLAIN FOR CONNECTION');
    parts.add('explain');
    return;
  }
  if ((t.kind === 'punct' && t.value === '(') || (t.kind === 'word' && queryStarts.has(t.upper))) {
    const inner = analyseStatement(subStatement(st, c.index), session, depth + 1);
    const relations = inner.relations();
    if (relations.length === 0) parts.add('explain');
    for (const r of relations) parts.add('explain', r);
    if (analyze) parts.merge(inner);
    else for (const f of inner.functions) parts.addFunction(f.schema, f.name);
    return;
  }
  if (analyze || options) fail(`unsupported ${(st.tokens[0] as Token).value} of ${t.value}`);
  // DESCRIBE table [column | 'pattern']
  const name = c.qualifiedName('table name');
  if (!c.done) {
    const column = c.current as Token;
    if (column.kind !== 'word' && column.kind !== 'ident' && column.kind !== 'string') fail(`unexpected ${column.value} in DESCRIBE`);
    c.index++;
  }
  c.end('DESCRIBE');
  parts.add('explain', relationName(name.db, name.name, session.database));
}

/**
 * PREPARE name FROM 'text': a prepare part plus the parts of the statement in the text, which EXECUTE adds again.
 * PREPARE name FROM @variable cannot be analysed: the text is not known to the proxy.
 */
function prepare(st: LexedStatement, session: Session, depth: number, parts: StatementParts): void {
  const c = new TokenCursor(st.tokens, 1);
  const name = c.identifier('prepared statement name');
  c.expect('FROM');
  const source = c.current;
  if (source?.kind === 'punct' && source.value === '@') fail('PREPARE … FROM @variable cannot be analysed: the statement text is unknown');
  if (source?.kind !== 'string') fail('PREPARE … FROM needs a string literal');
  c.index++;
  c.end('PREPARE');
  const lexed = lexMysql(source.value, session.maxDepth);
  if (!lexed.ok) {
    if (lexed.forbidden !== undefined) forbid(`prepared statement text: ${lexed.forbidden}`);
    fail(`prepared statement text: ${lexed.error ?? 'cannot be read'}`);
  }
  const inner = lexed.statements[0];
  if (inner === undefined || lexed.statements.length !== 1) fail('a prepared statement text must hold exactly one statement');
  const innerFirst = inner.tokens[0] as Token;
  if (innerFirst.kind === 'word' && (notPreparable.has(innerFirst.upper) || (innerFirst.upper === 'DROP' && inner.tokens[1]?.upper === 'PREPARE'))) {
    fail(`${innerFirst.value} cannot be prepared`);
  }
  const innerParts = analyseStatement(inner, session, depth + 1);
  parts.add('prepare');
  parts.merge(innerParts);
  session.setPrepared(name, innerParts.toParts(0));
}

/** EXECUTE name [USING @a, …]: an execute part plus the parts the statement was prepared with in this session. */
function execute(st: LexedStatement, session: Session, parts: StatementParts): void {
  const c = new TokenCursor(st.tokens, 1);
  const name = c.identifier('prepared statement name');
  if (c.accept('USING')) {
    do {
      if (!c.acceptPunct('@')) fail('EXECUTE … USING takes user variables');
      const v = c.current;
      if (v === undefined || (v.kind !== 'word' && v.kind !== 'ident' && v.kind !== 'string')) fail('expected a user variable name');
      c.index++;
    } while (c.acceptPunct(','));
  }
  c.end('EXECUTE');
  const prepared = session.lookupPrepared(name);
  if (prepared === undefined) fail(`EXECUTE of unknown prepared statement ${name}`);
  parts.add('execute');
  for (const p of prepared) {
    parts.add(p.kind, p.relation, p.unboundedWrite);
    for (const f of p.functions) parts.addFunction(f.schema, f.name);
  }
}
