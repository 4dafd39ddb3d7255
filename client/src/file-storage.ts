/**
 * Kept for source imports of 0.1 (`client/src/file-storage.js`); the package entry is
 * `@graphql-sync-gateway/client/node`.
 */
export { FileStorage } from './node/file-storage.js';
