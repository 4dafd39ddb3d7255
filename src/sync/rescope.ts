/** Re-scoping: what a client must remove and receive when its queries change. */
import { makeBatch, upsert, type DownloadChange, type DownloadDeps } from './download-batch.js';
import type { StoredDocument, SyncQuery } from './model.js';
import type { ScopeCondition } from './scope-condition.js';
import { eitherScopeConditions, Scope } from './scope.js';

/**
 * Pages through the current documents of each collection, narrowed by the store to its
 * condition (a superset: `pick` decides), keeping those `pick` returns.
 */
async function* pageDocuments(
  deps: DownloadDeps,
  where: ReadonlyMap<string, ScopeCondition>,
  pick: (d: StoredDocument) => DownloadChange | null,
): AsyncGenerator<DownloadChange[]> {
  for (const [collection, condition] of where) {
    let after = '';
    for (;;) {
      const page = await deps.store.scanDocuments(collection, after, deps.batchSize, condition);
      const changes = page.map(pick).filter((c): c is DownloadChange => c !== null);
      if (changes.length > 0) yield changes;
      if (page.length < deps.batchSize) break;
      after = page[page.length - 1]!.id;
    }
  }
}

/**
 * Documents that left the scope (REMOVE) or entered it (UPSERT) when the queries changed
 * from `queries.from` to `queries.to`, as they are now; batches at the cursor.
 */
export async function* rescopeBatches(
  deps: DownloadDeps,
  queries: { from: SyncQuery[]; to: SyncQuery[] },
  cursor: number,
  queriesVersion: number,
) {
  const before = new Scope(queries.from, deps.perms);
  const after = new Scope(queries.to, deps.perms);
  const pick = (d: StoredDocument): DownloadChange | null => {
    const was = before.includes(d.collection, d.doc);
    const is = after.includes(d.collection, d.doc);
    if (is && !was) return upsert(d);
    if (was && !is) return { ...upsert(d), op: 'REMOVE', document: null };
    return null;
  };
  for await (const changes of pageDocuments(deps, eitherScopeConditions(before, after), pick)) {
    yield makeBatch(cursor, cursor, changes, deps.feed.latest, { queriesVersion });
  }
}
