import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initPostgresParser } from '../../../../core/analysis/postgres/analyse.ts';
import { lastFour, REDACTED_MARKER } from '../../../../core/masking/strategies.ts';
import type { RowMasker } from '../result-masking.ts';
import { command, harness } from './fixtures.ts';

before(async () => {
  await initPostgresParser();
});

const CARD = '4111111111111111';

async function copyPlan(sql: string, columns: number, binary = false): Promise<RowMasker> {
  const h = harness();
  return await h.planner.planCopy({ command: command(sql), statementIndex: 0 }, columns, binary);
}

/** What the agent receives for one CopyData row (the body of the message sent). */
function copyRow(m: RowMasker, row: string): string {
  const out = m.maskCopyData?.(Buffer.from(row, 'utf8'));
  if (out === undefined) return row;
  assert.equal(out[0], 0x64);
  assert.equal(out.readInt32BE(1), out.length - 1);
  return out.subarray(5).toString('utf8');
}

describe('COPY … TO STDOUT masking', () => {
  test('COPY table: columns in catalog order; classified ones masked, nulls kept, types respected', async () => {
    const m = await copyPlan('COPY customers TO STDOUT', 9);
    const row = `1\tAnn\t${CARD}\ta@example.com\tx  \t{"a":1}\t1990-01-01\tannie\thappy\n`;
    assert.equal(copyRow(m, row), `1\tAnn\t${lastFour(CARD)}\t${REDACTED_MARKER}\tx  \t{"a":1}\t\\N\t${REDACTED_MARKER}\thappy\n`);
    assert.equal(m.lastMasked, 4);
    assert.equal(copyRow(m, '2\tBob\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n'), '2\tBob\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n');
    assert.equal(m.lastMasked, 0);
  });

  test('COPY table (column list) in CSV with a header line', async () => {
    const m = await copyPlan('COPY customers (name, card) TO STDOUT WITH (FORMAT csv, HEADER)', 2);
    assert.equal(copyRow(m, 'name,card\n'), 'name,card\n');
    assert.equal(copyRow(m, `"Ann, B",${CARD}\n`), `"Ann, B","${lastFour(CARD)}"\n`);
  });

  test('escaped text values are decoded before masking and re-escaped after', async () => {
    const m = await copyPlan('COPY customers (card) TO STDOUT', 1);
    assert.equal(copyRow(m, 'ab\\tcd\\\\ef\n'), `${lastFour('ab\tcd\\ef').replace('\\', '\\\\')}\n`);
  });

  test('COPY (query): lineage names the columns; a plain column keeps its type, an expression (type unknown) is NULL', async () => {
    const m = await copyPlan("COPY (SELECT lower(name), card AS c, reverse(card) FROM customers) TO STDOUT WITH (FORMAT csv, DELIMITER ';')", 3);
    assert.equal(copyRow(m, `ann;${CARD};1111111111111114\n`), `ann;"${lastFour(CARD)}";\n`);
    assert.equal(m.lastMasked, 2);
  });

  test('a masked column of unknown type is written as NULL', async () => {
    const m = await copyPlan('COPY (SELECT row_to_json(c) FROM customers c) TO STDOUT', 1);
    assert.equal(copyRow(m, '{"card":"x"}\n'), '\\N\n');
  });

  test('the detector backstop still scans the row', async () => {
    const m = await copyPlan('COPY (SELECT name FROM customers) TO STDOUT', 1);
    assert.equal(copyRow(m, `call ${CARD}\n`), `call ${lastFour(CARD)}\n`);
    assert.equal(m.lastMasked, 1);
  });

  test('a row with the wrong number of fields ends the session (throws)', async () => {
    const m = await copyPlan('COPY customers (name, card) TO STDOUT', 2);
    assert.throws(() => m.maskCopyData?.(Buffer.from('only-one\n')), /fields/);
  });

  test('binary COPY of a classified relation is refused; of a clean one it passes', async () => {
    await assert.rejects(copyPlan('COPY customers TO STDOUT (FORMAT binary)', 9, true), /binary COPY/);
    const clean = await copyPlan('COPY orders TO STDOUT (FORMAT binary)', 3, true);
    assert.ok(clean);
  });
});
