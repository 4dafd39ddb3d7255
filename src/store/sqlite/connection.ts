/** A connection to the store's file, as every one of the store's connections is set up. */
import Database from 'better-sqlite3';

/**
 * The connection's page cache (SQLite's default is 2 MiB): integrations update documents
 * all over their B-tree and its indexes, and pages read back from the WAL or the file each
 * time cost more than the rows. Filled only as pages are used.
 */
const PAGE_CACHE_KIB = 32 * 1024;

/** WAL, commits fsync'd before they return, and a wait of up to 5 s for a busy file. */
export function openConnection(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
