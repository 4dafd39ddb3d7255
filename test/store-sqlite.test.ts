/** The store contract (test/store-contract.ts) against the SQLite adapter. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteSource } from '../src/store/sqlite/sqlite-source.js';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite/sqlite-store.js';
import { sessionRecord, storeContract, type StoreUnderTest } from './store-contract.js';

storeContract('SQLite :memory:', async () => {
  const store = new SqliteStore(':memory:');
  return { store, cleanup: () => store.close() };
});

/** A store on a file in a fresh directory, opened with `options`; reopened with them too. */
function onFile(options: SqliteStoreOptions) {
  return async (): Promise<StoreUnderTest> => {
    const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
    const path = join(dir, 'sub', 'sync.db');
    let current = new SqliteStore(path, options);
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = new SqliteStore(path, options);
        return current;
      },
      cleanup: async () => {
        await current.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

storeContract('SQLite file', onFile({}));
storeContract('SQLite file, writes on the writer thread', onFile({ writerThread: true }));

/** The tables as files written before `queries_version` and `documents_by_version` hold them. */
const TABLES_BEFORE_QUERIES_VERSION = `
CREATE TABLE documents (collection TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL,
  doc TEXT, version INTEGER NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID;
CREATE TABLE history (version INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL,
  id TEXT NOT NULL, client_id TEXT NOT NULL, client_version INTEGER NOT NULL, before TEXT,
  after TEXT, committed_at TEXT NOT NULL);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
  queries TEXT NOT NULL, rescope_from TEXT,
  last_integrated INTEGER NOT NULL DEFAULT 0, latest_client_version INTEGER NOT NULL DEFAULT 0,
  last_downloaded INTEGER NOT NULL DEFAULT 0, pause TEXT,
  uploaded_bytes INTEGER NOT NULL DEFAULT 0, pending_bytes INTEGER NOT NULL DEFAULT 0,
  upload_baseline_bytes INTEGER NOT NULL DEFAULT 0, last_synced_at TEXT NOT NULL,
  reset_required INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`;

describe('a SQLite file from before queries_version and documents_by_version', () => {
  it('gets the column and the index at open; its sessions read queriesVersion 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-upgrade-'));
    const path = join(dir, 'old.db');
    try {
      const old = new Database(path);
      old.exec(TABLES_BEFORE_QUERIES_VERSION);
      const s = sessionRecord('s1', 'c1');
      old
        .prepare(
          `INSERT INTO sessions (id, client_id, user_id, queries, last_synced_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          s.id,
          s.clientId,
          s.userId,
          JSON.stringify(s.queries),
          s.lastSyncedAt,
          s.createdAt,
          s.updatedAt,
        );
      old.close();
      // Read-only for `migrate`, the file is not upgraded, and still reads as 0.
      const source = SqliteSource.open(path);
      expect((await source.sessions('', 10))[0]).toEqual(s);
      source.close();

      const store = new SqliteStore(path);
      expect(await store.getSessions(['s1'])).toEqual([s]);
      expect(await store.updateSession('s1', { queriesVersion: 2 })).toEqual({
        ...s,
        queriesVersion: 2,
      });
      const index = store.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?")
        .get('documents_by_version');
      expect(index).toEqual({ name: 'documents_by_version' });
      await store.close();
      const again = new SqliteStore(path); // a second open finds everything in place
      expect((await again.getSessions(['s1']))[0]?.queriesVersion).toBe(2);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
