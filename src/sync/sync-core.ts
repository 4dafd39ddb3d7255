/**
 * The sync core: sessions, uploads, downloads and acknowledgements over the store port.
 * Knows nothing of GraphQL; every expected failure is a `SyncError` with a code.
 */
import type { Clock } from '../clock.js';
import { badInput, SyncError } from '../errors.js';
import { Topics } from '../streams/topics.js';
import type { SessionExpectation, SessionPatch, SyncStore } from '../store/port.js';
import { BACKEND_CLIENT_ID, hasBackendWrite } from './backend-writes.js';
import { ChangeFeed } from './change-feed.js';
import { WakeIndex } from './wake-index.js';
import {
  downloadStream,
  historyLost,
  routeEntry,
  type DownloadBatch,
  type StreamStart,
} from './download.js';
import { documentSchema, type DocumentSchema } from './document-schema.js';
import { GroupedWrites } from './grouped-writes.js';
import { SharedHistory } from './shared-history.js';
import { BatchMemo } from './batch-memo.js';
import { RouteMemo } from './route-memo.js';
import type { UploadResult } from './integrate.js';
import { permissionsFor, rulesRef, uploadPlan, type RulesRef } from './upload-plan.js';
import { UploadTurns } from './upload-turns.js';
import { isAdmin, SYSTEM_USER } from './model.js';
import type {
  DocumentKey,
  HistoryEntry,
  SessionRecord,
  StoredDocument,
  SyncQuery,
  Viewer,
} from './model.js';
import { newSession } from './new-session.js';
import {
  NO_OBSERVER,
  observedStream,
  once,
  type ResetReason,
  type SyncObserver,
  type UploadOutcome,
} from './observer.js';
import { UserPermissions, type RulesConfig } from './permissions.js';
import { checkFilter } from './query-match.js';
import { widenFormerScope, type Scope } from './scope.js';
import type { DownloadChange } from './download-batch.js';
import {
  validateChangesets,
  validateQueries,
  wellFormed,
  type ChangesetInputLike,
  type UploadLimits,
} from './validate.js';

export interface SyncCoreOptions {
  store: SyncStore;
  rules: RulesConfig;
  clock: Clock;
  limits: UploadLimits;
  downloadBatchSize: number;
  /** A client that has not synced for this long must reset. */
  maxOfflineMs: number;
  /** A download stream that passed history without sending anything sends an empty batch this often. */
  cursorRefreshMs?: number;
  /** Carries changes to the other gateways of the deployment; none by default. */
  signals?: CoreSignals;
}

/** What the core tells the other gateways of its deployment (a SignalBus, in src/cluster). */
export interface CoreSignals {
  publish(
    signal: { type: 'committed'; version: number } | { type: 'session'; sessionId: string },
  ): void;
}

const NO_OTHER_GATEWAYS: CoreSignals = { publish: () => {} };

/** The gateway's own user, for backend writes; its session has no queries. */
const BACKEND_VIEWER: Viewer = { id: SYSTEM_USER, roles: [] };

const ALLOW_ALL: RulesConfig = { default: { read: true, write: true }, collections: {} };

/** A stream's start does not touch a session synced this recently (ms). */
const TOUCH_FRESH_MS = 1000;

/** How often, by default, a stream that passes history unsent moves its client's cursor. */
const DEFAULT_CURSOR_REFRESH_MS = 30_000;

export type QueryInput = { collection: string; filter?: unknown };

export interface UploadAck extends Omit<UploadResult, 'changesIntegrated'> {
  serverVersion: number;
}

/** What a client reports with an upload (an empty upload only reports). */
export interface UploadReportInput {
  latestClientVersion?: number | null;
  pendingBytes?: number | null;
}

