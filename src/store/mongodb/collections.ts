/**
 * Every MongoDB collection the gateway uses, declared once with its document type and its
 * indexes.
 *
 * - Metadata lives under the reserved prefix `__sync_`: sessions, history, the mergeable
 *   state of each document, and counters. Sync collection names start with a letter
 *   (src/sync/validate.ts), so no sync collection can collide with the prefix.
 * - Synced documents live in PLAIN collections named after their sync collection
 *   (`cars`), holding exactly the visible document with `_id` = the sync id, so any other
 *   MongoDB client can read them. A deleted document is removed from its plain collection;
 *   its mergeable state stays in `__sync_state`.
 */
import type { Collection, Db, IndexDescription } from 'mongodb';
import type { PauseState } from '../../sync/pause.js';
import type { DocumentState, JsonObject } from '../../sync/model.js';

export const META_PREFIX = '__sync_';

/** Signals between gateways: declared and indexed by src/cluster/mongo-signals.ts. */
export const SIGNALS_COLLECTION = `${META_PREFIX}signals`;

/** One session; `queries` and `rescopeFrom` are JSON text (see below). */
export interface SessionDoc {
  _id: string;
  clientId: string;
  userId: string;
  /**
   * JSON text, as in the SQLite store: the filters hold MongoDB operators (`$in`) and
   * dotted paths as field names, which `$set` cannot write inside a stored document
   * (https://www.mongodb.com/docs/manual/core/dot-dollar-considerations/).
   */
  queries: string;
  rescopeFrom: string | null;
  /** Absent from sessions stored before it: read as 0. */
  queriesVersion?: number;
  lastIntegratedClientVersion: number;
  latestClientVersion: number;
  lastDownloadedServerVersion: number;
  pause: PauseState | null;
  uploadedBytes: number;
  pendingBytes: number;
  uploadBaselineBytes: number;
  lastSyncedAt: string;
  resetRequired: boolean;
  closed: boolean;
  createdAt: string;
  updatedAt: string;
}

/** One history entry; `_id` is its server version. */
export interface HistoryDoc {
  _id: number;
  collection: string;
  id: string;
  clientId: string;
  clientVersion: number;
  before: JsonObject | null;
  after: JsonObject | null;
  committedAt: string;
}

/** The mergeable state of one document and the server version that last wrote it. */
export interface StateDoc {
  collection: string;
  id: string;
  state: DocumentState;
  version: number;
}

/** `seq`: the last server version handed out; `integrations`: bumped by every integration. */
export interface CounterDoc {
  _id: string;
  seq: number;
  integrations: number;
}

/**
 * A copy into this database by `sync-gateway migrate`; `finishedAt` stays null until every
 * row is copied, and the gateway refuses to start on a database with an unfinished one.
 */
export interface MigrationDoc {
  _id: string;
  source: string;
  startedAt: string;
  finishedAt: string | null;
}

/** Where a change stream of the gateway's got to (a resume token), so a restart resumes there. */
export interface ResumeTokenDoc {
  _id: string;
  token: unknown;
  savedAt: Date;
}

/** A visible document in its plain collection. */
export type PlainDoc = JsonObject & { _id: string };

export const HISTORY_COUNTER = 'history';

interface Declared {
  name: string;
  indexes: IndexDescription[];
}

/** The metadata collections and their indexes (`_id` is always indexed). */
export const METADATA: Record<
  'sessions' | 'history' | 'state' | 'counters' | 'migrations' | 'resumeTokens',
  Declared
> = {
  sessions: {
    name: `${META_PREFIX}sessions`,
    indexes: [
      { key: { clientId: 1 }, name: 'clientId_unique', unique: true },
      { key: { userId: 1, _id: 1 }, name: 'userId_id' },
      { key: { lastSyncedAt: 1 }, name: 'lastSyncedAt' },
    ],
  },
  history: {
    name: `${META_PREFIX}history`,
    indexes: [{ key: { committedAt: 1 }, name: 'committedAt' }],
  },
  state: {
    name: `${META_PREFIX}state`,
    indexes: [
      { key: { collection: 1, id: 1 }, name: 'collection_id_unique', unique: true },
      // Bootstraps page through the documents in version order (scanDocumentsByVersion).
      { key: { version: 1 }, name: 'version' },
    ],
  },
  counters: { name: `${META_PREFIX}counters`, indexes: [] },
  migrations: { name: `${META_PREFIX}migrations`, indexes: [] },
  resumeTokens: { name: `${META_PREFIX}resume_tokens`, indexes: [] },
};

export interface SyncCollections {
  sessions: Collection<SessionDoc>;
  history: Collection<HistoryDoc>;
  state: Collection<StateDoc>;
  counters: Collection<CounterDoc>;
  migrations: Collection<MigrationDoc>;
  resumeTokens: Collection<ResumeTokenDoc>;
  /** The plain collection of a sync collection. */
  plain(collection: string): Collection<PlainDoc>;
}

export function syncCollections(db: Db): SyncCollections {
  return {
    sessions: db.collection<SessionDoc>(METADATA.sessions.name),
    history: db.collection<HistoryDoc>(METADATA.history.name),
    state: db.collection<StateDoc>(METADATA.state.name),
    counters: db.collection<CounterDoc>(METADATA.counters.name),
    migrations: db.collection<MigrationDoc>(METADATA.migrations.name),
    resumeTokens: db.collection<ResumeTokenDoc>(METADATA.resumeTokens.name),
    plain: (collection) => {
      if (collection.startsWith(META_PREFIX)) {
        throw new Error(`"${collection}" is reserved for the gateway's metadata`);
      }
      return db.collection<PlainDoc>(collection);
    },
  };
}

/**
 * Creates the metadata collections' indexes and the history counter; safe to run at every
 * start and from several gateways at once (createIndexes is a no-op for an index that
 * exists with the same spec: https://www.mongodb.com/docs/manual/reference/command/createIndexes/).
 * Plain collections are created by their first write, inside the integration's transaction
 * (allowed since MongoDB 4.4 with any read concern:
 * https://www.mongodb.com/docs/manual/core/transactions-operations/).
 */
export async function ensureCollections(db: Db): Promise<void> {
  for (const declared of Object.values(METADATA)) {
    if (declared.indexes.length > 0) {
      await db.collection(declared.name).createIndexes(declared.indexes);
    }
  }
  await syncCollections(db).counters.updateOne(
    { _id: HISTORY_COUNTER },
    { $setOnInsert: { seq: 0, integrations: 0 } },
    { upsert: true },
  );
}
