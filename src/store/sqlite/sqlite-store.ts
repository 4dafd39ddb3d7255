/**
 * The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a
 * commit is fsync'd before it returns. Integrations are group-committed: one
 * `BEGIN IMMEDIATE` transaction per group, a savepoint per integration. With `deferredSync`
 * (one gateway only), a group's fsync runs off the event loop instead (wal-sync.ts), and
 * every call waits while a commit is not yet durable.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GroupCommit } from '../../streams/group-commit.js';
import {
  documentKey,
  type IntegrationOutcome,
  type IntegrationPlan,
  type DownloadAck,
  type GroupCommitObserver,
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
import { WalSync, type FileSync } from './wal-sync.js';

export interface SqliteStoreOptions {
  /**
   * Integration groups commit without an fsync on the event loop: the WAL is synced on the
   * threadpool before they are acknowledged, and the store answers nothing meanwhile (see
   * wal-sync.ts). Only for a file no other process reads: not with --multi-gateway.
   */
  deferredSync?: boolean;
  /** How the WAL is synced (fdatasync); tests replace it. */
  walSync?: FileSync;
}

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
  /** The WAL's sync off the event loop, with `deferredSync`; null: every commit fsyncs. */
  private readonly wal: WalSync | null;

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    ensureSchema(this.db);
    this.sql = new SqliteStatements(this.db);
    this.scopes = new ScopeScans(this.db);
    const deferred = options.deferredSync === true && path !== ':memory:';
    try {
      this.wal = deferred ? new WalSync(path, options.walSync) : null;
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.commits = new GroupCommit((jobs) => this.commitGroup(jobs));
    this.opens = new GroupCommit(async (candidates) => {
      while (this.wal?.busy) await this.wal.settled();
      return this.openGroup(candidates);
    });
  }

  integrate<R>(sessionId: string, keys: readonly DocumentKey[], plan: IntegrationPlan<R>) {
    return this.commits.submit({ sessionId, keys, plan }) as Promise<IntegrationOutcome<R>>;
  }

  /**
   * One group: fsync'd inside its COMMIT; or, with `deferredSync`, committed without and
   * settled once the WAL's sync off the event loop is done (the next group waits for it).
   */
  private async commitGroup(jobs: Job[]) {
    const wal = this.wal;
    if (!wal) return this.runGroup(jobs);
    while (wal.busy) await wal.settled();
    return wal.commit(() => {
      this.db.exec('PRAGMA synchronous = NORMAL');
      try {
        return this.runGroup(jobs);
      } finally {
        this.restoreFullSync(wal);
      }
    });
  }

  /** Back to fsync'd commits for everything else; a connection left without is unusable. */
  private restoreFullSync(wal: WalSync): void {
    try {
      this.db.exec('PRAGMA synchronous = FULL');
    } catch (error) {
      throw wal.fail(error);
    }
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
    while (this.wal?.busy) await this.wal.settled();
    return ids.map((id) => {
      const row = this.sql.sessionById.get(id) as SessionRow | undefined;
      return row && toSession(row);
    });
  }

  async updateSession(id: string, patch: SessionPatch, expect?: SessionExpectation) {
    while (this.wal?.busy) await this.wal.settled();
    if (!this.sql.patchSession(id, patch, expect)) return undefined;
    const row = this.sql.sessionById.get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  async listSessions(query: {
    userId?: string;
    after?: string;
    limit: number;
  }): Promise<SessionPage> {
    while (this.wal?.busy) await this.wal.settled();
    const rows = this.sql.listSessions(query.userId, query.after ?? '', query.limit + 1);
    return {
      sessions: rows.slice(0, query.limit).map(toSession),
      hasNextPage: rows.length > query.limit,
    };
  }

  async getDocuments(keys: readonly DocumentKey[]) {
    while (this.wal?.busy) await this.wal.settled();
    return keys.map((k) => this.sql.getDocument(k));
  }

  async scanDocuments(collection: string, afterId: string, limit: number, where?: ScopeCondition) {
    while (this.wal?.busy) await this.wal.settled();
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
    while (this.wal?.busy) await this.wal.settled();
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
    while (this.wal?.busy) await this.wal.settled();
    this.scopes.ensureIndexes(indexes.map((i) => i.path));
  }

  async readHistory(afterVersion: number, limit: number) {
    while (this.wal?.busy) await this.wal.settled();
    return (this.sql.historyAfter.all(afterVersion, limit) as HistoryRow[]).map(toHistory);
  }

  async compactHistory(before: string): Promise<number> {
    while (this.wal?.busy) await this.wal.settled();
    return this.sql.compactHistory(before);
  }

  async expireSessions(before: string): Promise<string[]> {
    while (this.wal?.busy) await this.wal.settled();
    return this.db.transaction(() => this.sql.expireSessions(before)).immediate();
  }

  async touchSessions(ids: readonly string[], at: string): Promise<void> {
    while (this.wal?.busy) await this.wal.settled();
    if (ids.length > 0) this.sql.touchSessions(ids, at);
  }

  /** In one transaction: one fsync for the whole group. */
  async acknowledgeDownloads(acks: readonly DownloadAck[], at: string): Promise<void> {
    while (this.wal?.busy) await this.wal.settled();
    if (acks.length === 0) return;
    this.db.transaction(() => this.sql.acknowledgeDownloads(acks, at)).immediate();
  }

  async latestVersion() {
    while (this.wal?.busy) await this.wal.settled();
    return this.sql.latestVersion();
  }

  observeGroupCommits(observer: GroupCommitObserver): void {
    this.commits.observer = observer;
  }

  async close(): Promise<void> {
    await Promise.all([this.commits.idle(), this.opens.idle()]);
    if (this.db.open) {
      this.wal?.close();
      this.db.close();
    }
  }
}
