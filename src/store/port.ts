/**
 * The store port: the only place that knows SQL or MongoDB.
 *
 * Guarantees every adapter gives, proven by the shared contract suite
 * (test/store-contract.ts):
 * - **Atomic changeset integration.** `integrate` runs the plan against a consistent view
 *   of the session and the named documents, and writes all of its result or none of it.
 * - **Durable before ack.** The promise of `integrate` resolves only after the write is
 *   durable (fsync'd, or majority-committed); a rejected promise wrote nothing.
 * - **Versions in commit order.** History entries get strictly increasing server versions,
 *   assigned in commit order, never reused; `readHistory` returns them in that order.
 * - **Concurrent integrations may share a transaction** (group commit), but each one's
 *   plan sees the writes of those committed before it, and a failing plan affects only
 *   its own integration.
 */
import type {
  DocumentKey,
  DocumentState,
  HistoryEntry,
  JsonObject,
  SessionRecord,
  StoredDocument,
  SyncQuery,
} from '../sync/model.js';
import type { ScopeCondition, ScopeIndex } from '../sync/scope-condition.js';

/** What an integration plan sees, read inside the integration's transaction. */
export interface IntegrationView {
  session: SessionRecord;
  documents: ReadonlyMap<string, StoredDocument>;
}

/** The session fields an integration writes. */
export type UploadSessionPatch = Pick<
  SessionRecord,
  | 'lastIntegratedClientVersion'
  | 'latestClientVersion'
  | 'uploadedBytes'
  | 'pendingBytes'
  | 'uploadBaselineBytes'
  | 'lastSyncedAt'
>;

/** The session fields `updateSession` may patch. */
export type SessionPatch = Partial<
  Pick<
    SessionRecord,
    | 'queries'
    | 'rescopeFrom'
    | 'queriesVersion'
    | 'lastDownloadedServerVersion'
    | 'closed'
    | 'updatedAt'
    | 'pause'
    | 'lastSyncedAt'
    | 'resetRequired'
  >
>;

/** A client's acknowledgement of everything up to `version` of its session's download. */
export interface DownloadAck {
  sessionId: string;
  version: number;
}

/** What a conditional `updateSession` requires of the stored session. */
export interface SessionExpectation {
  queries?: SyncQuery[];
  rescopeFrom?: SyncQuery[] | null;
  /** The `until` of the stored pause. */
  pauseUntil?: string;
}

/** What an integration plan decides to write; the adapter assigns server versions. */
export interface IntegrationWrites<R> {
  session: UploadSessionPatch;
  documents: {
    collection: string;
    id: string;
    state: DocumentState;
    doc: JsonObject | null;
    /**
     * The store's visible copy already holds `doc` (another service wrote it so): a store
     * that keeps the copy apart may leave it untouched, with the types it was written with.
     */
    copyIntact?: boolean;
  }[];
  history: Omit<HistoryEntry, 'version'>[];
  result: R;
}

/**
 * Where a plan comes from, as data: the module and the name of its factory, and the
 * arguments it was built with (structured-cloneable). A store that integrates on another
 * thread (sqlite/writer-thread.ts) builds the same plan there from it.
 */
export interface PlanSource {
  module: string;
  factory: string;
  args: unknown[];
}

/**
 * A pure, synchronous function from the view to the writes; may throw to abort. `source`:
 * how to build it again elsewhere (see plan-source.ts); a store that runs plans on another
 * thread refuses a plan without one.
 */
export type IntegrationPlan<R> = ((view: IntegrationView) => IntegrationWrites<R>) & {
  readonly source?: PlanSource;
};

/**
 * A plan built by `factory` (exported as `name` from `module`, the URL its module gives as
 * `import.meta.url`), carrying its source; the factory must be a pure function of `args`.
 */
export function sourcedPlan<A extends unknown[], R>(
  module: string,
  name: string,
  factory: (...args: A) => IntegrationPlan<R>,
  ...args: A
): IntegrationPlan<R> {
  const source: PlanSource = { module, factory: name, args };
  return Object.assign(factory(...args), { source });
}

