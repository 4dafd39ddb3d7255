/**
 * The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a
 * commit is fsync'd before it returns. Integrations are group-committed: one
 * `BEGIN IMMEDIATE` transaction per group, a savepoint per integration.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GroupCommit } from '../group-commit.js';
import {
  documentKey,
  type IntegrationOutcome,
  type IntegrationPlan,
  type DownloadAck,
  type SessionExpectation,
  type SessionPage,
  type SessionPatch,
  type SyncStore,
} from '../port.js';
import type { DocumentKey, SessionRecord, StoredDocument } from '../../sync/model.js';
import { ANY, type ScopeCondition, type ScopeIndex } from '../../sync/scope-condition.js';
import { ensureSchema } from './schema.js';
import { ScopeScans } from './scope-scan.js';
import { SqliteStatements } from './statements.js';
import { toDocument, toHistory, toSession, type HistoryRow, type SessionRow } from './rows.js';

/**
 * The connection's page cache (SQLite's default is 2 MiB): integrations update documents
 * all over their B-tree and its indexes, and pages read back from the WAL or the file each
 * time cost more than the rows. Filled only as pages are used.
 */
const PAGE_CACHE_KIB = 32 * 1024;

interface Job {
  sessionId: string;
  keys: readonly DocumentKey[];
  plan: IntegrationPlan<unknown>;
}

type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * A group commit's transaction: one for the group (one fsync), each item in a savepoint of
 * its own, so one that fails is rolled back alone and gets its error as its outcome.
 */
function groupTransaction<I, O>(db: Database.Database, items: I[], run: (item: I) => O) {
  const one = db.transaction(run);
  const group = db.transaction((): Outcome<O>[] =>
    items.map((item) => {
      try {
        return { ok: true, value: one(item) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  return group.immediate();
}

export class SqliteStore implements SyncStore {
  readonly db: Database.Database;
  private readonly sql: SqliteStatements;
  private readonly scopes: ScopeScans;
  private readonly commits: GroupCommit<Job, IntegrationOutcome<unknown>>;
  private readonly opens: GroupCommit<SessionRecord, SessionRecord>;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    ensureSchema(this.db);
    this.sql = new SqliteStatements(this.db);
    this.scopes = new ScopeScans(this.db);
    this.commits = new GroupCommit((jobs) => Promise.resolve(this.runGroup(jobs)));
    this.opens = new GroupCommit((candidates) => Promise.resolve(this.openGroup(candidates)));
  }

  integrate<R>(sessionId: string, keys: readonly DocumentKey[], plan: IntegrationPlan<R>) {
    return this.commits.submit({ sessionId, keys, plan }) as Promise<IntegrationOutcome<R>>;
  }

  private runGroup(jobs: Job[]) {
    return groupTransaction(this.db, jobs, (job) => this.runJob(job));
  }

  private runJob(job: Job): IntegrationOutcome<unknown> {
    const row = this.sql.sessionById.get(job.sessionId) as SessionRow | undefined;
    if (!row) throw new Error(`session ${job.sessionId} vanished during integration`);
    const documents = new Map<string, StoredDocument>();
    for (const key of job.keys) {
      const doc = this.sql.getDocument(key);
      if (doc) documents.set(documentKey(doc), doc);
    }
    const writes = job.plan({ session: toSession(row), documents });
    const versions = new Map<string, number>();
    let last = 0;
    for (const h of writes.history) {
      last = this.sql.appendHistory(h);
      versions.set(documentKey(h), last);
    }
    for (const d of writes.documents) {
      this.sql.putDocument(
        d,
        versions.get(documentKey(d)) ?? documents.get(documentKey(d))?.version ?? 0,
      );
    }
    this.sql.patchUpload(job.sessionId, writes.session);
    return { result: writes.result, serverVersion: last || this.sql.latestVersion() };
  }

  /** Opened in groups, like integrations: sessions opened together share one commit. */
  openSession(candidate: SessionRecord): Promise<SessionRecord> {
    return this.opens.submit(candidate);
  }

  private openGroup(candidates: SessionRecord[]) {
    return groupTransaction(this.db, candidates, (candidate) => {
      const existing = this.sql.sessionByClient.get(candidate.clientId) as SessionRow | undefined;
      if (existing) return toSession(existing);
      this.sql.insertSession(candidate);
      return candidate;
    });
  }

  async getSessions(ids: readonly string[]) {
    return ids.map((id) => {
      const row = this.sql.sessionById.get(id) as SessionRow | undefined;
      return row && toSession(row);
    });
  }

  async updateSession(id: string, patch: SessionPatch, expect?: SessionExpectation) {
    if (!this.sql.patchSession(id, patch, expect)) return undefined;
    const row = this.sql.sessionById.get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  async listSessions(query: {
    userId?: string;
    after?: string;
    limit: number;
  }): Promise<SessionPage> {
    const rows = this.sql.listSessions(query.userId, query.after ?? '', query.limit + 1);
    return {
      sessions: rows.slice(0, query.limit).map(toSession),
      hasNextPage: rows.length > query.limit,
    };
  }

  async getDocuments(keys: readonly DocumentKey[]) {
    return keys.map((k) => this.sql.getDocument(k));
  }

  async scanDocuments(collection: string, afterId: string, limit: number, where?: ScopeCondition) {
    const rows = where
      ? this.scopes.byId(collection, where, afterId, limit)
      : this.sql.scanDocuments(collection, afterId, limit);
    return rows.map(toDocument);
  }

  /** Narrowed: one scan per collection (scope-scan.ts), merged by version. */
  async scanDocumentsByVersion(
    collections: readonly string[],
    afterVersion: number,
    upToVersion: number,
    limit: number,
    where?: ReadonlyMap<string, ScopeCondition>,
  ) {
    if (!where) {
      const rows = this.sql.scanDocumentsByVersion(collections, afterVersion, upToVersion, limit);
      return rows.map(toDocument);
    }
    const rows = [...new Set(collections)].flatMap((c) =>
      this.scopes.byVersion(c, where.get(c) ?? ANY, afterVersion, upToVersion, limit),
    );
    return rows
      .sort((a, b) => a.version - b.version)
      .slice(0, limit)
      .map(toDocument);
  }

  /** The index of each path, in any collection (its first column). */
  async ensureScopeIndexes(indexes: readonly ScopeIndex[]): Promise<void> {
    this.scopes.ensureIndexes(indexes.map((i) => i.path));
  }

  async readHistory(afterVersion: number, limit: number) {
    return (this.sql.historyAfter.all(afterVersion, limit) as HistoryRow[]).map(toHistory);
  }

  async compactHistory(before: string): Promise<number> {
    return this.sql.compactHistory(before);
  }

  async expireSessions(before: string): Promise<string[]> {
    return this.db.transaction(() => this.sql.expireSessions(before)).immediate();
  }

  async touchSessions(ids: readonly string[], at: string): Promise<void> {
    if (ids.length > 0) this.sql.touchSessions(ids, at);
  }

  /** In one transaction: one fsync for the whole group. */
  async acknowledgeDownloads(acks: readonly DownloadAck[], at: string): Promise<void> {
    if (acks.length === 0) return;
    this.db.transaction(() => this.sql.acknowledgeDownloads(acks, at)).immediate();
  }

  async latestVersion() {
    return this.sql.latestVersion();
  }

  async close(): Promise<void> {
    await Promise.all([this.commits.idle(), this.opens.idle()]);
    if (this.db.open) this.db.close();
  }
}
