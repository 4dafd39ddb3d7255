/**
 * The production store: MongoDB through the official driver, on a replica set (transactions
 * and change streams need one). Integrations are group-committed: those queued in one turn
 * of the event loop run in one transaction with majority read and write concern
 * (concerns.ts), so they are acknowledged only once a majority of members has them durably
 * (journaled: https://www.mongodb.com/docs/manual/reference/write-concern/#acknowledgment-behavior).
 * Groups of this process run one at a time, in submission order; groups from other
 * gateways are ordered by MongoDB itself (see group-transaction.ts).
 */
import { MongoClient, MongoServerError, ReadConcern } from 'mongodb';
import type { Db, Document } from 'mongodb';
import { GroupCommit } from '../../streams/group-commit.js';
import { MigrationError } from '../migrate.js';
import type { IntegrationOutcome, IntegrationPlan } from '../port.js';
import type {
  DownloadAck,
  GroupCommitObserver,
  SessionExpectation,
  SessionPage,
  SessionPatch,
  SyncStore,
} from '../port.js';
import type { DocumentKey, SessionRecord } from '../../sync/model.js';
import type { ScopeCondition, ScopeIndex } from '../../sync/scope-condition.js';
import { ensureCollections, HISTORY_COUNTER, syncCollections } from './collections.js';
import type { SyncCollections } from './collections.js';
import { MAJORITY_WRITES, TRANSACTION } from './concerns.js';
import { readDocuments, scanDocuments, scanDocumentsByVersion, take } from './documents.js';
import type { ReadIn } from './documents.js';
import type { GroupJob } from './group-plan.js';
import { integrateGroup } from './group-transaction.js';
import { sessionFilter, sessionToDoc, sessionUpdate, toHistory, toSession } from './rows.js';
import { scanScopeByVersion } from './scope-documents.js';
import { ScopeIndexes } from './scope-indexes.js';
import { conditionFilter } from './scope-query.js';

export const REPLICA_SET_REQUIRED =
  'The MongoDB store needs a replica set: it uses multi-document transactions and change ' +
  'streams, which a standalone mongod does not support. Start mongod with --replSet rs0 and ' +
  'run rs.initiate() once in mongosh (one member is enough for development), or use MongoDB ' +
  'Atlas; then set MONGODB_URI to it, e.g. mongodb://localhost:27017/?replicaSet=rs0.';

/**
 * Throws unless the `hello` reply comes from a replica set member (`setName`) or from a
 * mongos in front of replica-set shards (`msg: "isdbgrid"`), which support transactions and
 * change streams too (https://www.mongodb.com/docs/manual/reference/command/hello/).
 */
export function assertReplicaSet(hello: Document): void {
  if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') return;
  throw new Error(REPLICA_SET_REQUIRED);
}

/**
 * A connected client and the gateway's database, with majority reads and writes (that time
 * out: concerns.ts) by default, after checking it is a replica set and ensuring the
 * collections and their indexes.
 */
export async function connectDatabase(
  uri: string,
  dbName: string | undefined,
): Promise<{ client: MongoClient; db: Db }> {
  // ignoreUndefined: an undefined field is left out, as JSON.stringify does in the SQLite store;
  // bsonRegExp: regular expressions are read as MongoDB holds them (json-values.ts).
  const client = new MongoClient(uri, { ignoreUndefined: true, bsonRegExp: true });
  try {
    await client.connect();
    assertReplicaSet(await client.db('admin').command({ hello: 1 }));
    const readConcern = new ReadConcern('majority');
    const db = client.db(dbName, { writeConcern: MAJORITY_WRITES, readConcern });
    await ensureCollections(db);
    return { client, db };
  } catch (error) {
    await client.close();
    throw error;
  }
}

async function assertNoUnfinishedMigration(cols: SyncCollections): Promise<void> {
  const unfinished = await cols.migrations.findOne({ finishedAt: null });
  if (!unfinished) return;
  throw new MigrationError(
    `this database holds an unfinished copy from ${unfinished.source} (started ` +
      `${unfinished.startedAt}); run "sync-gateway migrate" again to finish it before starting`,
  );
}

/** MongoDB's duplicate key error (https://www.mongodb.com/docs/manual/reference/error-codes/). */
const isDuplicateKey = (error: unknown) =>
  error instanceof MongoServerError && error.code === 11000;

