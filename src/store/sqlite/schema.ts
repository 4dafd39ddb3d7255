/** The SQLite store's tables, created at open. `history.version` is never reused. */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  queries TEXT NOT NULL,
  rescope_from TEXT,
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
