/**
 * What `waitForDownload` waits for: the newest server version in the session's scope
 * that exists now, after what the client has acknowledged.
 */
import type { SyncStore } from '../store/port.js';
import type { SessionRecord } from './model.js';
import type { UserPermissions } from './permissions.js';
import { Scope } from './scope.js';
import { ScopeMeter } from './scope-meter.js';

export async function downloadTarget(
  store: SyncStore,
  session: SessionRecord,
  perms: UserPermissions,
  batchSize: number,
): Promise<number> {
  const scope = new Scope(session.queries, perms);
  const meter = new ScopeMeter(store, scope, session.lastDownloadedServerVersion, batchSize);
  await meter.advanceTo(await store.latestVersion());
  return meter.lastInScope;
}
