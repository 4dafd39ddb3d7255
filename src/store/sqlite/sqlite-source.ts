/**
 * A SQLite store file read for `sync-gateway migrate`: opened read-only, and read inside one
 * read transaction, so every page comes from the same snapshot even if a gateway is still
 * writing (WAL readers see the database as of their first read:
 * https://www.sqlite.org/wal.html#concurrency). Once the snapshot is taken, the WAL is
 * fsync'd: a gateway with deferred sync (wal-sync.ts) may have committed a group whose sync
 * is still running, and nothing exported may be lost to a power cut afterwards.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { MigrationError, type ExportSource, type MigrationStage } from '../migrate.js';
import type { DocumentKey } from '../../sync/model.js';
import { toDocument, toHistory, toSession } from './rows.js';
import type { DocumentRow, HistoryRow, SessionRow } from './rows.js';

const TABLES = ['sessions', 'documents', 'history'] as const;

export class SqliteSource implements ExportSource {
  private readonly db: Database.Database;

  private constructor(readonly description: string) {
    this.db = new Database(description, { readonly: true, fileMustExist: true });
  }

  /**
   * Opens the file, refusing one that does not exist or holds no gateway store. Described by
   * its absolute path, so a copy resumed from another directory is known as the same.
   */
  static open(path: string): SqliteSource {
    if (!existsSync(path)) throw new MigrationError(`--from: no SQLite file at ${path}`);
    const source = new SqliteSource(resolve(path));
    try {
      source.assertStore();
      source.db.exec('BEGIN');
      source.makeSnapshotDurable();
      return source;
    } catch (error) {
      source.close();
      throw error;
    }
  }

  /** Starts the read transaction's snapshot, then syncs the WAL it may read from. */
  private makeSnapshotDurable(): void {
    this.db.prepare('SELECT count(*) FROM sqlite_master').get();
    let fd: number;
    try {
      // Windows flushes only a file opened for writing.
      fd = openSync(`${this.description}-wal`, process.platform === 'win32' ? 'r+' : 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: nothing pending
      throw error;
    }
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private assertStore(): void {
    const names = this.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row.name);
    const missing = TABLES.filter((table) => !names.includes(table));
    if (missing.length > 0) {
      throw new MigrationError(
        `--from: ${this.description} is not a sync gateway store (no ${missing.join(', ')} table)`,
      );
    }
  }

  counts(): Promise<Record<MigrationStage, number>> {
    const count = (table: string) =>
      this.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
    return Promise.resolve({
      sessions: count('sessions'),
      documents: count('documents'),
      history: count('history'),
    });
  }

  sessions(afterId: string, limit: number) {
    const rows = this.db
      .prepare<[string, number], SessionRow>(
        'SELECT * FROM sessions WHERE id > ? ORDER BY id LIMIT ?',
      )
      .all(afterId, limit);
    return Promise.resolve(rows.map(toSession));
  }

  documents(after: DocumentKey | null, limit: number) {
    const rows = this.db
      .prepare<[string, string, number], DocumentRow>(
        `SELECT * FROM documents WHERE (collection, id) > (?, ?)
         ORDER BY collection, id LIMIT ?`,
      )
      .all(after?.collection ?? '', after?.id ?? '', limit);
    return Promise.resolve(rows.map(toDocument));
  }

  history(afterVersion: number, limit: number) {
    const rows = this.db
      .prepare<[number, number], HistoryRow>(
        'SELECT * FROM history WHERE version > ? ORDER BY version LIMIT ?',
      )
      .all(afterVersion, limit);
    return Promise.resolve(rows.map(toHistory));
  }

  /** AUTOINCREMENT's high-water mark, which compaction does not lower. */
  lastVersion(): Promise<number> {
    const seq = this.db
      .prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'history'")
      .get();
    const max = this.db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM history');
    return Promise.resolve(Math.max(seq?.seq ?? 0, max.get()?.v ?? 0));
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.close();
  }
}
