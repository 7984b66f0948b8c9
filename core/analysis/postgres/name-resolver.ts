// Which relation a name means, as PostgreSQL resolves it (see "Names" in analyse.ts). Every answer is a list of
// candidates: normally one, two when the session state leaves a choice the analyser cannot settle without a catalog
// (a temporary relation that may be gone, a set_config that may not have run) — the stricter rule then decides.
import { pgCatalogRelations } from './pg-catalog-relations.ts';
import { pathCandidates } from './session-tracker.ts';
import { Unanalysable } from './unanalysable.ts';
import type { SessionTracker } from './session-tracker.ts';

type Obj = Record<string, unknown>;

export type RelationLookup = (schemas: readonly string[], name: string) => string | undefined;


export class NameResolver {
  private readonly session: SessionTracker;
  private readonly lookup: RelationLookup | undefined;
  /** A schema put in front of the path while the elements of CREATE SCHEMA are walked. */
  schemaOverride: string | undefined;

  constructor(session: SessionTracker, lookup: RelationLookup | undefined) {
    this.session = session;
    this.lookup = lookup;
  }

  /** An existing relation named by a RangeVar (a read, a DML target, a DDL object). */
  relations(rv: Obj): string[] {
    const relname = typeof rv.relname === 'string' ? rv.relname : '';
    const schema = typeof rv.schemaname === 'string' ? rv.schemaname : undefined;
    if (schema !== undefined) return [`${schema}.${relname}`];
    return this.unqualified(relname);
  }

  /** An existing relation named by a List of String nodes ([name], [schema, name] or [db, schema, name]). */
  namedRelations(names: readonly string[]): string[] {
    const relname = names[names.length - 1] ?? '';
    if (names.length >= 2) return [`${names[names.length - 2]}.${relname}`];
    return this.unqualified(relname);
  }

  /** The relation a CREATE makes: temporary ones live in pg_temp, others in the first schema of the path. */
  createdRelations(rv: Obj, rememberTemp: boolean): string[] {
    const relname = typeof rv.relname === 'string' ? rv.relname : '';
    const schema = typeof rv.schemaname === 'string' ? rv.schemaname : undefined;
    if (rv.relpersistence === 't' || schema === 'pg_temp') {
      if (rememberTemp) this.session.createdTempRelation(relname);
      return ['pg_temp.' + relname];
    }
    if (schema !== undefined) return [`${schema}.${relname}`];
    const out: string[] = [];
    for (const path of this.paths()) {
      const r = this.createIn(path, relname);
      if (r === 'pg_temp.' + relname && rememberTemp) this.session.createdTempRelation(relname);
      if (!out.includes(r)) out.push(r);
    }
    return out;
  }

  private unqualified(name: string): string[] {
    const out: string[] = [];
    for (const path of this.paths()) {
      const r = this.resolveIn(path, name);
      if (!out.includes(r)) out.push(r);
    }
    // A temporary relation from an earlier command may shadow the name — or may be gone (rolled back, dropped at
    // commit): without a catalog to ask, both candidates.
    if (!this.lookup && this.session.tempStatus(name) === 'possible' && !out.includes('pg_temp.' + name)) {
      out.push('pg_temp.' + name);
    }
    return out;
  }

  /**
   * One search path: the session's temporary schema, then pg_catalog (each unless the path names it explicitly),
   * then the catalog lookup when there is one, then the first schema of the path.
   */
  private resolveIn(path: readonly string[], name: string): string {
    if (!path.includes('pg_temp') && this.session.tempStatus(name) === 'certain') return 'pg_temp.' + name;
    const catalogImplicit = !path.includes('pg_catalog');
    // Offline, a catalog relation's name means the catalog relation even when the path lists pg_catalog after
    // another schema: without a catalog there is no telling that the other schema has a relation of that name.
    if (pgCatalogRelations.has(name) && (catalogImplicit || !this.lookup)) return 'pg_catalog.' + name;
    if (this.lookup) {
      const found = this.lookup(this.lookupSchemas(path, catalogImplicit), name);
      if (found !== undefined) return `${found}.${name}`;
    }
    for (const s of path) {
      if (s === '$user' || s === '') continue; // offline: assume no schema named after the user exists
      if (s === 'pg_catalog') {
        if (pgCatalogRelations.has(name)) return 'pg_catalog.' + name;
        continue;
      }
      if (s === 'pg_temp') {
        if (this.session.tempStatus(name) !== undefined) return 'pg_temp.' + name;
        continue;
      }
      return `${s}.${name}`;
    }
    const user = this.userSchema(path);
    if (user !== undefined) return `${user}.${name}`;
    throw new Unanalysable(`relation "${name}" cannot be resolved: no schema in the search_path holds it`);
  }

  private createIn(path: readonly string[], relname: string): string {
    for (const s of path) {
      if (s === '$user' || s === '') continue;
      return `${s}.${relname}`;
    }
    const user = this.userSchema(path);
    if (user !== undefined) return `${user}.${relname}`;
    throw new Unanalysable(`relation "${relname}" cannot be created: no schema has been selected to create in`);
  }

  /**
   * When "$user" is the only schema left to try, the relation can only be there (or the statement fails): the
   * user's schema, if the user is known.
   */
  private userSchema(path: readonly string[]): string | undefined {
    if (!path.includes('$user')) return undefined;
    const user = this.session.effectiveUser();
    return typeof user === 'string' ? user : undefined;
  }

  /** The search paths in effect: one, or each alternative a set_config that may not have run leaves open. */
  private paths(): ReadonlyArray<readonly string[]> {
    const paths = pathCandidates(this.session.path);
    if (typeof paths === 'string') throw new Unanalysable(`an unqualified relation name cannot be resolved: ${paths}`);
    const front = this.schemaOverride;
    return front === undefined ? paths : paths.map((p) => [front, ...p]);
  }

  private lookupSchemas(path: readonly string[], catalogImplicit: boolean): string[] {
    const out: string[] = [];
    if (!path.includes('pg_temp')) out.push('pg_temp');
    if (catalogImplicit) out.push('pg_catalog');
    for (const s of path) {
      if (s === '$user') {
        const user = this.session.effectiveUser();
        if (user !== undefined && typeof user !== 'string') {
          throw new Unanalysable(`"$user" in the search_path cannot be resolved: ${user.unknown}`);
        }
        if (user !== undefined) out.push(user);
      } else if (s !== '') out.push(s);
    }
    return out;
  }
}
