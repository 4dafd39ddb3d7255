/** The hooks of `@graphql-sync-gateway/client/react`. */
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { App } from '../app.js';
import type { ConnectionState } from '../connection-state.js';
import type { ProgressDirection, ProgressMode } from '../gql/graphql.js';
import type { LocalDatabase, NameOf } from '../local-database.js';
import type { Filter, QueryOptions } from '../local-query.js';
import type { SessionState, SyncProgress } from '../sync-session.js';
import type { SyncedDatabase } from '../synced-database.js';

/**
 * The live result of a query over the local database: re-renders on every change of the
 * result, whether written here or synced from elsewhere.
 */
export function useQuery<C, K extends NameOf<C>>(
  db: LocalDatabase<C>,
  collection: K,
  filter?: Filter,
  options?: QueryOptions,
): C[K][] {
  const key = JSON.stringify([collection, filter ?? {}, options ?? {}]);
  // Made again only when what the query asks changes (`key`), not at every render.
  const live = useMemo(() => db.observe(collection, filter, options), [db, key]);
  return useSyncExternalStore(
    live.subscribe,
    () => live.current,
    () => live.current,
  );
}

/** One document, live (undefined while it does not exist). */
export function useDocument<C, K extends NameOf<C>>(
  db: LocalDatabase<C>,
  collection: K,
  id: string,
): C[K] | undefined {
  return useQuery(db, collection, { _id: id })[0];
}

/** ACTIVE or INACTIVE (paused in either direction), as it changes. */
export function useSessionState(db: SyncedDatabase<never> | SyncedDatabase): SessionState {
  const session = (db as SyncedDatabase).syncSession;
  return useSyncExternalStore(
    (notify) => (db as SyncedDatabase).onChange(notify),
    () => session.state,
    () => session.state,
  );
}

/** The app's connection state, as it changes. */
export function useConnectionState(app: App): ConnectionState {
  return useSyncExternalStore(
    (notify) => app.onConnectionChange(notify),
    () => app.connectionState,
    () => app.connectionState,
  );
}

/**
 * Sync progress of one direction, as the seed's progress stream: null until the first value;
 * in FOR_CURRENTLY_OUTSTANDING_WORK it stays at 1.0 once done.
 */
export function useProgress(
  db: SyncedDatabase<never> | SyncedDatabase,
  direction: ProgressDirection,
  mode: ProgressMode,
): SyncProgress | null {
  const [progress, setProgress] = useState<SyncProgress | null>(null);
  const session = (db as SyncedDatabase).syncSession;
  useEffect(() => {
    const stream = session.getProgressStream(direction, mode)[Symbol.asyncIterator]();
    let stopped = false;
    void (async () => {
      for (let r = await stream.next(); !r.done && !stopped; r = await stream.next()) {
        setProgress(r.value);
      }
    })().catch(() => undefined); // the stream's errors reach the session's error handler
    return () => {
      stopped = true;
      void stream.return?.();
    };
  }, [session, direction, mode]);
  return progress;
}