export class SyncCore {
  readonly feed = new ChangeFeed();
  /** The store's latest version as read in this turn of the event loop (`latestVersion`). */
  private latestRead: Promise<number> | null = null;
  /** The recent history, read once per gateway for every stream (set in the constructor). */
  private readonly history: SharedHistory;
  private readonly batches = new BatchMemo();
  private readonly routes = new RouteMemo(routeEntry);
  /** Announces, per session id, that the session's stored record changed. */
  readonly sessionUpdates = new Topics<string>();
  /** Called when a session is found past the max offline time. */
  onResetRequired: (sessionId: string) => void = () => undefined;
  /** Told of uploads, sessions and streams (metrics and logs, in src/server); none by default. */
  observer: SyncObserver = NO_OBSERVER;
  readonly store: SyncStore;
  private readonly signals: CoreSignals;
  private readonly inflight = new Set<Promise<UploadAck>>();
  /** Each session's uploads reach the store in the order they came. */
  private readonly turns = new UploadTurns();
  /** The collections that have a schema, by name. */
  private readonly schemas: Map<string, DocumentSchema>;
  private backendSession: Promise<string> | null = null;
  /** Download acknowledgements, written in groups: the highest per session. */
  private readonly acks = new GroupedWrites<number>(
    (group) => this.store.acknowledgeDownloads(toAcks(group), this.now()),
    Math.max,
  );
  /** The sessions whose stream started: `lastSyncedAt` written in groups, not awaited. */
  private readonly touches = new GroupedWrites<true>((group) =>
    this.store.touchSessions([...group.keys()], this.now()),
  );

  constructor(private readonly options: SyncCoreOptions) {
    this.store = options.store;
    this.signals = options.signals ?? NO_OTHER_GATEWAYS;
    const held = Math.max(4 * options.downloadBatchSize, 1000);
    this.history = new SharedHistory(this.store, this.feed, { entries: held, bytes: 32 << 20 });
    this.feed.index = new WakeIndex(this.history, options.clock, 0);
    this.schemas = new Map(
      Object.entries(options.rules.collections).flatMap(([name, rules]) =>
        rules.schema ? [[name, documentSchema(rules.schema)] as const] : [],
      ),
    );
  }

  /** Call once at start so live streams know the newest committed version. */
  async start(): Promise<void> {
    this.feed.advance(await this.store.latestVersion());
  }

  get clock(): Clock {
    return this.options.clock;
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }

  /** The rules bound to a user, compiled once and kept (a bounded cache). */
  permissions(viewer: Viewer): UserPermissions {
    return permissionsFor(this.rulesOf(viewer.id), viewer.id);
  }

  /** The rules a user is held to: the configured ones, or all allowed for the gateway's own. */
  private rulesOf(userId: string): RulesRef {
    return rulesRef(userId === SYSTEM_USER ? ALLOW_ALL : this.options.rules);
  }

  /**
   * Opens (or re-opens) the session of `clientId`; refuses a client bound to another user.
   * Re-opening a session that must reset clears that state: the client then bootstraps
   * with `changes(since: 0)` and replays its unsynced changes.
   */
  async openSession(viewer: Viewer, clientId: string, inputs: readonly QueryInput[]) {
    if (
      clientId.length === 0 ||
      clientId.length > 128 ||
      clientId.includes('|') ||
      !wellFormed(clientId)
    ) {
      throw badInput(
        'input.clientId',
        'must be 1 to 128 characters of well-formed text, without "|"',
      );
    }
    if (clientId.startsWith('__') && viewer.id !== SYSTEM_USER) {
      throw badInput('input.clientId', 'ids starting with "__" are reserved for the gateway');
    }
    const queries = validateQueries(inputs, checkFilter);
    const candidate = newSession(clientId, viewer.id, queries, this.now());
    const session = await this.store.openSession(candidate);
    if (session.userId !== viewer.id) {
      throw new SyncError(
        'FORBIDDEN',
        'input.clientId: this client is bound to another user',
        'input.clientId',
      );
    }
    const type = session.id === candidate.id ? 'opened' : 'reopened';
    this.observer.sessionChanged({ type, sessionId: session.id, userId: viewer.id, clientId });
    if (type === 'opened') return session;
    return this.rescope(session, queries, {
      closed: false,
      resetRequired: false,
      lastSyncedAt: this.now(),
    });
  }

