/**
 * What `waitForDownload` waits for: the newest server version in the session's scope
 * that exists now, after what the client has acknowledged. Reads the history in batches.
 */
import type { SyncStore } from '../store/port.js';
import type { SessionRecord } from './model.js';
import type { UserPermissions } from './permissions.js';
import { Scope } from './scope.js';
import { routeEntry } from './download.js';

export async function downloadTarget(
  store: SyncStore,
  session: SessionRecord,
  perms: UserPermissions,
  batchSize: number,
): Promise<number> {
  const latest = await store.latestVersion();
  const scope = new Scope(session.queries, perms);
  let cursor = session.lastDownloadedServerVersion;
  let target = cursor;
  while (cursor < latest) {
    const entries = await store.readHistory(cursor, batchSize);
    if (entries.length === 0) break;
    for (const h of entries) {
      if (h.version > latest) return target;
      if (routeEntry(scope, h)) target = h.version;
      cursor = h.version;
    }
  }
  return target;
}
