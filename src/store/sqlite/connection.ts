/** A connection to the store's file, as every one of the store's connections is set up. */
import Database from 'better-sqlite3';

/**
 * The connection's page cache (SQLite's default is 2 MiB): integrations update documents
 * all over their B-tree and its indexes, and pages read back from the WAL or the file each
 * time cost more than the rows. Filled only as pages are used.
 */
const PAGE_CACHE_KIB = 32 * 1024;

/**
 * WAL, commits fsync'd before they return (and checkpoints' copies before they count), and
 * a wait of up to 5 s for a busy file. Every connection's, the checkpointer thread's too.
 */
export const CONNECTION_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = FULL',
  'busy_timeout = 5000',
  `cache_size = -${PAGE_CACHE_KIB}`,
];

export function openConnection(path: string): Database.Database {
  const db = new Database(path);
  try {
    for (const pragma of CONNECTION_PRAGMAS) db.pragma(pragma);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
