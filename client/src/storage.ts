/**
 * Where a local database keeps its state between runs. A storage applies commits: each
 * names what changed (documents, changesets, the sync position), so a write costs in
 * proportion to the change, not the database. A commit is applied whole or not at all, and
 * its promise resolves once it is durable (for the storages that are).
 */
import type { ChangeInput } from './gql/graphql.js';

export type Doc = Record<string, unknown> & { _id: string };
export type Direction = 'UPLOAD' | 'DOWNLOAD';

/** A changeset made locally and not yet acknowledged by the gateway. */
export interface PendingChangeset {
  clientVersion: number;
  timestamp: string;
  changes: ChangeInput[];
}

/**
 * A changeset as stored: `acknowledgedAt` is the server version the gateway integrated it
 * at (null until then). An acknowledged changeset still shows locally until the download
 * reaches that version, so the view never flickers and never keeps what the gateway merged
 * differently.
 */
export interface StoredChangeset extends PendingChangeset {
  acknowledgedAt: number | null;
}

/** A changeset the gateway refused as bad input (its local effects were rolled back). */
export interface RefusedChangeset {
  changeset: PendingChangeset;
  code: string;
  message: string;
  field: string | null;
  at: string;
}

/** The sync position and settings of one local database. */
export interface SyncMeta {
  clientId: string;
  /** The last client version made (sent or not). */
  clientVersion: number;
  lastTimestamp: string | null;
  /** The last server version applied (what the download resumes after). */
  serverVersion: number;
  /** The version of the session's queries the documents match. */
  queriesVersion: number;
  /** While a bootstrap is under way: the server version its snapshot completes at. */
  bootstrapUntil: number | null;
  /** Counts bootstraps: documents not seen by the latest one are removed when it completes. */
  generation: number;
  /** Whether a complete snapshot was applied since the database was made or reset. */
  bootstrapped: boolean;
  /** The directions the app paused, and whether the gateway has been told. */
  paused: Direction[];
  pauseSynced: boolean;
  /** The most recent changesets the gateway refused (at most 100). */
  refused: RefusedChangeset[];
  /** Added in 0.3: the newest timestamp the gateway integrated (the clock never goes below). */
  lastAcceptedTimestamp?: string | null;
  /** Added in 0.3: the gateway's clock minus the device's, learnt when it refused a timestamp. */
  clockOffsetMs?: number;
}

/** A document as the gateway sent it, with the bootstrap generation that last saw it. */
export interface StoredDoc {
  doc: Doc;
  gen: number;
}

export interface StoredState {
  meta: SyncMeta;
  docs: [key: string, doc: StoredDoc][];
  changesets: StoredChangeset[];
}

export interface StorageCommit {
  meta: SyncMeta;
  putDocs?: [key: string, doc: StoredDoc][];
  deleteDocs?: string[];
  /** Changesets to store (by client version, replacing one of the same version). */
  putChangesets?: StoredChangeset[];
  deleteChangesets?: number[];
}

export interface Storage {
  load(): Promise<StoredState | null>;
  commit(commit: StorageCommit): Promise<void>;
}

/** The whole state in one object, as storages written for earlier versions saved it. */
export interface DatabaseState {
  clientId: string;
  serverDocs: Record<string, Doc>;
  pending: PendingChangeset[];
  clientVersion: number;
  serverVersion: number;
  lastTimestamp: string | null;
  /** Added in 0.2: the rest of the sync position; absent in older saves. */
  meta?: Partial<SyncMeta>;
  changesets?: StoredChangeset[];
  generations?: Record<string, number>;
}

/**
 * A storage written for the SDK before 0.2: the whole state saved at every change.
 * @deprecated Implement `Storage` (commits) instead; a `LegacyStorage` still works, slowly.
 */
export interface LegacyStorage {
  load(): Promise<DatabaseState | null>;
  save(state: DatabaseState): Promise<void>;
}

export function emptyMeta(clientId: string): SyncMeta {
  return {
    clientId,
    clientVersion: 0,
    lastTimestamp: null,
    serverVersion: 0,
    queriesVersion: 0,
    bootstrapUntil: null,
    generation: 0,
    bootstrapped: false,
    paused: [],
    pauseSynced: true,
    refused: [],
  };
}

