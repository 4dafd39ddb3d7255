/**
 * `@graphql-sync-gateway/client/node`: durable storages for Node (they use the file system
 * and better-sqlite3, so the browser-safe entry does not export them).
 */
export { FileStorage } from './file-storage.js';
export { SqliteStorage, type SqliteStorageOptions } from './sqlite-storage.js';