export class MongoStore implements SyncStore {
  private readonly commits: GroupCommit<GroupJob, IntegrationOutcome<unknown>>;
  private closed = false;
  private readonly scopeIndexes: ScopeIndexes;

  private constructor(
    private readonly client: MongoClient,
    /** With majority reads and writes by default outside transactions. */
    private readonly cols: SyncCollections,
    /** The database, for the gateway's change streams (signals, backend writes). */
    readonly db: Db,
  ) {
    this.scopeIndexes = new ScopeIndexes(cols);
    this.commits = new GroupCommit((jobs) => this.runGroup(jobs));
  }

  /**
   * Connects, refuses anything but a replica set (or mongos) and a database an unfinished
   * `sync-gateway migrate` is still copying into, and ensures the collections.
   */
  static async connect(uri: string, options: { dbName?: string } = {}): Promise<MongoStore> {
    const { client, db } = await connectDatabase(uri, options.dbName);
    try {
      const cols = syncCollections(db);
      await assertNoUnfinishedMigration(cols);
      return new MongoStore(client, cols, db);
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the MongoDB store is closed');
  }

  /** The collections, for an operation started while the store is open. */
  private get c(): SyncCollections {
    this.assertOpen();
    return this.cols;
  }

  integrate<R>(sessionId: string, keys: readonly DocumentKey[], plan: IntegrationPlan<R>) {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.commits.submit({ sessionId, keys, plan }) as Promise<IntegrationOutcome<R>>;
  }

  /**
   * One transaction for the group; withTransaction runs it again from its reads (plans
   * included: plans are pure) on a TransientTransactionError such as a write conflict with
   * another gateway, aborts it and rethrows any other error, and resolves only after the
   * commit (https://www.mongodb.com/docs/drivers/node/current/crud/transactions/). A plan's
   * own error is its integration's outcome, not the group's.
   */
  private async runGroup(jobs: GroupJob[]) {
    const session = this.client.startSession();
    try {
      return await session.withTransaction((s) => integrateGroup(this.cols, jobs, s), TRANSACTION);
    } finally {
      await session.endSession();
    }
  }

  /**
   * One round trip: `$setOnInsert` creates the session only when its client has none. Two
   * concurrent upserts may race on the unique clientId index; the loser gets a duplicate key
   * error, and trying again matches the winner's session (https://www.mongodb.com/docs/manual/reference/method/db.collection.findOneAndUpdate/#upsert-with-unique-index).
   * A duplicate session id of another client fails again, and its error is thrown.
   */
  async openSession(candidate: SessionRecord): Promise<SessionRecord> {
    const { clientId, ...insert } = sessionToDoc(candidate);
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.c.sessions.findOneAndUpdate(
          { clientId },
          { $setOnInsert: insert },
          { upsert: true, returnDocument: 'after' },
        );
        if (!row) throw new Error(`no session after upserting client ${clientId}`);
        return toSession(row);
      } catch (error) {
        if (attempt >= 3 || !isDuplicateKey(error)) throw error;
      }
    }
  }

  async getSessions(ids: readonly string[]) {
    const rows = await this.c.sessions.find({ _id: { $in: [...ids] } }).toArray();
    const byId = new Map(rows.map((r) => [r._id, r]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row && toSession(row);
    });
  }

  /** One findOneAndUpdate: the expectation is part of its filter, so it is atomic. */
  async updateSession(id: string, patch: SessionPatch, expect: SessionExpectation = {}) {
    const update = sessionUpdate(patch);
    const filter = { _id: id, ...sessionFilter(expect) };
    const row = update
      ? await this.c.sessions.findOneAndUpdate(filter, update, { returnDocument: 'after' })
      : await this.c.sessions.findOne(filter);
    return row ? toSession(row) : undefined;
  }

  async listSessions(query: {
    userId?: string;
    after?: string;
    limit: number;
  }): Promise<SessionPage> {
    const filter = {
      _id: { $gt: query.after ?? '' },
      ...(query.userId === undefined ? {} : { userId: query.userId }),
    };
    const cursor = this.c.sessions.find(filter).sort({ _id: 1 });
    const rows = await take(cursor, query.limit + 1);
    return {
      sessions: rows.slice(0, query.limit).map(toSession),
      hasNextPage: rows.length > query.limit,
    };
  }

  async getDocuments(keys: readonly DocumentKey[]) {
    return this.snapshot((read) => readDocuments(this.c, keys, read));
  }

  async scanDocuments(collection: string, afterId: string, limit: number, where?: ScopeCondition) {
    const filter = where ? conditionFilter(where) : {};
    if (filter === null) return [];
    if (where) await this.scopeIndexes.ensure(collection);
    return this.snapshot((read) => scanDocuments(this.c, collection, afterId, limit, read, filter));
  }

  async scanDocumentsByVersion(
    collections: readonly string[],
    afterVersion: number,
    upToVersion: number,
    limit: number,
    where?: ReadonlyMap<string, ScopeCondition>,
  ) {
    const range = { collections, afterVersion, upToVersion };
    if (!where) return this.snapshot((read) => scanDocumentsByVersion(this.c, range, limit, read));
    for (const collection of collections) await this.scopeIndexes.ensure(collection);
    return this.snapshot((read) => scanScopeByVersion(this.c, range, where, limit, read));
  }

  async ensureScopeIndexes(indexes: readonly ScopeIndex[]): Promise<void> {
    this.assertOpen();
    await this.scopeIndexes.declare(indexes, this.db);
  }

  /**
   * Runs reads of two collections at one point in time: a snapshot session reads
   * majority-committed data at the cluster time of its first read (MongoDB 5.0+;
   * https://www.mongodb.com/docs/manual/reference/read-concern-snapshot/). The read concern
   * is given on each read so the database's default "majority" is not inherited: the driver
   * adds the snapshot's atClusterTime to whatever read concern the command carries
   * (applySession in the driver's src/sessions.ts), and the server accepts it only with
   * level "snapshot".
   */
  private async snapshot<T>(reads: (read: ReadIn) => Promise<T>): Promise<T> {
    this.assertOpen();
    const session = this.client.startSession({ snapshot: true });
    try {
      return await reads({ session, readConcern: { level: 'snapshot' } });
    } finally {
      await session.endSession();
    }
  }

  async readHistory(afterVersion: number, limit: number) {
    const cursor = this.c.history.find({ _id: { $gt: afterVersion } }).sort({ _id: 1 });
    return (await take(cursor, limit)).map(toHistory);
  }

  async compactHistory(before: string): Promise<number> {
    const result = await this.c.history.deleteMany({ committedAt: { $lt: before } });
    return result.deletedCount;
  }

  /** In a transaction, so two gateways expiring at once never both return a session. */
  async expireSessions(before: string): Promise<string[]> {
    const c = this.c;
    const session = this.client.startSession();
    try {
      return await session.withTransaction(async (s) => {
        const filter = { closed: false, resetRequired: false, lastSyncedAt: { $lt: before } };
        const rows = await c.sessions
          .find(filter, { session: s, projection: { _id: 1 } })
          .sort({ _id: 1 })
          .toArray();
        const ids = rows.map((r) => r._id);
        if (ids.length > 0) {
          const mark = { $set: { resetRequired: true } };
          await c.sessions.updateMany({ _id: { $in: ids } }, mark, { session: s });
        }
        return ids;
      }, TRANSACTION);
    } finally {
      await session.endSession();
    }
  }

  async touchSessions(ids: readonly string[], at: string): Promise<void> {
    if (ids.length === 0) return;
    await this.c.sessions.updateMany({ _id: { $in: [...ids] } }, { $set: { lastSyncedAt: at } });
  }

  /**
   * One unordered bulkWrite of updateOne per session: `$max` keeps the larger position
   * (https://www.mongodb.com/docs/manual/reference/operator/update/max/).
   */
  async acknowledgeDownloads(acks: readonly DownloadAck[], at: string): Promise<void> {
    if (acks.length === 0) return;
    const ops = acks.map((a) => ({
      updateOne: {
        filter: { _id: a.sessionId },
        update: {
          $max: { lastDownloadedServerVersion: a.version },
          $set: { lastSyncedAt: at, updatedAt: at },
        },
      },
    }));
    await this.c.sessions.bulkWrite(ops, { ordered: false });
  }

  /** From the counter, so a version is not handed out again after compaction. */
  async latestVersion() {
    const counter = await this.c.counters.findOne({ _id: HISTORY_COUNTER });
    return counter?.seq ?? 0;
  }

  observeGroupCommits(observer: GroupCommitObserver): void {
    this.commits.observer = observer;
  }

  /** Waits for integrations in flight (including ones queued meanwhile), then disconnects. */
  async close(): Promise<void> {
    await this.commits.idle();
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}
