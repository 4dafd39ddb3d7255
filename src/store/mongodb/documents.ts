/**
 * Reads and writes of synced documents: the mergeable state in `__sync_state` and the
 * visible document in its plain collection. Every function takes the ClientSession it must
 * run in (a transaction, or a snapshot session for reads), so the two collections are read
 * and written consistently. Operations in one session run one after the other: a session
 * must not run operations concurrently.
 */
import type { AnyBulkWriteOperation, ClientSession, Filter, FindCursor } from 'mongodb';
import type { FindOptions } from 'mongodb';
import { documentKey } from '../port.js';
import type { DocumentKey, StoredDocument } from '../../sync/model.js';
import type { PlainDoc, StateDoc, SyncCollections } from './collections.js';
import type { VersionedWrite } from './group-plan.js';
import { toBson } from './json-values.js';
import { toStored } from './rows.js';

/** The session to read in, and the snapshot read concern when it is a snapshot session. */
export type ReadIn = Pick<FindOptions, 'session' | 'readConcern'>;

/** Up to `limit` results; a limit of 0 means "none", not MongoDB's "no limit". */
export async function take<T>(cursor: FindCursor<T>, limit: number): Promise<T[]> {
  if (limit <= 0) {
    await cursor.close();
    return [];
  }
  return cursor.limit(limit).toArray();
}

function idsByCollection(keys: readonly DocumentKey[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { collection, id } of keys) {
    const ids = groups.get(collection) ?? [];
    ids.push(id);
    groups.set(collection, ids);
  }
  return groups;
}

/** The stored documents of `keys`, in key order, undefined for missing ones. */
export async function readDocuments(
  c: SyncCollections,
  keys: readonly DocumentKey[],
  read: ReadIn,
): Promise<(StoredDocument | undefined)[]> {
  const groups = idsByCollection(keys);
  if (groups.size === 0) return [];
  const or = [...groups].map(([collection, ids]) => ({ collection, id: { $in: ids } }));
  const states = await c.state.find({ $or: or }, read).toArray();
  const plain = new Map<string, PlainDoc>();
  for (const [collection, ids] of groups) {
    const docs = await c
      .plain(collection)
      .find({ _id: { $in: ids } }, read)
      .toArray();
    for (const doc of docs) plain.set(documentKey({ collection, id: doc._id }), doc);
  }
  const stateOf = new Map(states.map((s) => [documentKey(s), s]));
  return keys.map((k) => toStored(k, stateOf.get(documentKey(k)), plain.get(documentKey(k))));
}

/**
 * Existing (visible) documents of a collection ordered by id, after `afterId`, meeting
 * `filter` (none: every one).
 */
export async function scanDocuments(
  c: SyncCollections,
  collection: string,
  afterId: string,
  limit: number,
  read: ReadIn,
  filter: Filter<PlainDoc> = {},
): Promise<StoredDocument[]> {
  const after: Filter<PlainDoc> = { _id: { $gt: afterId } };
  const narrowed = Object.keys(filter).length === 0 ? after : { $and: [after, filter] };
  const cursor = c.plain(collection).find(narrowed, read);
  const docs = await take(cursor.sort({ _id: 1 }), limit);
  if (docs.length === 0) return [];
  const ids = docs.map((d) => d._id);
  const states = await c.state.find({ collection, id: { $in: ids } }, read).toArray();
  const stateOf = new Map(states.map((s) => [s.id, s]));
  return docs.flatMap(
    (doc) => toStored({ collection, id: doc._id }, stateOf.get(doc._id), doc) ?? [],
  );
}

/** Each state's stored document with its plain copy, dropping those without one (deleted). */
export async function withPlainCopies(
  c: SyncCollections,
  states: readonly StateDoc[],
  read: ReadIn,
): Promise<StoredDocument[]> {
  const plain = new Map<string, PlainDoc>();
  for (const [collection, ids] of idsByCollection(states)) {
    const docs = await c
      .plain(collection)
      .find({ _id: { $in: ids } }, read)
      .toArray();
    for (const doc of docs) plain.set(documentKey({ collection, id: doc._id }), doc);
  }
  return states.flatMap((state) => {
    const copy = plain.get(documentKey(state));
    return copy ? (toStored(state, state, copy) ?? []) : [];
  });
}

/**
 * Visible documents of `collections` with a version in (afterVersion, upToVersion], in
 * version order: states page by page (deleted ones have no plain copy and do not count
 * towards `limit`), each page joined with its plain copies.
 */
export async function scanDocumentsByVersion(
  c: SyncCollections,
  range: { collections: readonly string[]; afterVersion: number; upToVersion: number },
  limit: number,
  read: ReadIn,
): Promise<StoredDocument[]> {
  const found: StoredDocument[] = [];
  let after = range.afterVersion;
  while (found.length < limit) {
    const want = limit - found.length;
    const filter = {
      collection: { $in: [...range.collections] },
      version: { $gt: after, $lte: range.upToVersion },
    };
    const states = await take(c.state.find(filter, read).sort({ version: 1 }), want);
    found.push(...(await withPlainCopies(c, states, read)));
    if (states.length < want) break;
    after = states[states.length - 1]!.version;
  }
  return found;
}

/**
 * Writes each document's state at its version and its plain copy (replaced, or deleted
 * when null; left alone when the write keeps it intact).
 */
export async function writeDocuments(
  c: SyncCollections,
  writes: readonly VersionedWrite[],
  session: ClientSession,
): Promise<void> {
  if (writes.length === 0) return;
  const states: AnyBulkWriteOperation<StateDoc>[] = writes.map((w) => ({
    replaceOne: {
      filter: { collection: w.collection, id: w.id },
      replacement: {
        collection: w.collection,
        id: w.id,
        state: toBson(w.state),
        version: w.version,
      },
      upsert: true,
    },
  }));
  await c.state.bulkWrite(states, { ordered: true, session });
  for (const [collection, ops] of plainWrites(writes.filter((w) => !w.copyIntact))) {
    await c.plain(collection).bulkWrite(ops, { ordered: true, session });
  }
}

/** The writes to each plain collection: a replaced copy, or a delete when the doc is null. */
export function plainWrites(writes: readonly Pick<StoredDocument, 'collection' | 'id' | 'doc'>[]) {
  const byCollection = new Map<string, AnyBulkWriteOperation<PlainDoc>[]>();
  for (const w of writes) {
    const ops = byCollection.get(w.collection) ?? [];
    ops.push(
      w.doc
        ? {
            replaceOne: {
              filter: { _id: w.id },
              replacement: toBson({ ...w.doc, _id: w.id }),
              upsert: true,
            },
          }
        : { deleteOne: { filter: { _id: w.id } } },
    );
    byCollection.set(w.collection, ops);
  }
  return byCollection;
}
