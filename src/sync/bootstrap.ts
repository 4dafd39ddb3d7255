/**
 * A bootstrap: a snapshot of the scope, complete at server version `until`, sent as pages
 * of documents in version order, each page a batch whose `toServerVersion` the client can
 * acknowledge. The store reads the scope's share of the collections (Scope.storeConditions:
 * a superset, by index), not the collections; `Scope.includes` picks what is in scope. After acknowledging `c`, the client holds every document in scope whose
 * version is at most `c`; the pages after `c`, then the history after `until`, bring the
 * rest. A document changed meanwhile gets a version past `until`: it drops out of the
 * pages, and the history carries it.
 *
 *   (from, until] ──page of batchSize documents──▶ batch from → version of its last one
 *                 ──last page (not full)─────────▶ batch from → until (done)
 */
import { makeBatch, upsert, type DownloadBatch, type DownloadDeps } from './download-batch.js';
import type { Scope } from './scope.js';

export interface BootstrapRange {
  /** The version acknowledged so far: 0 for a fresh bootstrap. */
  from: number;
  /** The version the snapshot is complete at: the latest one when the bootstrap began. */
  until: number;
  queriesVersion: number;
}

/**
 * The pages of documents the store narrows to the scope with a version in (from, until];
 * each page yields a batch, even one with nothing in scope, so that progress is acknowledged.
 */
export async function* bootstrapPages(
  deps: Pick<DownloadDeps, 'store' | 'feed' | 'batchSize'>,
  scope: Scope,
  range: BootstrapRange,
): AsyncGenerator<DownloadBatch> {
  const { until, queriesVersion } = range;
  let cursor = range.from;
  // The store reads only (a superset of) the scope: the query filters and the read rule.
  const where = scope.storeConditions();
  do {
    const page = await deps.store.scanDocumentsByVersion(
      scope.collections,
      cursor,
      until,
      deps.batchSize,
      where,
    );
    const to = page.length === deps.batchSize ? page[page.length - 1]!.version : until;
    const changes = page.filter((d) => scope.includes(d.collection, d.doc)).map(upsert);
    const latest = Math.max(until, deps.feed.latest);
    yield makeBatch(cursor, to, changes, latest, { queriesVersion, bootstrapUntil: until });
    cursor = to;
  } while (cursor < until);
}