export interface IntegrationOutcome<R> {
  result: R;
  /** The server version of the last history entry written, or the latest one if none. */
  serverVersion: number;
}

export interface SessionPage {
  sessions: SessionRecord[];
  hasNextPage: boolean;
}

/** Told of the store's group commits (the gateway's metrics; sync/observer.ts). */
export interface GroupCommitObserver {
  /** One transaction committed `size` integrations together. */
  groupCommitted(size: number): void;
}

export interface SyncStore {
  integrate<R>(
    sessionId: string,
    keys: readonly DocumentKey[],
    plan: IntegrationPlan<R>,
  ): Promise<IntegrationOutcome<R>>;

  /** Returns the session of `candidate.clientId`, creating it from `candidate` if none. */
  openSession(candidate: SessionRecord): Promise<SessionRecord>;
  getSessions(ids: readonly string[]): Promise<(SessionRecord | undefined)[]>;
  /**
   * Patches the named fields; `lastDownloadedServerVersion` never moves back. With `expect`,
   * only if the stored session still holds what it names (one atomic step); undefined when
   * there is no such session or it does not.
   */
  updateSession(
    id: string,
    patch: SessionPatch,
    expect?: SessionExpectation,
  ): Promise<SessionRecord | undefined>;
  /** Sessions ordered by id, after `after`, optionally of one user only. */
  listSessions(query: { userId?: string; after?: string; limit: number }): Promise<SessionPage>;

  getDocuments(keys: readonly DocumentKey[]): Promise<(StoredDocument | undefined)[]>;
  /**
   * Existing documents of a collection ordered by id, after `afterId`. With `where`, the
   * documents meeting it (sync/scope-condition.ts): every one of them, and perhaps others
   * the caller's matcher then refuses (a store narrows by what it answers by index).
   */
  scanDocuments(
    collection: string,
    afterId: string,
    limit: number,
    where?: ScopeCondition,
  ): Promise<StoredDocument[]>;
  /**
   * Existing (visible) documents of `collections` whose version is in
   * (`afterVersion`, `upToVersion`], ordered by version (unique per document), up to `limit`.
   * With `where`, a collection it names is narrowed to its condition as in `scanDocuments`
   * (the same documents on every call over the same data, so pages by version join up).
   */
  scanDocumentsByVersion(
    collections: readonly string[],
    afterVersion: number,
    upToVersion: number,
    limit: number,
    where?: ReadonlyMap<string, ScopeCondition>,
  ): Promise<StoredDocument[]>;
  /**
   * Indexes the fields the read rules test (sync/scope-pushdown.ts `ruleIndexes`), so that
   * narrowed scans find one user's documents without reading the collection; idempotent,
   * called at start (it may take a while on a large store the first time).
   */
  ensureScopeIndexes(indexes: readonly ScopeIndex[]): Promise<void>;

  readHistory(afterVersion: number, limit: number): Promise<HistoryEntry[]>;
  /** Deletes history committed before `before` (ISO time); returns how many entries. */
  compactHistory(before: string): Promise<number>;
  /** Marks open sessions last synced before `before` as needing a reset; returns their ids. */
  expireSessions(before: string): Promise<string[]>;
  /** Sets `lastSyncedAt` of the named sessions to `at` (ISO time); unknown ids are ignored. */
  touchSessions(ids: readonly string[], at: string): Promise<void>;
  /**
   * Records download acknowledgements in one write: each session's
   * `lastDownloadedServerVersion` moves up to its `version` (never back), and its
   * `lastSyncedAt` and `updatedAt` to `at` (ISO time); unknown ids are ignored.
   */
  acknowledgeDownloads(acks: readonly DownloadAck[], at: string): Promise<void>;
  latestVersion(): Promise<number>;

  /** Tells `observer` the size of every group of integrations committed together (metrics). */
  observeGroupCommits(observer: GroupCommitObserver): void;

  /** Waits for integrations in flight, then releases the store. */
  close(): Promise<void>;
}

export const documentKey = (k: DocumentKey): string => `${k.collection}\u0000${k.id}`;