  /**
   * Writes `patch`, and `queries` if they differ: then the queries version goes up and the
   * former scope is kept for re-scoping, written only if the session still holds the
   * queries read (else it is read again), so concurrent changes each count and none is lost.
   */
  private async rescope(session: SessionRecord, queries: SyncQuery[], patch: SessionPatch = {}) {
    for (let current = session, attempt = 1; ; attempt++) {
      if (JSON.stringify(current.queries) === JSON.stringify(queries)) {
        return (await this.update(current.id, patch)) ?? current;
      }
      const scope = {
        queries,
        rescopeFrom: widenFormerScope(current.rescopeFrom, current.queries),
        queriesVersion: current.queriesVersion + 1,
      };
      const expect = { queries: current.queries, rescopeFrom: current.rescopeFrom };
      const updated = await this.update(current.id, { ...patch, ...scope }, expect);
      if (updated) return updated;
      const [again] = await this.store.getSessions([current.id]);
      if (!again || attempt >= 10) throw new Error(`session ${current.id}: queries kept changing`);
      current = again;
    }
  }

  private async update(id: string, patch: SessionPatch, expect?: SessionExpectation) {
    const updated = await this.store.updateSession(id, { ...patch, updatedAt: this.now() }, expect);
    this.notifySession(id);
    return updated;
  }

  /** What `scope` sees of `h`, decided once for the gateway's scopes alike (route-memo.ts). */
  routed(scope: Scope, h: HistoryEntry): DownloadChange | null {
    return this.routes.routed(scope, h);
  }

  /**
   * Up to `limit` history entries after `after`, as the store gives them: from the gateway's
   * shared copy when it holds some, else from the store (past what the gateway knows, say).
   */
  async readHistory(after: number, limit: number): Promise<HistoryEntry[]> {
    const { entries } = await this.history.read(after, limit);
    return entries.length > 0 ? entries : this.store.readHistory(after, limit);
  }

  /**
   * The store's latest version, read once per turn of the event loop for everyone who asks
   * in it (every `progress` subscriber measures at each version), and never below what this
   * gateway has announced (a commit of this turn, after the read).
   */
  async latestVersion(): Promise<number> {
    if (this.latestRead === null) {
      this.latestRead = this.store.latestVersion();
      this.latestRead.catch(() => undefined);
      setImmediate(() => (this.latestRead = null));
    }
    return Math.max(await this.latestRead, this.feed.latest);
  }

  /** Tells this gateway's streams and waits, and the other gateways, that a session changed. */
  notifySession(id: string): void {
    this.feed.poke(id);
    this.announceSession(id);
  }

  /** Tells this gateway's waits (not its streams), and the other gateways, that a session changed. */
  private announceSession(id: string): void {
    this.sessionUpdates.publish(id, id);
    this.signals.publish({ type: 'session', sessionId: id });
  }

  /** Tells this gateway's streams, and the other gateways, that `version` is committed. */
  private committed(version: number): void {
    this.feed.advance(version);
    this.signals.publish({ type: 'committed', version });
  }

  /**
   * Loads a session the viewer may see: its own, or any for an admin; else NOT_FOUND.
   * `loaded`: the session as this request already read it (not read again).
   */
  async getSession(viewer: Viewer, id: string, loaded?: SessionRecord): Promise<SessionRecord> {
    const session = loaded?.id === id ? loaded : (await this.store.getSessions([id]))[0];
    if (!session || (session.userId !== viewer.id && !isAdmin(viewer))) {
      throw new SyncError(
        'NOT_FOUND',
        `sessionId: no session "${id}" is visible to you`,
        'sessionId',
      );
    }
    return session;
  }

  async getOpenSession(viewer: Viewer, id: string, loaded?: SessionRecord) {
    const session = await this.getSession(viewer, id, loaded);
    if (session.closed) {
      throw new SyncError('NOT_FOUND', `sessionId: session "${id}" is closed`, 'sessionId');
    }
    return session;
  }

  /** An open session that may sync now: not past the max offline time. */
  async getSyncSession(viewer: Viewer, id: string, loaded?: SessionRecord) {
    const session = await this.getOpenSession(viewer, id, loaded);
    if (!session.resetRequired && !this.isExpired(session)) return session;
    if (!session.resetRequired) await this.requireReset(id);
    throw new SyncError(
      'CLIENT_RESET_REQUIRED',
      `session ${id} was offline past the max offline time: reset (openSession, then changes(since: 0))`,
    );
  }

  /**
   * A session whose data the viewer reads or writes: its own only. An admin manages every
   * session (state, pause, resume, reconnect, close, waits, progress, events), but reads and
   * writes documents only through its own sessions, under the rules, as itself.
   */
  async getDataSession(viewer: Viewer, id: string, loaded?: SessionRecord) {
    return this.ownData(viewer, await this.getSyncSession(viewer, id, loaded));
  }

