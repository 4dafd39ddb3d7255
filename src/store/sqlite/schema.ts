import type Database from 'better-sqlite3';

/** The SQLite store's tables, created at open. `history.version` is never reused. */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  queries TEXT NOT NULL,
  rescope_from TEXT,
  queries_version INTEGER NOT NULL DEFAULT 0,
  last_integrated INTEGER NOT NULL DEFAULT 0,
  latest_client_version INTEGER NOT NULL DEFAULT 0,
  last_downloaded INTEGER NOT NULL DEFAULT 0,
  pause TEXT,
  uploaded_bytes INTEGER NOT NULL DEFAULT 0,
  pending_bytes INTEGER NOT NULL DEFAULT 0,
  upload_baseline_bytes INTEGER NOT NULL DEFAULT 0,
  last_synced_at TEXT NOT NULL,
  reset_required INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, id);
CREATE TABLE IF NOT EXISTS documents (
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  doc TEXT,
  version INTEGER NOT NULL,
  PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS documents_by_version ON documents (version);
CREATE TABLE IF NOT EXISTS history (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  client_version INTEGER NOT NULL,
  before TEXT,
  after TEXT,
  committed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (committed_at);
`;

/** Columns added after the first release: a file that lacks one gets it at open. */
const ADDED_COLUMNS = [
  { table: 'sessions', column: 'queries_version', definition: 'INTEGER NOT NULL DEFAULT 0' },
] as const;

/**
 * Creates what is missing (tables, indexes, added columns), in one write transaction, so
 * gateways opening the same file at once do not both add a column.
 */
export function ensureSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(SQLITE_SCHEMA);
    for (const { table, column, definition } of ADDED_COLUMNS) {
      const columns = db.pragma(`table_info(${table})`) as { name: string }[];
      if (columns.some((c) => c.name === column)) continue;
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
  }).immediate();
}
