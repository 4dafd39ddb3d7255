/** The typed client SDK of the GraphQL sync gateway. */
export { App, type AppOptions, type ConnectionState } from './app.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { CancellationToken } from './cancellation.js';
export { CancelledError, SyncClientError } from './errors.js';
export { LocalDatabase, type Doc, type WriteTransaction } from './local-database.js';
export { MemoryStorage, type Storage } from './storage.js';
export {
  SyncSession,
  type SessionState,
  type SyncProgress,
  type ConnectionStateChange,
} from './sync-session.js';
export { openSyncedDatabase, type SyncedDatabase } from './synced-database.js';