/** The state kept in memory: applies commits to maps; the whole state is copied only at load. */
export class MemoryStorage implements Storage {
  private meta: SyncMeta | null = null;
  private readonly docs = new Map<string, StoredDoc>();
  private readonly changesets = new Map<number, StoredChangeset>();

  async load(): Promise<StoredState | null> {
    if (!this.meta) return null;
    return structuredClone({
      meta: this.meta,
      docs: [...this.docs],
      changesets: [...this.changesets.values()].sort((a, b) => a.clientVersion - b.clientVersion),
    });
  }

  /** Whole or not at all: what it copies is copied before anything is applied. */
  async commit(commit: StorageCommit): Promise<void> {
    const meta = structuredClone(commit.meta);
    const putChangesets = commit.putChangesets?.map((cs) => structuredClone(cs));
    applyCommit({ ...commit, putChangesets }, this.docs, this.changesets);
    this.meta = meta;
  }
}

/**
 * Applies a commit to maps of documents and changesets, keeping the objects given (copy
 * what may change later first). Documents may be kept as given: the database never changes
 * a document object once stored (it stores a new one); changesets it does update.
 */
export function applyCommit(
  commit: StorageCommit,
  docs: Map<string, StoredDoc>,
  changesets: Map<number, StoredChangeset>,
): void {
  for (const key of commit.deleteDocs ?? []) docs.delete(key);
  for (const [key, doc] of commit.putDocs ?? []) docs.set(key, doc);
  for (const version of commit.deleteChangesets ?? []) changesets.delete(version);
  for (const cs of commit.putChangesets ?? []) changesets.set(cs.clientVersion, cs);
}

/** A LegacyStorage used through commits: the whole state is rebuilt and saved each time. */
export function fromLegacyStorage(legacy: LegacyStorage): Storage {
  const mirror = new MemoryStorage();
  return {
    load: async () => {
      const saved = await legacy.load();
      if (!saved) return null;
      const state = fromDatabaseState(saved);
      await mirror.commit({
        meta: state.meta,
        putDocs: state.docs,
        putChangesets: state.changesets,
      });
      return state;
    },
    commit: async (commit) => {
      await mirror.commit(commit);
      await legacy.save(toDatabaseState((await mirror.load())!));
    },
  };
}

export function isLegacyStorage(storage: Storage | LegacyStorage): storage is LegacyStorage {
  return !('commit' in storage) && 'save' in storage;
}

/** The one-object form (what FileStorage writes), readable by older versions too. */
export function toDatabaseState(state: StoredState): DatabaseState {
  const { meta } = state;
  return {
    clientId: meta.clientId,
    serverDocs: Object.fromEntries(state.docs.map(([key, d]) => [key, d.doc])),
    generations: Object.fromEntries(state.docs.map(([key, d]) => [key, d.gen])),
    pending: state.changesets.filter((cs) => cs.acknowledgedAt === null),
    changesets: state.changesets,
    clientVersion: meta.clientVersion,
    serverVersion: meta.serverVersion,
    lastTimestamp: meta.lastTimestamp,
    meta,
  };
}

/** Reads the one-object form, including saves of versions before 0.2. */
export function fromDatabaseState(saved: DatabaseState): StoredState {
  const meta: SyncMeta = {
    ...emptyMeta(saved.clientId),
    clientVersion: saved.clientVersion,
    serverVersion: saved.serverVersion,
    lastTimestamp: saved.lastTimestamp,
    // Saves before 0.2 had a server version only once bootstrapped.
    bootstrapped: saved.serverVersion > 0,
    ...saved.meta,
  };
  const gens = saved.generations ?? {};
  const docs = Object.entries(saved.serverDocs).map(([key, doc]): [string, StoredDoc] => [
    key,
    { doc, gen: gens[key] ?? meta.generation },
  ]);
  const changesets =
    saved.changesets ?? saved.pending.map((cs) => ({ ...cs, acknowledgedAt: null }));
  return { meta, docs, changesets };
}
