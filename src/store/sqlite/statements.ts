/** Prepared statements of the SQLite store, compiled once per connection. */
import type Database from 'better-sqlite3';
import type {
  DocumentKey,
  DocumentState,
  HistoryEntry,
  JsonObject,
  SessionRecord,
} from '../../sync/model.js';
import type { DownloadAck, SessionExpectation, UploadSessionPatch } from '../port.js';
import { jsonOrNull, PATCH_BASE } from '../session-fields.js';
import { SESSION_COLUMNS, sessionToRow, toDocument, type DocumentRow } from './rows.js';

export class SqliteStatements {
  readonly sessionById;
  readonly sessionByClient;
  readonly historyAfter;
  private readonly insertSessionStmt;
  private readonly documentByKey;
  private readonly upsertDocument;
  private readonly insertHistory;
  private readonly latest;
  private readonly scanStmt;
  private readonly scanByVersionStmt;
  private readonly touchStmt;
  private readonly ackStmt;
  private readonly listAll;
  private readonly listByUser;
  private readonly uploadPatchStmt;

  constructor(private readonly db: Database.Database) {
    this.sessionById = db.prepare('SELECT * FROM sessions WHERE id = ?');
    this.sessionByClient = db.prepare('SELECT * FROM sessions WHERE client_id = ?');
    this.historyAfter = db.prepare(
      'SELECT * FROM history WHERE version > ? ORDER BY version LIMIT ?',
    );
    const columns = Object.keys(sessionToRow(PATCH_BASE));
    this.insertSessionStmt = db.prepare(
      `INSERT INTO sessions (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    this.documentByKey = db.prepare('SELECT * FROM documents WHERE collection = ? AND id = ?');
    this.upsertDocument = db.prepare(
      `INSERT INTO documents (collection, id, state, doc, version) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (collection, id) DO UPDATE SET state = excluded.state, doc = excluded.doc,
       version = excluded.version`,
    );
    this.insertHistory = db.prepare(
      `INSERT INTO history (collection, id, client_id, client_version, before, after, committed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.latest = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'history'").pluck();
    this.scanStmt = db.prepare(
      'SELECT * FROM documents WHERE collection = ? AND id > ? AND doc IS NOT NULL ORDER BY id LIMIT ?',
    );
    // One statement for any number of collections: they come as a JSON array.
    this.scanByVersionStmt = db.prepare(
      // By the version index: picking the primary key by collection would sort every page.
      `SELECT * FROM documents INDEXED BY documents_by_version WHERE version > ? AND version <= ? AND doc IS NOT NULL
       AND collection IN (SELECT value FROM json_each(?)) ORDER BY version LIMIT ?`,
    );
    this.touchStmt = db.prepare(
      'UPDATE sessions SET last_synced_at = ? WHERE id IN (SELECT value FROM json_each(?))',
    );
    this.ackStmt = db.prepare(
      `UPDATE sessions SET last_downloaded = MAX(last_downloaded, ?), last_synced_at = ?,
       updated_at = ? WHERE id = ?`,
    );
    this.uploadPatchStmt = db.prepare(
      `UPDATE sessions SET last_integrated = ?, latest_client_version = ?, uploaded_bytes = ?,
       pending_bytes = ?, upload_baseline_bytes = ?, last_synced_at = ? WHERE id = ?`,
    );
    this.listAll = db.prepare('SELECT * FROM sessions WHERE id > ? ORDER BY id LIMIT ?');
    this.listByUser = db.prepare(
      'SELECT * FROM sessions WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?',
    );
  }

  insertSession(s: SessionRecord): void {
    this.insertSessionStmt.run(sessionToRow(s));
  }

  /**
   * An integration's session fields, by one statement compiled once (every upload writes
   * the same ones); a field missing at run time takes the general path.
   */
  patchUpload(id: string, p: UploadSessionPatch): void {
    const values = [
      p.lastIntegratedClientVersion,
      p.latestClientVersion,
      p.uploadedBytes,
      p.pendingBytes,
      p.uploadBaselineBytes,
      p.lastSyncedAt,
    ];
    if (values.some((v) => v === undefined)) this.patchSession(id, p);
    else this.uploadPatchStmt.run(...values, id);
  }

  /** Patches the named fields, if the session holds what `expect` names; false if not. */
  patchSession(id: string, patch: Partial<SessionRecord>, expect: SessionExpectation = {}) {
    const row = sessionToRow({ ...PATCH_BASE, ...patch } as SessionRecord);
    const columns = (Object.keys(patch) as (keyof SessionRecord)[])
      .filter((key) => patch[key] !== undefined && key in SESSION_COLUMNS)
      .map((key) => SESSION_COLUMNS[key as keyof typeof SESSION_COLUMNS]);
    const { where, params } = expectation(expect);
    if (columns.length === 0) return this.holds(id, where, params);
    // The download acknowledgement never moves back, whatever order acks arrive in.
    const set = (c: string) =>
      c === 'last_downloaded' ? `${c} = MAX(${c}, @${c})` : `${c} = @${c}`;
    const sets = columns.map(set).join(', ');
    const values = Object.fromEntries(columns.map((c) => [c, row[c]]));
    return this.patchStatement(sets, where).run({ ...values, ...params, id }).changes > 0;
  }

  /** Whether the session exists and holds what the conditions name. */
  private holds(id: string, where: string, params: Record<string, string | null>): boolean {
    const sql = `SELECT 1 FROM sessions WHERE id = @id${where}`;
    return this.db.prepare(sql).get({ ...params, id }) !== undefined;
  }

  private readonly patches = new Map<string, Database.Statement>();

  /** One prepared UPDATE per set of columns and conditions, compiled on first use. */
  private patchStatement(sets: string, where: string): Database.Statement {
    const key = `${sets} WHERE ${where}`;
    let statement = this.patches.get(key);
    if (!statement) {
      statement = this.db.prepare(`UPDATE sessions SET ${sets} WHERE id = @id${where}`);
      this.patches.set(key, statement);
    }
    return statement;
  }

  getDocument(key: DocumentKey) {
    const row = this.documentByKey.get(key.collection, key.id) as DocumentRow | undefined;
    return row && toDocument(row);
  }

  putDocument(
    d: { collection: string; id: string; state: DocumentState; doc: JsonObject | null },
    version: number,
  ): void {
    this.upsertDocument.run(
      d.collection,
      d.id,
      JSON.stringify(d.state),
      jsonOrNull(d.doc),
      version,
    );
  }

  appendHistory(h: Omit<HistoryEntry, 'version'>): number {
    const info = this.insertHistory.run(
      h.collection,
      h.id,
      h.clientId,
      h.clientVersion,
      jsonOrNull(h.before),
      jsonOrNull(h.after),
      h.committedAt,
    );
    return Number(info.lastInsertRowid);
  }

  compactHistory(before: string): number {
    return this.db.prepare('DELETE FROM history WHERE committed_at < ?').run(before).changes;
  }

  expireSessions(before: string): string[] {
    const ids = this.db
      .prepare(
        'SELECT id FROM sessions WHERE closed = 0 AND reset_required = 0 AND last_synced_at < ?',
      )
      .pluck()
      .all(before) as string[];
    const mark = this.db.prepare('UPDATE sessions SET reset_required = 1 WHERE id = ?');
    for (const id of ids) mark.run(id);
    return ids;
  }

  latestVersion(): number {
    return (this.latest.get() as number | undefined) ?? 0;
  }

  scanDocuments(collection: string, afterId: string, limit: number): DocumentRow[] {
    return this.scanStmt.all(collection, afterId, limit) as DocumentRow[];
  }

  scanDocumentsByVersion(
    collections: readonly string[],
    afterVersion: number,
    upToVersion: number,
    limit: number,
  ): DocumentRow[] {
    const names = JSON.stringify(collections);
    return this.scanByVersionStmt.all(afterVersion, upToVersion, names, limit) as DocumentRow[];
  }

  touchSessions(ids: readonly string[], at: string): void {
    this.touchStmt.run(at, JSON.stringify(ids));
  }

  /** Each acknowledgement moves its session's download position up (never back). */
  acknowledgeDownloads(acks: readonly DownloadAck[], at: string): void {
    for (const a of acks) this.ackStmt.run(a.version, at, at, a.sessionId);
  }

  listSessions(userId: string | undefined, after: string, limit: number) {
    const rows =
      userId === undefined
        ? this.listAll.all(after, limit)
        : this.listByUser.all(userId, after, limit);
    return rows as import('./rows.js').SessionRow[];
  }
}

/** The SQL conditions of an expectation, compared with the stored JSON text. */
function expectation(expect: SessionExpectation) {
  const params: Record<string, string | null> = {};
  let where = '';
  if (expect.queries !== undefined) {
    where += ' AND queries = @x_queries';
    params.x_queries = JSON.stringify(expect.queries);
  }
  if (expect.rescopeFrom !== undefined) {
    where += ' AND rescope_from IS @x_rescope_from';
    params.x_rescope_from = jsonOrNull(expect.rescopeFrom);
  }
  if (expect.pauseUntil !== undefined) {
    where += " AND json_extract(pause, '$.until') = @x_pause_until";
    params.x_pause_until = expect.pauseUntil;
  }
  return { where, params };
}
