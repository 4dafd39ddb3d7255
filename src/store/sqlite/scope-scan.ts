/**
 * Scans of one collection narrowed by a ScopeCondition (scope-sql.ts), in version order
 * (bootstraps) or id order (re-scoping).
 *
 * An equality on an indexed path at the top of the condition (the read rule's `ownerId`,
 * typically) drives the scan: one branch per value, plus one for ARRAY_MARK, each reading
 * its index (collection, valueAt(path), version) from the cursor on, joined by UNION ALL
 * and merged in order. One branch per value, not an `IN`: SQLite reads an IN over the index
 * in value order, so it would sort the whole share for every page (and, without statistics,
 * prefers the primary key and sorts the whole collection). Without such an equality the
 * condition filters the scan in SQL, along the version index (or the primary key by id).
 */
import type Database from 'better-sqlite3';
import {
  allOf,
  isEquality,
  isNone,
  type ScopeCondition,
  type ScopeEquality,
} from '../../sync/scope-condition.js';
import type { DocumentRow } from './rows.js';
import {
  ARRAY_MARK,
  bindValue,
  conditionSql,
  indexedPath,
  scopeIndexName,
  valueAt,
  type SqlPart,
  type SqlValue,
} from './scope-sql.js';

/** The most values an equality may have to drive a scan (a branch each). */
const MAX_DRIVING_VALUES = 16;
/** Bound parameters of one statement, well under SQLite's 32766. */
const MAX_PARAMS = 20_000;
/** Prepared statements kept (one per shape of condition; values are parameters). */
const MAX_STATEMENTS = 256;

type Order = 'version' | 'id';

/** The range of a scan (after its cursor) and its order. */
interface Range {
  order: Order;
  where: SqlPart;
}

export class ScopeScans {
  private readonly indexed = new Set<string>();
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    const names = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents'")
      .pluck()
      .all() as string[];
    for (const name of names) {
      const path = indexedPath(name);
      if (path) this.indexed.add(path);
    }
  }

  /** The paths without an index yet (each once). */
  missingIndexes(paths: readonly string[]): string[] {
    return [...new Set(paths)].filter((p) => !this.indexed.has(p));
  }

  /** The paths' indexes exist now (sqlite-writes.ts created them): scans may use them. */
  indexesCreated(paths: readonly string[]): void {
    paths.forEach((p) => this.indexed.add(p));
  }

  byVersion(
    collection: string,
    where: ScopeCondition,
    after: number,
    upTo: number,
    limit: number,
  ): DocumentRow[] {
    return this.run(this.byVersionQuery(collection, where, after, upTo, limit));
  }

  byId(collection: string, where: ScopeCondition, afterId: string, limit: number): DocumentRow[] {
    const range = { order: 'id' as const, where: part('id > ?', afterId) };
    return this.run(this.query(collection, where, range, limit));
  }

  /** The statement of `byVersion` (null: nothing to read), for EXPLAIN QUERY PLAN in tests. */
  byVersionQuery(
    collection: string,
    where: ScopeCondition,
    after: number,
    upTo: number,
    limit: number,
  ): SqlPart | null {
    const range = part('version > ? AND version <= ?', after, upTo);
    return this.query(collection, where, { order: 'version', where: range }, limit);
  }

  private run(query: SqlPart | null): DocumentRow[] {
    if (!query) return [];
    return this.statement(query.sql).all(...query.params) as DocumentRow[];
  }

  private query(collection: string, where: ScopeCondition, range: Range, limit: number) {
    if (isNone(where)) return null;
    const base = part(`collection = ? AND doc IS NOT NULL AND ${range.where.sql}`, collection);
    base.params.push(...range.where.params);
    const split = this.driver(where);
    return split
      ? drivenQuery(base, split.driver, conditionSql(split.rest), range.order, limit)
      : filteredQuery(base, conditionSql(where), range.order, limit);
  }

  /** The indexed equality at the top of `where` with the fewest values, and the rest. */
  private driver(where: ScopeCondition) {
    const parts = 'and' in where ? where.and : [where];
    const candidates = parts
      .filter(isEquality)
      .filter((p) => this.indexed.has(p.path) && p.in.length <= MAX_DRIVING_VALUES)
      .sort((a, b) => a.in.length - b.in.length);
    const driver = candidates[0];
    if (!driver) return null;
    const rest = allOf(parts.filter((p) => p !== driver));
    const params = conditionSql(rest).params.length + 6;
    return params * (driver.in.length + 1) > MAX_PARAMS ? null : { driver, rest };
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size >= MAX_STATEMENTS) {
        this.statements.delete(this.statements.keys().next().value!);
      }
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

const part = (sql: string, ...params: SqlValue[]): SqlPart => ({ sql, params });

/** One branch per value of the driving equality (and ARRAY_MARK), each by its index. */
function drivenQuery(
  base: SqlPart,
  driver: ScopeEquality,
  rest: SqlPart,
  order: Order,
  limit: number,
): SqlPart {
  const index = `"${scopeIndexName(driver.path)}"`;
  const values = [...driver.in.map((v) => part('?', bindValue(v))), part(ARRAY_MARK)];
  const branches = values.map((value) => ({
    sql:
      `SELECT * FROM (SELECT * FROM documents INDEXED BY ${index} WHERE ${base.sql} ` +
      `AND ${valueAt(driver.path)} = ${value.sql} AND ${rest.sql} ORDER BY ${order} LIMIT ?)`,
    params: [...base.params, ...value.params, ...rest.params, limit],
  }));
  return {
    sql: `SELECT * FROM (${branches.map((b) => b.sql).join(' UNION ALL ')}) ORDER BY ${order} LIMIT ?`,
    params: [...branches.flatMap((b) => b.params), limit],
  };
}

/** The condition as a filter of the scan in order (by the version index, or by the key). */
function filteredQuery(base: SqlPart, condition: SqlPart, order: Order, limit: number): SqlPart {
  const index = order === 'version' ? ' INDEXED BY documents_by_version' : '';
  return {
    sql: `SELECT * FROM documents${index} WHERE ${base.sql} AND ${condition.sql} ORDER BY ${order} LIMIT ?`,
    params: [...base.params, ...condition.params, limit],
  };
}
