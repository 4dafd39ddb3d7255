/** Prepared statements of the SQLite store, compiled once per connection. */
import type Database from 'better-sqlite3';
import type {
  DocumentKey,
  DocumentState,
  HistoryEntry,
  JsonObject,
  SessionRecord,
} from '../../sync/model.js';
import { toDocument, type DocumentRow } from './rows.js';

const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

export class SqliteStatements {
  readonly sessionById;
  readonly sessionByClient;
  readonly setIntegrated;
  readonly historyAfter;
  private readonly insertSessionStmt;
  private readonly documentByKey;
  private readonly upsertDocument;
  private readonly insertHistory;
  private readonly latest;
  private readonly scanStmt;
  private readonly listAll;
  private readonly listByUser;

  constructor(private readonly db: Database.Database) {
    this.sessionById = db.prepare('SELECT * FROM sessions WHERE id = ?');
    this.sessionByClient = db.prepare('SELECT * FROM sessions WHERE client_id = ?');
    this.setIntegrated = db.prepare('UPDATE sessions SET last_integrated = ? WHERE id = ?');
    this.historyAfter = db.prepare(
      'SELECT * FROM history WHERE version > ? ORDER BY version LIMIT ?',
    );
    this.insertSessionStmt = db.prepare(
      `INSERT INTO sessions (id, client_id, user_id, queries, last_integrated, last_downloaded,
        closed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.documentByKey = db.prepare('SELECT * FROM documents WHERE collection = ? AND id = ?');
    this.upsertDocument = db.prepare(
      `INSERT INTO documents (collection, id, state, doc, version) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (collection, id) DO UPDATE SET state = excluded.state, doc = excluded.doc,
       version = excluded.version`,
    );
    this.insertHistory = db.prepare(
      `INSERT INTO history (collection, id, client_id, client_version, before, after)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.latest = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'history'").pluck();
    this.scanStmt = db.prepare(
      'SELECT * FROM documents WHERE collection = ? AND id > ? AND doc IS NOT NULL ORDER BY id LIMIT ?',
    );
    this.listAll = db.prepare('SELECT * FROM sessions WHERE id > ? ORDER BY id LIMIT ?');
    this.listByUser = db.prepare(
      'SELECT * FROM sessions WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?',
    );
  }

  insertSession(s: SessionRecord): void {
    this.insertSessionStmt.run(
      s.id,
      s.clientId,
      s.userId,
      JSON.stringify(s.queries),
      s.lastIntegratedClientVersion,
      s.lastDownloadedServerVersion,
      s.closed ? 1 : 0,
      s.createdAt,
      s.updatedAt,
    );
  }

  patchSession(id: string, patch: Partial<SessionRecord>): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    const add = (column: string, value: unknown) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.queries) add('queries', JSON.stringify(patch.queries));
    if (patch.rescopeFrom !== undefined) add('rescope_from', json(patch.rescopeFrom));
    if (patch.lastDownloadedServerVersion !== undefined)
      add('last_downloaded', patch.lastDownloadedServerVersion);
    if (patch.closed !== undefined) add('closed', patch.closed ? 1 : 0);
    if (patch.updatedAt) add('updated_at', patch.updatedAt);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE sessions SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  getDocument(key: DocumentKey) {
    const row = this.documentByKey.get(key.collection, key.id) as DocumentRow | undefined;
    return row && toDocument(row);
  }

  putDocument(
    d: { collection: string; id: string; state: DocumentState; doc: JsonObject | null },
    version: number,
  ): void {
    this.upsertDocument.run(d.collection, d.id, JSON.stringify(d.state), json(d.doc), version);
  }

  appendHistory(h: Omit<HistoryEntry, 'version'>): number {
    const info = this.insertHistory.run(
      h.collection,
      h.id,
      h.clientId,
      h.clientVersion,
      json(h.before),
      json(h.after),
    );
    return Number(info.lastInsertRowid);
  }

  latestVersion(): number {
    return (this.latest.get() as number | undefined) ?? 0;
  }

  scanDocuments(collection: string, afterId: string, limit: number): DocumentRow[] {
    return this.scanStmt.all(collection, afterId, limit) as DocumentRow[];
  }

  listSessions(userId: string | undefined, after: string, limit: number) {
    const rows =
      userId === undefined
        ? this.listAll.all(after, limit)
        : this.listByUser.all(userId, after, limit);
    return rows as import('./rows.js').SessionRow[];
  }
}
