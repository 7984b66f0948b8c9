import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initPostgresParser } from '../../../../core/analysis/postgres/analyse.ts';
import type { BundleResource } from '../../../../core/policy/bundle.ts';
import { catalogData, command, defaultMasking, harness, resource, type Harness } from './fixtures.ts';
import type { FakeRelation } from './testing.ts';

before(async () => {
  await initPostgresParser();
});

/** A planner whose catalog is loaded (as it is shortly after start when strict masking is configured). */
async function warm(res: BundleResource = resource()): Promise<Harness> {
  const h = harness(undefined, res);
  await new Promise((r) => setImmediate(r));
  return h;
}

function strict(h: Harness, sql: string): string | undefined {
  assert.ok(h.planner.strictViolation);
  return h.planner.strictViolation({ command: command(sql) });
}

// contact (public.customers.email, public.customers.nick) is strict in the fixtures; card is not.
const denied: Array<[string, string, RegExp]> = [
  ['WHERE', "SELECT name FROM customers WHERE email = 'a@example.com'", /column public\.customers\.email \(classification contact\) is used in WHERE/],
  ['WHERE through an alias', "SELECT name FROM customers c WHERE lower(c.nick) LIKE 'a%'", /public\.customers\.nick.*WHERE/],
  ['JOIN … ON', 'SELECT 1 FROM customers c JOIN orders o ON o.id::text = c.email', /JOIN … ON/],
  ['JOIN … USING', 'SELECT 1 FROM customers JOIN (SELECT email FROM customers) x USING (email)', /JOIN … USING/],
  ['GROUP BY', 'SELECT count(*) FROM customers GROUP BY email', /GROUP BY/],
  ['ORDER BY an output alias', 'SELECT email AS e FROM customers ORDER BY e', /ORDER BY/],
  ['HAVING', "SELECT name FROM customers GROUP BY name HAVING max(email) > 'm'", /HAVING/],
  ['DISTINCT ON', 'SELECT DISTINCT ON (email) name FROM customers', /DISTINCT ON/],
  ['window PARTITION BY', 'SELECT rank() OVER (PARTITION BY email) FROM customers', /window PARTITION BY/],
  ['a sub-query filter', "SELECT count(*) FROM orders WHERE id IN (SELECT id FROM customers WHERE email LIKE '%@corp')", /WHERE/],
  ['a view column based on it', "SELECT 1 FROM contacts WHERE mail = 'x'", /public\.contacts\.mail/],
  ['a whole-row comparison (expanded to its columns)', "SELECT 1 FROM customers c WHERE c::text LIKE '%corp%'", /public\.customers\.email.*WHERE/],
  ['UPDATE … WHERE', "UPDATE customers SET name = 'x' WHERE email = 'a'", /WHERE/],
  ['in the second statement', "SELECT 1; SELECT 1 FROM customers WHERE email = 'a'", /WHERE/],
];

const allowed: Array<[string, string]> = [
  ['selecting it (masked) is fine', 'SELECT email FROM customers'],
  ['filtering on other columns', 'SELECT email FROM customers WHERE id = 1 ORDER BY name'],
  ['a non-strict classification in a filter', "SELECT name FROM customers WHERE card LIKE '4%'"],
  ['CASE in the target list is a value, not a filter', "SELECT CASE WHEN email LIKE '%corp' THEN 1 END FROM customers"],
  ['unrelated tables', 'SELECT * FROM orders o JOIN orders p ON p.id = o.customer_id WHERE o.total > 10 ORDER BY o.id'],
];

describe('strict masking', () => {
  for (const [name, sql, reason] of denied) {
    test(`denied: ${name}`, async () => {
      const h = await warm();
      assert.match(strict(h, sql) ?? '', reason);
    });
  }
  for (const [name, sql] of allowed) {
    test(`allowed: ${name}`, async () => {
      const h = await warm();
      assert.equal(strict(h, sql), undefined);
    });
  }

  test('no strict classification: no strict check at all', () => {
    const h = harness(undefined, resource(defaultMasking.map((m) => ({ ...m, strict: false }))));
    assert.equal(h.planner.strictViolation, undefined);
  });

  test('a relation the catalog has not described yet: retry, then decided', async () => {
    const data = { relations: [] as FakeRelation[] };
    const h = harness(data, resource());
    await new Promise((r) => setImmediate(r)); // loadAll found nothing
    data.relations.push(...catalogData.relations);
    const first = strict(h, "SELECT 1 FROM customers WHERE email = 'a'");
    assert.match(first ?? '', /still reading the catalog .*retry/);
    await new Promise((r) => setImmediate(r));
    assert.match(strict(h, "SELECT 1 FROM customers WHERE email = 'a'") ?? '', /classification contact/);
  });

  test('decisions are cached until invalidate()', async () => {
    const h = await warm();
    const sql = "SELECT 1 FROM customers WHERE email = 'a'";
    assert.ok(strict(h, sql));
    const n = h.server.queries.length;
    assert.ok(strict(h, sql));
    assert.equal(h.server.queries.length, n);
    h.planner.invalidate();
    assert.ok(h.server.queries.length > n, 'invalidate reloads the catalog for strict decisions');
  });
});
