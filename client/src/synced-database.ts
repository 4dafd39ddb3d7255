/** Opens a local database with its sync session: Realm's `realm.syncSession`. */
import type { App } from './app.js';
import type { SyncQueryInput } from './gql/graphql.js';
import { LocalDatabase } from './local-database.js';
import type { Storage } from './storage.js';
import { SyncSession, type SyncProgress } from './sync-session.js';

export type SyncedDatabase = LocalDatabase & { readonly syncSession: SyncSession };

export interface OpenOptions {
  clientId: string;
  queries: SyncQueryInput[];
  /** Defaults to memory; `FileStorage` (Node) keeps unsynced writes across restarts. */
  storage?: Storage;
  /** Reports download progress of the initial sync, until it reaches 1.0. */
  onOpenProgress?: (progress: SyncProgress) => void;
}

export async function openSyncedDatabase(app: App, options: OpenOptions): Promise<SyncedDatabase> {
  const db = await LocalDatabase.open({ clientId: options.clientId, storage: options.storage });
  const syncSession = new SyncSession(app, db, options.queries);
  if (options.onOpenProgress) {
    const report = options.onOpenProgress;
    void (async () => {
      for await (const p of syncSession.getProgressStream(
        'DOWNLOAD',
        'FOR_CURRENTLY_OUTSTANDING_WORK',
      ))
        report(p);
    })();
  }
  return Object.assign(db, { syncSession });
}
