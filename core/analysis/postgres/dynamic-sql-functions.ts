// Functions that run SQL (or read a relation) named only inside a text argument. The analyser cannot see what
// such a call touches, so the contract denies it unless a rule allows the function by name.
// Matched on the unqualified name whatever the schema (extensions live in any schema the installer chose).
import type { SqlFunctionRef } from '../command.ts';

const exactNames: ReadonlySet<string> = new Set([
  // Core XML export: run a query text, or read a table / schema / database named by a value.
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'table_to_xml',
  'table_to_xmlschema',
  'table_to_xml_and_xmlschema',
  'schema_to_xml',
  'schema_to_xmlschema',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xmlschema',
  'database_to_xml_and_xmlschema',
  // Core full-text search: ts_stat(sqlquery) and ts_rewrite(query, select text) execute their text argument.
  'ts_stat',
  'ts_rewrite',
  // tablefunc: connectby reads the relation named by its first argument (crosstab* is a prefix below).
  'connectby',
  // pg_cron: run SQL text later, in this or another database.
  'schedule',
  'schedule_in_database',
  'alter_job',
  // pg_background, pg_ivm, aws_s3, oracle_fdw, pglogical/BDR.
  'pg_background_launch',
  'create_immv',
  'query_export_to_s3',
  'oracle_execute',
  'replicate_ddl_command',
  // pgTAP assertions that execute SQL text.
  'lives_ok',
  'throws_ok',
  'throws_like',
  'throws_ilike',
  'throws_matching',
  'throws_imatching',
  'results_eq',
  'results_ne',
  'set_eq',
  'set_ne',
  'set_has',
  'set_hasnt',
  'bag_eq',
  'bag_ne',
  'bag_has',
  'bag_hasnt',
  'is_empty',
  'isnt_empty',
  'row_eq',
  'performs_ok',
  'performs_within',
  'runtests',
]);

/** Families where every member takes SQL text: dblink*, crosstab*, pgRouting's pgr_*, Citus' run_command_on_*. */
const prefixes: readonly string[] = ['dblink', 'crosstab', 'pgr_', 'run_command_on_'];

export function runsDynamicSql(fn: SqlFunctionRef): boolean {
  const name = fn.name;
  if (exactNames.has(name)) return true;
  for (const prefix of prefixes) if (name.startsWith(prefix)) return true;
  return false;
}
