/**
 * Bootstrap pages narrowed by a scope (sync/scope-condition.ts): per collection, the ids of
 * the plain documents meeting its filter (scope-query.ts; read from the rule's index alone),
 * then their states in version order, joined with their plain copies, all in the caller's
 * snapshot. A filter meeting more than MAX_IDS documents is not narrowing much: that
 * collection is read by version, as without a condition.
 */
import type { Filter } from 'mongodb';
import type { StoredDocument } from '../../sync/model.js';
import { ANY, type ScopeCondition } from '../../sync/scope-condition.js';
import type { PlainDoc, SyncCollections } from './collections.js';
import { scanDocumentsByVersion, take, withPlainCopies, type ReadIn } from './documents.js';
import { conditionFilter } from './scope-query.js';

/** Ids of one filter's documents at most, beyond which a scan reads by version. */
const MAX_IDS = 10_000;

export interface VersionRange {
  collections: readonly string[];
  afterVersion: number;
  upToVersion: number;
}

/** Visible documents of the range meeting `where`'s conditions (at least), in version order. */
export async function scanScopeByVersion(
  c: SyncCollections,
  range: VersionRange,
  where: ReadonlyMap<string, ScopeCondition>,
  limit: number,
  read: ReadIn,
): Promise<StoredDocument[]> {
  const found: StoredDocument[] = [];
  // One after the other: operations of one session must not run concurrently.
  for (const collection of new Set(range.collections)) {
    const filter = conditionFilter(where.get(collection) ?? ANY);
    if (filter === null) continue;
    const one = { ...range, collections: [collection] };
    const ids = Object.keys(filter).length > 0 ? await idsOf(c, collection, filter, read) : null;
    found.push(
      ...(ids
        ? await amongByVersion(c, one, ids, limit, read)
        : await scanDocumentsByVersion(c, one, limit, read)),
    );
  }
  return found.sort((a, b) => a.version - b.version).slice(0, limit);
}

/** The ids of the plain documents meeting `filter`, or null past MAX_IDS. */
async function idsOf(
  c: SyncCollections,
  collection: string,
  filter: Filter<PlainDoc>,
  read: ReadIn,
): Promise<string[] | null> {
  const cursor = c.plain(collection).find(filter, { ...read, projection: { _id: 1 } });
  const docs = await take(cursor, MAX_IDS + 1);
  return docs.length > MAX_IDS ? null : docs.map((d) => d._id);
}

/** The documents of `ids` with a version in the range, in version order. */
async function amongByVersion(
  c: SyncCollections,
  range: VersionRange,
  ids: string[],
  limit: number,
  read: ReadIn,
): Promise<StoredDocument[]> {
  if (ids.length === 0) return [];
  const filter = {
    collection: range.collections[0]!,
    id: { $in: ids },
    version: { $gt: range.afterVersion, $lte: range.upToVersion },
  };
  const states = await take(c.state.find(filter, read).sort({ version: 1 }), limit);
  return withPlainCopies(c, states, read);
}
