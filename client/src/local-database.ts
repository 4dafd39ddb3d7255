/**
 * A client's local copy: the documents as the gateway sent them, and the client's own
 * changesets applied on top until the download shows what the gateway made of them. Writes
 * apply at once, offline or not, and wait in order for the sync session to upload them.
 *
 * Every operation costs in proportion to what it changes: the visible documents are kept
 * per collection and recomputed only for the documents a change touches, and each change
 * reaches the storage as a commit of just that.
 */
import { SyncClientError } from './errors.js';
import { HybridLogicalClock } from './hlc.js';
import type { ChangeInput } from './gql/graphql.js';
import { docKey, LocalState, type Ops } from './local-state.js';
import { LiveQuery, runQuery, type Filter, type QueryOptions } from './local-query.js';
import {
  isLegacyStorage,
  fromLegacyStorage,
  MemoryStorage,
  type DatabaseState,
  type Direction,
  type Doc,
  type LegacyStorage,
  type PendingChangeset,
  type RefusedChangeset,
  type Storage,
  type StoredChangeset,
  type SyncMeta,
} from './storage.js';

export type { Doc };

/**
 * The document type of each collection, e.g. `{ cars: Car }` (what `sync-gateway types`
 * generates from the collections' JSON Schemas). By default any collection holds `Doc`s.
 */
export type Collections = Record<string, Doc>;

/** The collection names of `C`. */
export type NameOf<C> = keyof C & string;

/** What `write(fn)` gives `fn`: the changes of one changeset. */
export interface WriteTransaction<C = Collections> {
  insert<K extends NameOf<C>>(collection: K, doc: C[K]): void;
  update<K extends NameOf<C>>(
    collection: K,
    id: string,
    set: Partial<Omit<C[K], '_id'>>,
    unset?: (keyof C[K] & string)[],
  ): void;
  delete<K extends NameOf<C>>(collection: K, id: string): void;
}

export type ChangeListener = (keys: string[]) => void;

/** The documents and unsynced changesets of a database at one moment (see `copy`). */
export interface LocalSnapshot {
  get(collection: string, id: string): Doc | undefined;
  all(collection: string): Doc[];
  readonly pending: readonly PendingChangeset[];
}

export { docKey };

/** One download batch, as the sync session hands it over. */
export interface DownloadBatch {
  fromServerVersion: number;
  toServerVersion: number;
  bootstrapUntil: number | null;
  queriesVersion: number;
  changes: { collection: string; id: string; op: 'UPSERT' | 'REMOVE'; document: unknown }[];
}

const MAX_REFUSED = 100;

/**
 * What one changeset may hold: the gateway's default MAX_CHANGES_PER_UPLOAD, and half its
 * socket's message limit (8 MiB). Raise them only with the gateway's.
 */
export interface WriteLimits {
  maxChangesPerChangeset: number;
  maxChangesetBytes: number;
}

export const DEFAULT_LIMITS: WriteLimits = {
  maxChangesPerChangeset: 1000,
  maxChangesetBytes: 4 * 1024 * 1024,
};

export class LocalDatabase<C = Collections> {
  private readonly listeners = new Set<ChangeListener>();
  private readonly committedListeners = new Set<() => void>();
  private readonly hlc: HybridLogicalClock;
  private committing: Promise<void> = Promise.resolve();
  /** The operations of a commit that failed, to go with the next one. */
  private failed: Ops | null = null;
  /** The newest client version whose changeset is durable in the storage. */
  private durableVersion: number;

  private constructor(
    private readonly state: LocalState,
    private readonly storage: Storage,
    now: () => number,
    private readonly limits: WriteLimits,
  ) {
    this.hlc = new HybridLogicalClock(now);
    if (state.meta.lastTimestamp) this.hlc.observe(state.meta.lastTimestamp);
    this.hlc.offset = state.meta.clockOffsetMs ?? 0;
    this.durableVersion = state.meta.clientVersion;
  }

  /** Opens the database kept in `storage` (in memory by default), creating it for `clientId`. */
  static async open<C = Collections>(options: {
    clientId: string;
    storage?: Storage | LegacyStorage;
    now?: () => number;
    limits?: Partial<WriteLimits>;
  }): Promise<LocalDatabase<C>> {
    const given = options.storage ?? new MemoryStorage();
    const storage = isLegacyStorage(given) ? fromLegacyStorage(given) : given;
    const stored = await storage.load();
    if (stored && stored.meta.clientId !== options.clientId) {
      throw new Error(`storage belongs to client ${stored.meta.clientId}, not ${options.clientId}`);
    }
    const state = LocalState.from(stored, options.clientId);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    return new LocalDatabase<C>(state, storage, options.now ?? Date.now, limits);
  }

  get clientId(): string {
    return this.state.meta.clientId;
  }

  /** Reads one document, with the client's unsynced changes applied. */
  get<K extends NameOf<C>>(collection: K, id: string): C[K] | undefined {
    return this.state.visible(collection, id) as C[K] | undefined;
  }

  /** Every document of a collection. */
  all<K extends NameOf<C>>(collection: K): C[K][] {
    return this.state.all(collection) as C[K][];
  }