  private ownData(viewer: Viewer, session: SessionRecord): SessionRecord {
    if (session.userId === viewer.id) return session;
    throw new SyncError(
      'FORBIDDEN',
      `sessionId: session "${session.id}" belongs to another user: an admin manages it but reads and writes data only through its own sessions`,
      'sessionId',
    );
  }

  /**
   * Whether the session was synced within the last second (opened, say, just before its
   * stream starts): touching it again would only cost a write (when streams start one by
   * one, a write of its own, with its fsync, for each).
   */
  private syncedJustNow(session: SessionRecord): boolean {
    const since = this.sinceSynced(session);
    return since >= 0 && since < TOUCH_FRESH_MS;
  }

  isExpired(session: SessionRecord): boolean {
    return this.sinceSynced(session) > this.options.maxOfflineMs;
  }

  /** Milliseconds since the session was last synced (its offline time, if it is away). */
  private sinceSynced(session: SessionRecord): number {
    return this.options.clock.now().getTime() - Date.parse(session.lastSyncedAt);
  }

  /** Marks the session as needing a reset, and says so through `onResetRequired`. */
  async requireReset(id: string, reason: ResetReason = 'offline'): Promise<void> {
    await this.update(id, { resetRequired: true });
    this.resetAnnounced(id, reason);
  }

  /** Tells the observer and `onResetRequired` that a session must reset now. */
  private resetAnnounced(id: string, reason: ResetReason): void {
    this.observer.sessionChanged({ type: 'resetRequired', sessionId: id, reason });
    this.onResetRequired(id);
  }

  /** Marks every session past the max offline time and compacts history older than it. */
  async compact(): Promise<{ expired: number; compacted: number }> {
    const horizon = new Date(
      this.options.clock.now().getTime() - this.options.maxOfflineMs,
    ).toISOString();
    const expired = await this.store.expireSessions(horizon);
    for (const id of expired) {
      this.notifySession(id);
      this.resetAnnounced(id, 'offline');
    }
    return { expired: expired.length, compacted: await this.store.compactHistory(horizon) };
  }

  async closeSession(viewer: Viewer, id: string): Promise<boolean> {
    const session = await this.getSession(viewer, id);
    if (session.closed) return false;
    await this.update(id, { closed: true });
    this.observer.sessionChanged({ type: 'closed', sessionId: id, userId: viewer.id });
    return true;
  }

  async updateQueries(viewer: Viewer, id: string, inputs: readonly QueryInput[]) {
    const session = this.ownData(viewer, await this.getOpenSession(viewer, id));
    return this.rescope(session, validateQueries(inputs, checkFilter));
  }

  /**
   * Validates, then integrates the upload durably; resolves only after the commit. `loaded`:
   * the session as the request already read it (its checks are made again in the commit).
   */
  uploadChanges(
    viewer: Viewer,
    id: string,
    inputs: readonly ChangesetInputLike[],
    report: UploadReportInput = {},
    loaded?: SessionRecord,
  ): Promise<UploadAck> {
    const ended = once(this.observer.uploadStarted());
    const upload = this.integrateUpload(viewer, id, inputs, report, loaded).then(
      ({ ack, changes }) => {
        ended(uploadIntegrated(viewer, id, ack, changes));
        return ack;
      },
    );
    this.inflight.add(upload);
    const forget = () => this.inflight.delete(upload);
    upload.then(forget, forget);
    upload.catch((error: unknown) => ended(uploadFailed(viewer, id, error)));
    return upload;
  }

  /** Uploads being validated or committed right now. */
  get uploadsInFlight(): number {
    return this.inflight.size;
  }

