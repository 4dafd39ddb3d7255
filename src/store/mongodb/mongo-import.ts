/**
 * The MongoDB side of `sync-gateway migrate`: fills an empty gateway database with upserts
 * (bulkWrite replaceOne/deleteOne, https://www.mongodb.com/docs/drivers/node/current/crud/bulk-write/),
 * so a copy that was interrupted can be run again and finishes with the same data. A marker
 * in `__sync_migrations` says the copy is unfinished; MongoStore.connect refuses to serve
 * the database until it is finished.
 */
import type { Db, MongoClient } from 'mongodb';
import { MigrationError, type ImportTarget } from '../migrate.js';
import type { HistoryEntry, SessionRecord, StoredDocument } from '../../sync/model.js';
import { HISTORY_COUNTER, METADATA, SIGNALS_COLLECTION, syncCollections } from './collections.js';
import type { SyncCollections } from './collections.js';
import { plainWrites } from './documents.js';
import { toBson } from './json-values.js';
import { connectDatabase } from './mongo-store.js';
import { historyToDoc, sessionToDoc } from './rows.js';

const MIGRATION_ID = 'sqlite';

/** Collections a gateway database holds data in before anything is synced. */
const BOOKKEEPING = new Set([
  METADATA.counters.name,
  METADATA.migrations.name,
  METADATA.resumeTokens.name,
  SIGNALS_COLLECTION,
]);

export class MongoImport implements ImportTarget {
  private readonly c: SyncCollections;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.c = syncCollections(db);
  }

  static async connect(uri: string, dbName: string | undefined): Promise<MongoImport> {
    const { client, db } = await connectDatabase(uri, dbName);
    return new MongoImport(client, db);
  }

  async begin(source: string, startedAt: string): Promise<'fresh' | 'resumed'> {
    const marker = await this.c.migrations.findOne({ _id: MIGRATION_ID });
    if (marker?.finishedAt === null && marker.source === source) return 'resumed';
    const holding = await this.collectionHoldingData();
    if (holding !== null) {
      throw new MigrationError(
        `--to: database "${this.db.databaseName}" is not empty (collection "${holding}" ` +
          'holds documents); copy into a new database, or drop this one first',
      );
    }
    const doc = { source, startedAt, finishedAt: null };
    await this.c.migrations.replaceOne({ _id: MIGRATION_ID }, doc, { upsert: true });
    return 'fresh';
  }

  /** The first collection holding data, or null; the history counter must be at 0. */
  private async collectionHoldingData(): Promise<string | null> {
    const counter = await this.c.counters.findOne({ _id: HISTORY_COUNTER });
    if ((counter?.seq ?? 0) > 0) return METADATA.counters.name;
    const listed = await this.db
      .listCollections({ type: 'collection' }, { nameOnly: true })
      .toArray();
    for (const { name } of listed) {
      if (BOOKKEEPING.has(name) || name.startsWith('system.')) continue;
      if ((await this.db.collection(name).countDocuments({}, { limit: 1 })) > 0) return name;
    }
    return null;
  }

  async putSessions(sessions: readonly SessionRecord[]): Promise<void> {
    if (sessions.length === 0) return;
    const ops = sessions.map((s) => {
      const replacement = sessionToDoc(s);
      return { replaceOne: { filter: { _id: s.id }, replacement, upsert: true } };
    });
    await this.c.sessions.bulkWrite(ops, { ordered: false });
  }

  async putDocuments(documents: readonly StoredDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const states = documents.map(({ collection, id, state, version }) => ({
      replaceOne: {
        filter: { collection, id },
        replacement: { collection, id, state: toBson(state), version },
        upsert: true,
      },
    }));
    await this.c.state.bulkWrite(states, { ordered: false });
    for (const [collection, ops] of plainWrites(documents)) {
      await this.c.plain(collection).bulkWrite(ops, { ordered: false });
    }
  }

  async putHistory(entries: readonly HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const ops = entries.map((entry) => {
      const replacement = historyToDoc(entry, entry.version);
      return { replaceOne: { filter: { _id: entry.version }, replacement, upsert: true } };
    });
    await this.c.history.bulkWrite(ops, { ordered: false });
  }

  /** `$max`: a resumed copy never moves the counter back. */
  async finish(lastVersion: number, finishedAt: string): Promise<void> {
    await this.c.counters.updateOne(
      { _id: HISTORY_COUNTER },
      { $max: { seq: lastVersion }, $setOnInsert: { integrations: 0 } },
      { upsert: true },
    );
    await this.c.migrations.updateOne({ _id: MIGRATION_ID }, { $set: { finishedAt } });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