  /** The documents of a collection matching a MongoDB filter, sorted, skipped and limited. */
  query<K extends NameOf<C>>(collection: K, filter?: Filter, options?: QueryOptions): C[K][] {
    return runQuery(this.state.all(collection), filter, options) as C[K][];
  }

  /**
   * A query's live result: `current`, `subscribe(listener)` (told after every change of the
   * result, local or synced), and `for await` over its results.
   */
  observe<K extends NameOf<C>>(
    collection: K,
    filter?: Filter,
    options?: QueryOptions,
  ): LiveQuery<C[K] & Doc> {
    const source = {
      all: () => this.state.all(collection) as (C[K] & Doc)[],
      onChange: this.onChange,
    };
    return new LiveQuery(source, collection, filter, options);
  }

  /**
   * Calls `listener` after every change (a write, a download, an acknowledgement) with the keys
   * of the documents it changed, if any; returns the undo.
   */
  onChange = (listener: ChangeListener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Runs `fn` as one changeset: applied locally at once, uploaded when the session can. */
  async write(fn: (tx: WriteTransaction<C>) => void): Promise<PendingChangeset | null> {
    const changes: ChangeInput[] = [];
    fn({
      insert: (collection, doc) =>
        changes.push({ collection, id: (doc as Doc)._id, op: 'INSERT', document: doc }),
      update: (collection, id, set, unset) =>
        changes.push({ collection, id, op: 'UPDATE', set, unset }),
      delete: (collection, id) => changes.push({ collection, id, op: 'DELETE' }),
    });
    if (changes.length === 0) return null;
    this.checkLimits(changes);
    const { meta } = this.state;
    const changeset: StoredChangeset = {
      clientVersion: meta.clientVersion + 1,
      timestamp: this.hlc.next(),
      changes,
      acknowledgedAt: null,
    };
    meta.clientVersion = changeset.clientVersion;
    meta.lastTimestamp = changeset.timestamp;
    await this.persist(this.state.addChangeset(changeset), changeset.clientVersion);
    return changeset;
  }

  /** A changeset the gateway could never take is refused here, before anything is applied. */
  private checkLimits(changes: ChangeInput[]): void {
    const { maxChangesPerChangeset, maxChangesetBytes } = this.limits;
    if (changes.length > maxChangesPerChangeset) {
      throw new SyncClientError(
        'LIMIT_EXCEEDED',
        `a changeset holds at most ${maxChangesPerChangeset} changes, this one ${changes.length}: split the write`,
      );
    }
    let bytes: number;
    try {
      bytes = JSON.stringify(changes).length;
    } catch (error) {
      // A value JSON cannot hold (a BigInt, a cycle) could never be stored or sent.
      throw new SyncClientError('BAD_USER_INPUT', `a changeset must be JSON: ${String(error)}`);
    }
    if (bytes > maxChangesetBytes) {
      throw new SyncClientError(
        'LIMIT_EXCEEDED',
        `a changeset holds at most ${maxChangesetBytes} bytes, this one ${bytes}: split the write`,
      );
    }
  }

  /**
   * The state as a plain object: `pending` (the changesets not yet acknowledged), the client
   * and server versions, and `serverDocs` (the documents as the gateway sent them).
   */
  get snapshot(): Readonly<DatabaseState> {
    const { state } = this;
    const { meta } = state;
    return {
      clientId: meta.clientId,
      pending: state.pending,
      clientVersion: meta.clientVersion,
      serverVersion: meta.serverVersion,
      lastTimestamp: meta.lastTimestamp,
      get serverDocs() {
        return state.serverDocs();
      },
    };
  }

  /** A read-only copy of the documents and unsynced changesets as they are now. */
  copy(): LocalSnapshot {
    const view = this.state.copyView();
    const pending = [...this.state.pending];
    return {
      get: (collection, id) => view.get(collection)?.get(id),
      all: (collection) => [...(view.get(collection)?.values() ?? [])],
      pending,
    };
  }

  // ---- for the sync session ----

  /** The sync position and settings (read-only outside this class). */
  get meta(): Readonly<SyncMeta> {
    return this.state.meta;
  }

  /** Calls `listener` after every commit is durable; returns the undo. */
  onCommitted(listener: () => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /**
   * Changesets not yet acknowledged, after `after` (those sent already), durable here, in
   * order, within the limits (at least one).
   */
  unsent(maxChanges: number, maxBytes: number, after = 0): StoredChangeset[] {
    const batch: StoredChangeset[] = [];
    let [changes, bytes] = [0, 0];
    for (const cs of this.state.pending) {
      if (cs.clientVersion <= after) continue;
      if (cs.clientVersion > this.durableVersion) break;
      changes += cs.changes.length;
      bytes += this.state.bytesOf(cs);
      if (batch.length > 0 && (changes > maxChanges || bytes > maxBytes)) break;
      batch.push(cs);
    }
    return batch;
  }

  /** Bytes of the changesets not yet acknowledged after `afterVersion`. */
  pendingBytesAfter(afterVersion: number): number {
    let bytes = 0;
    for (const cs of this.state.pending)
      if (cs.clientVersion > afterVersion) bytes += this.state.bytesOf(cs);
    return bytes;
  }

  /** The server version the download must reach for every acknowledged write to settle. */
  awaitingVersion(): number {
    return this.state.awaitingVersion();
  }

  /** Bytes a changeset counts for in upload progress. */
  bytesOf(cs: PendingChangeset): number {
    return this.state.bytesOf(cs);
  }

  /**
   * The gateway integrated every changeset up to `lastIntegrated`, at `serverVersion`;
   * `refused` are keys of documents whose writes its rules refused: rolled back now.
   */
  async acknowledge(lastIntegrated: number, serverVersion: number, refused: string[] = []) {
    const acked = this.state.acknowledge(lastIntegrated, serverVersion);
    if (acked.length === 0) return;
    this.state.meta.lastAcceptedTimestamp = acked.at(-1)!.timestamp;
    const keys = this.state.dropWrites(acked, new Set(refused));
    await this.persist([...keys, ...this.state.settle()]);
  }

  /**
   * The gateway refused a timestamp as too far ahead of its clock (a device whose clock runs
   * fast): the clock follows the gateway's from now on, and the unsynced changesets are
   * stamped anew by it, still after everything the gateway accepted from this client.
   */
  async followGatewayClock(gatewayNowMs: number): Promise<void> {
    const { meta } = this.state;
    this.hlc.follow(gatewayNowMs, meta.lastAcceptedTimestamp ?? null);
    meta.clockOffsetMs = this.hlc.offset;
    const keys = this.state.restamp(() => this.hlc.next());
    meta.lastTimestamp = this.state.pending.at(-1)?.timestamp ?? meta.lastAcceptedTimestamp ?? null;
    await this.persist(keys);
  }

  /** Takes a refused changeset's changes out (its version is still sent, empty) and lists it. */
  async refuse(changeset: StoredChangeset, error: Omit<RefusedChangeset, 'changeset' | 'at'>) {
    const original: PendingChangeset = {
      clientVersion: changeset.clientVersion,
      timestamp: changeset.timestamp,
      changes: [...changeset.changes],
    };
    const keys = this.state.empty(changeset);
    const { meta } = this.state;
    const entry = { changeset: original, ...error, at: new Date().toISOString() };
    meta.refused = [...meta.refused, entry].slice(-MAX_REFUSED);
    await this.persist(keys);
  }

  /** Applies a download batch (see DownloadBatch) and records its version. */
  async applyBatch(batch: DownloadBatch): Promise<void> {
    const keys = this.state.applyBatch(batch);
    await this.persist([...keys, ...this.state.settle()]);
  }

  /**
   * Client reset: the next download is a bootstrap that replaces the synced documents.
   * Unsynced changesets are kept and stamped anew (so they win), or dropped (`discard`).
   */
  async prepareReset(discard: boolean): Promise<void> {
    const keys = discard ? this.state.dropPending() : this.state.restamp(() => this.hlc.next());
    const { meta } = this.state;
    Object.assign(meta, { serverVersion: 0, bootstrapUntil: null, bootstrapped: false });
    if (!discard && this.state.pending.length > 0)
      meta.lastTimestamp = this.state.pending.at(-1)!.timestamp;
    await this.persist(keys);
  }

  /**
   * Makes the unsynced changesets follow the gateway's last integrated version: numbered from
   * the one after it (a database that never made the versions the gateway has, or dropped some
   * at a reset, would otherwise be skipped as already integrated, or refused).
   */
  async alignWith(serverLastIntegrated: number): Promise<void> {
    if (!this.state.align(serverLastIntegrated)) return;
    // Renumbered changesets are uploaded only once stored under their new numbers.
    this.durableVersion = Math.min(this.durableVersion, serverLastIntegrated);
    await this.persist([], this.state.meta.clientVersion);
  }

  async setPaused(directions: Direction[], synced: boolean): Promise<void> {
    Object.assign(this.state.meta, { paused: directions, pauseSynced: synced });
    await this.persist([]);
  }

  /**
   * Commits what the state recorded, in order; listeners hear of the change at once (it is in
   * memory), the sync session once it is durable (`durable`: the changesets up to it are). A
   * commit that fails is not forgotten: its operations go again with the next one, so the
   * storage never records a position past what it holds.
   */
  private persist(keys: string[], durable = 0): Promise<void> {
    const ops = this.state.takeCommit();
    const meta = { ...this.state.meta };
    for (const listener of [...this.listeners]) listener(keys);
    const run = async () => {
      const all = this.failed ? this.failed.merge(ops) : ops;
      this.failed = null;
      try {
        await this.storage.commit({ ...all.toCommit(), meta });
      } catch (error) {
        this.failed = all;
        throw error;
      }
      this.durableVersion = Math.max(this.durableVersion, durable, ...all.storedVersions());
      for (const listener of [...this.committedListeners]) listener();
    };
    const done = this.committing.then(run, run);
    this.committing = done.catch(() => undefined);
    return done;
  }
}