  /** Resolves once every upload in flight has committed or failed (for graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await Promise.all([this.acks.idle(), this.touches.idle()]);
  }

  private integrateUpload(
    viewer: Viewer,
    id: string,
    inputs: readonly ChangesetInputLike[],
    report: UploadReportInput,
    loaded?: SessionRecord,
  ): Promise<{ ack: UploadAck; changes: number }> {
    return this.turns.run(id, async (handedOver) => {
      const session = await this.getDataSession(viewer, id, loaded);
      const changesets = validateChangesets(
        inputs,
        this.options.limits,
        this.options.clock.now(),
        (c) => this.schemas.get(c),
      );
      validateReport(report);
      const keys = changesets.flatMap((cs) =>
        cs.changes.map((c) => ({ collection: c.collection, id: c.id })),
      );
      const plan = uploadPlan(changesets, this.rulesOf(session.userId), session.userId, {
        latestClientVersion: report.latestClientVersion ?? null,
        pendingBytes: report.pendingBytes ?? null,
        now: this.options.clock.now(),
      });
      const end = once(this.observer.integrationStarted());
      const integration = this.store.integrate(session.id, keys, plan);
      handedOver();
      const outcome = await integration.finally(end);
      this.committed(outcome.serverVersion);
      this.notifySession(session.id);
      const { changesIntegrated, ...result } = outcome.result;
      return {
        ack: { ...result, serverVersion: outcome.serverVersion },
        changes: changesIntegrated,
      };
    });
  }

  /**
   * Integrates what other services wrote directly to these documents' visible copies (see
   * backend-writes.ts), under the backend's own session; documents whose copy is what the
   * gateway wrote are left alone, so the gateway's own writes never echo. Returns how many
   * documents carried a backend write.
   */
  async integrateBackendWrites(keys: readonly DocumentKey[]): Promise<number> {
    const found = await this.store.getDocuments(keys);
    const written = found.filter((d): d is StoredDocument => d !== undefined && hasBackendWrite(d));
    if (written.length === 0) return 0;
    const plan = uploadPlan([], this.rulesOf(SYSTEM_USER), SYSTEM_USER, {
      latestClientVersion: null,
      pendingBytes: null,
      now: this.options.clock.now(),
    });
    const sessionId = await this.backendSessionId();
    const outcome = await this.store.integrate(sessionId, written, plan).catch((error) => {
      this.backendSession = null; // opened again next time, in case it is what failed
      throw error;
    });
    this.committed(outcome.serverVersion);
    return written.length;
  }

  /** The backend's session, opened once (no one else can open its reserved client id). */
  private backendSessionId(): Promise<string> {
    if (!this.backendSession) {
      const opening = this.openSession(BACKEND_VIEWER, BACKEND_CLIENT_ID, []).then((s) => s.id);
      opening.catch(() => {
        if (this.backendSession === opening) this.backendSession = null;
      });
      this.backendSession = opening;
    }
    return this.backendSession;
  }

  /**
   * Records that the client holds everything up to `serverVersion` (never moves back). With
   * `queriesVersion`, the version of the queries its data matches: when that is the
   * session's current one, a pending re-scoping is finished (if the queries did not change
   * again meanwhile: atomically).
   */
  async acknowledgeDownload(
    viewer: Viewer,
    id: string,
    serverVersion: number,
    queriesVersion: number | null = null,
  ) {
    const session = await this.getDataSession(viewer, id);
    // The store is asked only past what this gateway knows is committed (another's, not yet signalled).
    const known = this.feed.latest;
    const latest = serverVersion <= known ? known : await this.store.latestVersion();
    if (!Number.isInteger(serverVersion) || serverVersion < 0 || serverVersion > latest) {
      throw badInput(
        'serverVersion',
        `must be an integer from 0 to the latest server version ${latest}`,
      );
    }
    checkQueriesVersion(queriesVersion, session);
    this.observer.downloadAcknowledged({
      sessionId: id,
      userId: viewer.id,
      version: serverVersion,
      latest,
    });
    if (session.rescopeFrom && queriesVersion === session.queriesVersion) {
      const ack = { lastDownloadedServerVersion: serverVersion, lastSyncedAt: this.now() };
      const { queries, rescopeFrom } = session;
      const finished = await this.update(
        id,
        { ...ack, rescopeFrom: null },
        { queries, rescopeFrom },
      );
      if (finished) return finished;
    }
    await this.acks.add(id, serverVersion);
    // This gateway's streams read the acknowledged version only to finish a re-scoping.
    if (session.rescopeFrom) this.notifySession(id);
    else this.announceSession(id);
    // Read again: the answer is the session as stored now (a concurrent ack may be higher).
    const [stored] = await this.store.getSessions([id]);
    return stored ?? session;
  }

