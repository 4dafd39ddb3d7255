/** What one history entry means to a scope, and whether history after a cursor is lost. */
import type { DownloadChange } from './download-batch.js';
import type { HistoryEntry } from './model.js';
import type { Scope } from './scope.js';

/**
 * Maps one history entry to what this scope's client must see of it, if anything. `former`
 * is the scope before an `updateQueries`, for entries the client may have missed under it:
 * a document that left the former scope then must be removed too.
 */
export function routeEntry(scope: Scope, h: HistoryEntry, former?: Scope): DownloadChange | null {
  const base = { serverVersion: h.version, collection: h.collection, id: h.id };
  if (scope.includes(h.collection, h.after)) return { ...base, op: 'UPSERT', document: h.after };
  const held = scope.includes(h.collection, h.before) || former?.includes(h.collection, h.before);
  return held ? { ...base, op: 'REMOVE', document: null } : null;
}

/**
 * Whether history after `cursor` was compacted away: versions are contiguous, so the
 * first entry after the cursor must be the next version (`latest` was read first).
 */
export function historyLost(
  cursor: number,
  entries: readonly HistoryEntry[],
  latest: number,
): boolean {
  const first = entries[0];
  return first ? first.version !== cursor + 1 : latest > cursor;
}
