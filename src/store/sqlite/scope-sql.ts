/**
 * A ScopeCondition (sync/scope-condition.ts) as SQL over `documents.doc` (JSON text).
 *
 * The value of a path is `valueAt(path)`: json_extract of it, or the blob ARRAY_MARK when
 * the path or a part of it holds an array (MongoDB and mingo look inside arrays; SQL does not
 * here, so such a document meets every equality on the path: a superset, never fewer).
 * json_extract reads a string as TEXT, an integer as INTEGER and true/false as 1/0, so
 * booleans are bound as 1/0 (a 1 then meets `true` too: wider, never narrower), and an
 * equality is `valueAt(path) IN (values..., ARRAY_MARK)`.
 *
 * `valueAt` is deterministic (built-in JSON functions only), so it can be indexed, and an
 * index on (collection, valueAt(path), version) holds each user's share of a collection in
 * version order (scope-scan.ts). Paths go into the SQL text (an index is matched by its
 * expression), so only `isIndexablePath` ones are accepted.
 */
import {
  isAny,
  isEquality,
  isIndexablePath,
  type ScopeCondition,
  type ScopeScalar,
} from '../../sync/scope-condition.js';

export type SqlValue = string | number;

/** SQL and its positional parameters, in order. */
export interface SqlPart {
  sql: string;
  params: SqlValue[];
}

/** What valueAt gives where an array lies along the path: no JSON value reads as a blob. */
export const ARRAY_MARK = "x'00'";

function checkedPath(path: string): string[] {
  if (!isIndexablePath(path)) throw new Error(`not an indexable path: ${JSON.stringify(path)}`);
  return path.split('.');
}

/** The value at a dotted path of the document, or ARRAY_MARK (see above). */
export function valueAt(path: string): string {
  const segments = checkedPath(path);
  const prefixes = segments.map((_, i) => `'$.${segments.slice(0, i + 1).join('.')}'`);
  const arrays = prefixes.map((p) => `json_type(doc, ${p}) = 'array'`).join(' OR ');
  return `(CASE WHEN ${arrays} THEN ${ARRAY_MARK} ELSE json_extract(doc, ${prefixes.at(-1)!}) END)`;
}

export const bindValue = (v: ScopeScalar): SqlValue => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** The name of the index of a path (quoted where it is used: paths hold dots). */
export const scopeIndexName = (path: string): string =>
  `documents_at_${checkedPath(path).join('.')}`;

/** The path an index of scopeIndexName is on, or null for another index. */
export const indexedPath = (name: string): string | null => {
  const path = name.startsWith('documents_at_') ? name.slice('documents_at_'.length) : '';
  return isIndexablePath(path) ? path : null;
};

/** Only visible documents are indexed: deleted ones have no `doc` and never meet a scope. */
export const createScopeIndex = (path: string): string =>
  `CREATE INDEX IF NOT EXISTS "${scopeIndexName(path)}" ON documents ` +
  `(collection, ${valueAt(path)}, version) WHERE doc IS NOT NULL`;

/** The condition as a WHERE term. */
export function conditionSql(c: ScopeCondition): SqlPart {
  if (isEquality(c)) {
    const marks = c.in.map(() => '?');
    return {
      sql: `${valueAt(c.path)} IN (${[...marks, ARRAY_MARK].join(', ')})`,
      params: c.in.map(bindValue),
    };
  }
  if (isAny(c)) return { sql: '1', params: [] };
  const [parts, joint] = 'and' in c ? [c.and, ' AND '] : [c.or, ' OR '];
  if (parts.length === 0) return { sql: '0', params: [] };
  const sqls = parts.map(conditionSql);
  return {
    sql: `(${sqls.map((p) => p.sql).join(joint)})`,
    params: sqls.flatMap((p) => p.params),
  };
}
