/** Opens a local database with its sync session: Realm's `realm.syncSession`. */
import type { App } from './app.js';
import type { ClientResetConfig } from './client-reset.js';
import type { SyncClientError } from './errors.js';
import type { SyncQueryInput } from './gql/graphql.js';
import { LocalDatabase, type Collections, type WriteLimits } from './local-database.js';
import type { LegacyStorage, Storage } from './storage.js';
import { SyncSession, type SyncProgress } from './sync-session.js';

/** A local database and its sync session; `C` types its collections (see `Collections`). */
export type SyncedDatabase<C = Collections> = LocalDatabase<C> & {
  readonly syncSession: SyncSession;
};

export interface OpenOptions {
  clientId: string;
  queries: SyncQueryInput[];
  /** Defaults to memory; `FileStorage` (Node) keeps unsynced writes across restarts. */
  storage?: Storage | LegacyStorage;
  /** Reports download progress of the initial sync, until it reaches 1.0. */
  onOpenProgress?: (progress: SyncProgress) => void;
  /** What to do when the gateway requires a client reset (default: recover or discard). */
  clientReset?: ClientResetConfig;
  /** Every sync error of the session: see `SyncSession.onError`. */
  onError?: (error: SyncClientError) => void;
  /** What one changeset may hold (the gateway's defaults); raise only with the gateway's. */
  limits?: Partial<WriteLimits>;
  /** The device's clock, in ms (default Date.now); timestamps follow the gateway's when it is off. */
  now?: () => number;
}

export async function openSyncedDatabase<C = Collections>(
  app: App,
  options: OpenOptions,
): Promise<SyncedDatabase<C>> {
  const { clientId, storage, limits, now } = options;
  const db = await LocalDatabase.open<C>({ clientId, storage, limits, now });
  // The session works on documents of any collection: the types are the app's view.
  const syncSession = new SyncSession(app, db as unknown as LocalDatabase, options.queries, {
    clientReset: options.clientReset,
    onError: options.onError,
  });
  if (options.onOpenProgress) reportOpenProgress(syncSession, options.onOpenProgress);
  return Object.assign(db, { syncSession });
}

function reportOpenProgress(session: SyncSession, report: (p: SyncProgress) => void): void {
  void (async () => {
    for await (const p of session.getProgressStream('DOWNLOAD', 'FOR_CURRENTLY_OUTSTANDING_WORK'))
      report(p);
  })().catch(() => undefined); // the stream's errors reach the session's error handler
}
