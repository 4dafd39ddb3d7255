/** The typed client SDK of the GraphQL sync gateway. */
export { App, type AppOptions, type ConnectionState } from './app.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { CancellationToken } from './cancellation.js';
export {
  type ClientResetConfig,
  type ClientResetMode,
  type ClientResetOutcome,
} from './client-reset.js';
export {
  AppClosedError,
  AuthenticationError,
  CancelledError,
  ChangesetRefusedError,
  ClientResetError,
  CompensatingWriteError,
  ConnectionLostError,
  SessionClosedError,
  SyncClientError,
  type CompensatingWrite,
} from './errors.js';
export {
  DEFAULT_LIMITS,
  LocalDatabase,
  type Collections,
  type WriteLimits,
  type Doc,
  type LocalSnapshot,
  type NameOf,
  type WriteTransaction,
} from './local-database.js';
export { LiveQuery, runQuery, type Filter, type QueryOptions } from './local-query.js';
export { IndexedDbStorage, StorageLockedError } from './indexeddb-storage.js';
export {
  MemoryStorage,
  type DatabaseState,
  type Direction,
  type LegacyStorage,
  type PendingChangeset,
  type RefusedChangeset,
  type Storage,
  type StorageCommit,
  type StoredChangeset,
  type StoredDoc,
  type StoredState,
  type SyncMeta,
} from './storage.js';
export {
  SyncSession,
  type SessionState,
  type SyncProgress,
  type ConnectionStateChange,
  type SyncSessionOptions,
} from './sync-session.js';
export { openSyncedDatabase, type OpenOptions, type SyncedDatabase } from './synced-database.js';
