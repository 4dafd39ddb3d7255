/**
 * What `waitForDownload` waits for: the newest server version in the session's scope
 * that exists now, after what the client has acknowledged; the latest version when the
 * history after that was compacted (the client must bootstrap everything again).
 */
import type { SyncStore } from '../store/port.js';
import { historyLost } from './route-entry.js';
import type { SessionRecord } from './model.js';
import type { UserPermissions } from './permissions.js';
import { scopeOf } from './scope.js';
import { ScopeMeter } from './scope-meter.js';

export async function downloadTarget(
  store: SyncStore,
  session: SessionRecord,
  perms: UserPermissions,
  batchSize: number,
): Promise<number> {
  const acknowledged = session.lastDownloadedServerVersion;
  const latest = await store.latestVersion();
  if (historyLost(acknowledged, await store.readHistory(acknowledged, 1), latest)) return latest;
  const scope = scopeOf(session.queries, perms);
  const meter = new ScopeMeter(store, scope, acknowledged, batchSize);
  await meter.advanceTo(latest);
  return meter.lastInScope;
}