  /** The download stream; checks access, `since` and the max offline time before the first batch. */
  async changes(viewer: Viewer, id: string, start: StreamStart, signal: AbortSignal) {
    return this.streamChanges(await this.checkChanges(viewer, id, start), start, signal);
  }

  /** The download stream of a session that `checkChanges` let through. */
  async streamChanges(session: SessionRecord, start: StreamStart, signal: AbortSignal) {
    // Not awaited: a lost touch costs nothing (connected sessions are touched at each sweep).
    if (!this.syncedJustNow(session)) this.touches.add(session.id, true).catch(() => undefined);
    const stream = downloadStream(this.downloadDeps(session), session, start, signal);
    return observedStream(this.observer, 'changes', stream);
  }

  /**
   * What `changes` checks before it streams: refuses a bad `since` or `bootstrapUntil`, or a
   * lost history (after `bootstrapUntil` for a bootstrap resumed, after the cursor otherwise).
   */
  async checkChanges(viewer: Viewer, id: string, start: StreamStart): Promise<SessionRecord> {
    const session = await this.getDataSession(viewer, id);
    const latest = await this.store.latestVersion();
    const { since, bootstrapUntil: until } = start;
    if (since !== null && (!Number.isInteger(since) || since < 0 || since > latest)) {
      throw badInput('since', `must be an integer from 0 to the latest server version ${latest}`);
    }
    const cursor = since ?? session.lastDownloadedServerVersion;
    if (until !== null && (!Number.isInteger(until) || until < cursor || until > latest)) {
      const from = since === null ? `the acknowledged version ${cursor}` : `since (${cursor})`;
      throw badInput('bootstrapUntil', `must be an integer from ${from} to the latest ${latest}`);
    }
    const from = until !== null && cursor > 0 ? until : cursor;
    if (from > 0 && historyLost(from, await this.store.readHistory(from, 1), latest)) {
      await this.requireReset(id, 'history-compacted');
      throw new SyncError(
        'CLIENT_RESET_REQUIRED',
        `history after version ${from} was compacted: reset (changes(since: 0))`,
      );
    }
    return session;
  }

  private downloadDeps(session: SessionRecord) {
    return {
      store: this.store,
      feed: this.feed,
      history: this.history,
      batches: this.batches,
      routes: this.routes,
      batchSize: this.options.downloadBatchSize,
      clock: this.options.clock,
      cursorRefreshMs: this.options.cursorRefreshMs ?? DEFAULT_CURSOR_REFRESH_MS,
      perms: this.permissions({ id: session.userId, roles: [] }),
      loadSession: async (sid: string) => (await this.store.getSessions([sid]))[0],
      onHistoryLost: (sid: string) => this.requireReset(sid, 'history-compacted'),
    };
  }
}

const toAcks = (group: Map<string, number>) =>
  [...group].map(([sessionId, version]) => ({ sessionId, version }));

function uploadIntegrated(
  viewer: Viewer,
  sessionId: string,
  ack: UploadAck,
  changes: number,
): UploadOutcome {
  const { serverVersion, compensatingWrites: refused } = ack;
  return { ok: true, sessionId, userId: viewer.id, changes, serverVersion, refused };
}

function uploadFailed(viewer: Viewer, sessionId: string, error: unknown): UploadOutcome {
  const code = error instanceof SyncError ? error.code : 'INTERNAL_SERVER_ERROR';
  return { ok: false, sessionId, userId: viewer.id, code };
}

function checkQueriesVersion(v: number | null, session: SessionRecord): void {
  if (v !== null && (!Number.isInteger(v) || v < 0 || v > session.queriesVersion)) {
    throw badInput(
      'queriesVersion',
      `must be an integer from 0 to the session's queries version ${session.queriesVersion}`,
    );
  }
}

function validateReport(report: UploadReportInput): void {
  const v = report.latestClientVersion;
  if (v != null && (!Number.isInteger(v) || v < 0)) {
    throw badInput('latestClientVersion', 'must be a non-negative integer');
  }
  const b = report.pendingBytes;
  if (b != null && (!Number.isFinite(b) || b < 0 || b > Number.MAX_SAFE_INTEGER)) {
    throw badInput('pendingBytes', 'must be a non-negative number of bytes');
  }
}

export type { DownloadBatch };
