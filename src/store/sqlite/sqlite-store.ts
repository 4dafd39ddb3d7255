/**
 * The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a
 * commit is fsync'd before it returns. Integrations are group-committed: one
 * `BEGIN IMMEDIATE` transaction per group, a savepoint per integration. The writes run on
 * a writer thread of their own (`writerThread`, writer-thread.ts), with checkpoints on a
 * third (checkpointer.ts), the store's connection then only reads; or on that connection,
 * where with `deferredSync` (one gateway only) a group's fsync runs off the event loop
 * instead (wal-sync.ts), and every call waits while a commit is not yet durable.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { GroupCommit } from '../../streams/group-commit.js';
import type {
  IntegrationOutcome,
  IntegrationPlan,
  DownloadAck,
  GroupCommitObserver,
  SessionExpectation,
  SessionPage,
  SessionPatch,
  SyncStore,
} from '../port.js';
import type { DocumentKey, SessionRecord } from '../../sync/model.js';
import { ANY, type ScopeCondition, type ScopeIndex } from '../../sync/scope-condition.js';
import { openConnection } from './connection.js';
import { ensureSchema } from './schema.js';
import { ScopeScans } from './scope-scan.js';
import type { IntegrationJob } from './sqlite-writes.js';
import { SqliteStatements } from './statements.js';
import { LocalWriter, ThreadWriter, type StoreWriter } from './store-writer.js';
import type { CheckpointOptions } from './checkpointer.js';
import { toDocument, toHistory, toSession, type HistoryRow, type SessionRow } from './rows.js';
import { WalSync, type FileSync } from './wal-sync.js';

export interface SqliteStoreOptions {
  /**
   * Every write runs on a thread of its own, which owns the only writing connection: a
   * group's SQL and fsync no longer hold the event loop. Ignored for ':memory:' (a second
   * connection would open another database). Integration plans must carry their source.
   */
  writerThread?: boolean;
  /**
   * Integration groups commit without an fsync on the event loop: the WAL is synced on the
   * threadpool before they are acknowledged, and the store answers nothing meanwhile (see
   * wal-sync.ts). Only for a file no other process reads: not with --multi-gateway. Not
   * with `writerThread`, whose fsyncs are off the event loop already.
   */
  deferredSync?: boolean;
  /** How the WAL is synced (fdatasync); tests replace it. */
  walSync?: FileSync;
  /** With `writerThread`: when the writer and the checkpointer thread checkpoint. */
  checkpoints?: CheckpointOptions;
  /** Told of failures of background work that the store outlives (the checkpointer thread). */
  onError?: (error: Error) => void;
}

/**
 * Where the writes run: the writer thread, or this connection (with its WAL sync, if
 * deferred), sharing the store's statements `sql` on it.
 */
function writerOf(
  db: Database.Database,
  sql: SqliteStatements,
  path: string,
  options: SqliteStoreOptions,
): StoreWriter {
  const inFile = path !== ':memory:';
  if (options.writerThread && options.deferredSync) {
    throw new Error('SqliteStore: deferredSync and writerThread exclude each other');
  }
  if (options.writerThread && inFile) {
    return new ThreadWriter(path, options.checkpoints, options.onError);
  }
  const deferred = options.deferredSync === true && inFile;
  return new LocalWriter(db, sql, deferred ? new WalSync(path, options.walSync) : null);
}

export class SqliteStore implements SyncStore {
  /** The store's connection: every read; every write too, without the writer thread. */
  readonly db: Database.Database;
  private readonly sql: SqliteStatements;
  private readonly scopes: ScopeScans;
  private readonly writer: StoreWriter;
  private readonly commits: GroupCommit<IntegrationJob, IntegrationOutcome<unknown>>;
  private readonly opens: GroupCommit<SessionRecord, SessionRecord>;

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = openConnection(path);
    try {
      ensureSchema(this.db);
      this.sql = new SqliteStatements(this.db);
      this.scopes = new ScopeScans(this.db);
      this.writer = writerOf(this.db, this.sql, path, options);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.commits = new GroupCommit(
      (jobs) => this.writer.integrateGroup(jobs),
      undefined,
      this.writer.groupsInFlight,
    );
    this.opens = new GroupCommit((candidates) => this.writer.openGroup(candidates));
  }

  integrate<R>(sessionId: string, keys: readonly DocumentKey[], plan: IntegrationPlan<R>) {
    return this.commits.submit({ sessionId, keys, plan }) as Promise<IntegrationOutcome<R>>;
  }

  /** Opened in groups, like integrations: sessions opened together share one commit. */
  openSession(candidate: SessionRecord): Promise<SessionRecord> {
    return this.opens.submit(candidate);
  }

  async getSessions(ids: readonly string[]) {
    await this.writer.readable();
    return ids.map((id) => {
      const row = this.sql.sessionById.get(id) as SessionRow | undefined;
      return row && toSession(row);
    });
  }

  updateSession(id: string, patch: SessionPatch, expect?: SessionExpectation) {
    return this.writer.write('updateSession', id, patch, expect);
  }

  async listSessions(query: {
    userId?: string;
    after?: string;
    limit: number;
  }): Promise<SessionPage> {
    await this.writer.readable();
    const rows = this.sql.listSessions(query.userId, query.after ?? '', query.limit + 1);
    return {
      sessions: rows.slice(0, query.limit).map(toSession),
      hasNextPage: rows.length > query.limit,
    };
  }

  async getDocuments(keys: readonly DocumentKey[]) {
    await this.writer.readable();
    return keys.map((k) => this.sql.getDocument(k));
  }

  async scanDocuments(collection: string, afterId: string, limit: number, where?: ScopeCondition) {
    await this.writer.readable();
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
    await this.writer.readable();
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
    const missing = this.scopes.missingIndexes(indexes.map((i) => i.path));
    if (missing.length === 0) return;
    await this.writer.write('createScopeIndexes', missing);
    this.scopes.indexesCreated(missing);
  }

  async readHistory(afterVersion: number, limit: number) {
    await this.writer.readable();
    return (this.sql.historyAfter.all(afterVersion, limit) as HistoryRow[]).map(toHistory);
  }

  compactHistory(before: string): Promise<number> {
    return this.writer.write('compactHistory', before);
  }

  expireSessions(before: string): Promise<string[]> {
    return this.writer.write('expireSessions', before);
  }

  async touchSessions(ids: readonly string[], at: string): Promise<void> {
    if (ids.length > 0) await this.writer.write('touchSessions', ids, at);
  }

  /** In one transaction: one fsync for the whole group. */
  async acknowledgeDownloads(acks: readonly DownloadAck[], at: string): Promise<void> {
    if (acks.length > 0) await this.writer.write('acknowledgeDownloads', acks, at);
  }

  async latestVersion() {
    await this.writer.readable();
    return this.sql.latestVersion();
  }

  observeGroupCommits(observer: GroupCommitObserver): void {
    this.commits.observer = observer;
  }

  async close(): Promise<void> {
    await Promise.all([this.commits.idle(), this.opens.idle()]);
    if (this.db.open) {
      await this.writer.close();
      this.db.close();
    }
  }
}
