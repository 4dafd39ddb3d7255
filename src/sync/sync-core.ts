/**
 * The sync core: sessions, uploads, downloads and acknowledgements over the store port.
 * Knows nothing of GraphQL; every expected failure is a `SyncError` with a code.
 */
import { randomUUID } from 'node:crypto';
import { badInput, SyncError } from '../errors.js';
import type { SyncStore } from '../store/port.js';
import type { Clock } from '../clock.js';
import { ChangeFeed } from './change-feed.js';
import { Topics } from '../session/topics.js';
import { downloadStream, type DownloadBatch } from './download.js';
import { planIntegration, type UploadResult } from './integrate.js';
import { isAdmin, type SessionRecord, type Viewer } from './model.js';
import { UserPermissions, type RulesConfig } from './permissions.js';
import { checkFilter } from './query-match.js';
import {
  validateChangesets,
  validateQueries,
  type ChangesetInputLike,
  type UploadLimits,
} from './validate.js';

export interface SyncCoreOptions {
  store: SyncStore;
  rules: RulesConfig;
  clock: Clock;
  limits: UploadLimits;
  downloadBatchSize: number;
}

export type QueryInput = { collection: string; filter?: unknown };

export interface UploadAck extends UploadResult {
  serverVersion: number;
}

export class SyncCore {
  readonly feed = new ChangeFeed();
  /** Announces, per session id, that the session's stored record changed. */
  readonly sessionUpdates = new Topics<string>();
  private readonly inflight = new Set<Promise<UploadAck>>();
  readonly store: SyncStore;

  constructor(private readonly options: SyncCoreOptions) {
    this.store = options.store;
  }

  /** Call once at start so live streams know the newest committed version. */
  async start(): Promise<void> {
    this.feed.advance(await this.store.latestVersion());
  }

  permissions(viewer: Viewer): UserPermissions {
    return new UserPermissions(this.options.rules, viewer.id);
  }

  /** Opens (or re-opens) the session of `clientId`; refuses a client bound to another user. */
  async openSession(
    viewer: Viewer,
    clientId: string,
    queryInputs: readonly QueryInput[],
  ): Promise<SessionRecord> {
    if (clientId.length === 0 || clientId.length > 128 || clientId.includes('|')) {
      throw badInput('input.clientId', 'must be 1 to 128 characters, without "|"');
    }
    const queries = validateQueries(queryInputs, checkFilter);
    const now = this.options.clock.now().toISOString();
    const candidate: SessionRecord = {
      id: `ses_${randomUUID()}`,
      clientId,
      userId: viewer.id,
      queries,
      rescopeFrom: null,
      lastIntegratedClientVersion: 0,
      latestClientVersion: 0,
      lastDownloadedServerVersion: 0,
      pause: null,
      closed: false,
      createdAt: now,
      updatedAt: now,
    };
    const session = await this.store.openSession(candidate);
    if (session.userId !== viewer.id) {
      throw new SyncError(
        'FORBIDDEN',
        'input.clientId: this client is bound to another user',
        'input.clientId',
      );
    }
    if (session === candidate) return session;
    return this.reopen(session, queries, now);
  }

  private async reopen(session: SessionRecord, queries: SessionRecord['queries'], now: string) {
    const changed = JSON.stringify(session.queries) !== JSON.stringify(queries);
    const patch = {
      closed: false,
      updatedAt: now,
      ...(changed ? { queries, rescopeFrom: session.rescopeFrom ?? session.queries } : {}),
    };
    const updated = await this.store.updateSession(session.id, patch);
    this.feed.poke(session.id);
    return updated ?? session;
  }

  /** Loads a session the viewer may see: its own, or any for an admin; else NOT_FOUND. */
  async getSession(viewer: Viewer, id: string): Promise<SessionRecord> {
    const [session] = await this.store.getSessions([id]);
    if (!session || (session.userId !== viewer.id && !isAdmin(viewer))) {
      throw new SyncError(
        'NOT_FOUND',
        `sessionId: no session "${id}" is visible to you`,
        'sessionId',
      );
    }
    return session;
  }

  async getOpenSession(viewer: Viewer, id: string): Promise<SessionRecord> {
    const session = await this.getSession(viewer, id);
    if (session.closed)
      throw new SyncError('NOT_FOUND', `sessionId: session "${id}" is closed`, 'sessionId');
    return session;
  }

  async closeSession(viewer: Viewer, id: string): Promise<boolean> {
    const session = await this.getSession(viewer, id);
    if (session.closed) return false;
    await this.store.updateSession(id, {
      closed: true,
      updatedAt: this.options.clock.now().toISOString(),
    });
    this.feed.poke(id);
    return true;
  }

  async updateQueries(
    viewer: Viewer,
    id: string,
    inputs: readonly QueryInput[],
  ): Promise<SessionRecord> {
    const session = await this.getOpenSession(viewer, id);
    const queries = validateQueries(inputs, checkFilter);
    return this.reopen(session, queries, this.options.clock.now().toISOString());
  }

  /** Validates, then integrates the upload durably; resolves only after the commit. */
  uploadChanges(
    viewer: Viewer,
    id: string,
    inputs: readonly ChangesetInputLike[],
    latestClientVersion: number | null = null,
  ): Promise<UploadAck> {
    const upload = this.integrateUpload(viewer, id, inputs, latestClientVersion);
    this.inflight.add(upload);
    const forget = () => this.inflight.delete(upload);
    upload.then(forget, forget);
    return upload;
  }

  /** Uploads being validated or committed right now. */
  get uploadsInFlight(): number {
    return this.inflight.size;
  }

  /** Resolves once every upload in flight has committed or failed (for graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private async integrateUpload(
    viewer: Viewer,
    id: string,
    inputs: readonly ChangesetInputLike[],
    latestClientVersion: number | null,
  ): Promise<UploadAck> {
    const session = await this.getOpenSession(viewer, id);
    const changesets = validateChangesets(inputs, this.options.limits);
    if (
      latestClientVersion !== null &&
      (!Number.isInteger(latestClientVersion) || latestClientVersion < 0)
    ) {
      throw badInput('latestClientVersion', 'must be a non-negative integer');
    }
    const keys = changesets.flatMap((cs) =>
      cs.changes.map((c) => ({ collection: c.collection, id: c.id })),
    );
    const perms = this.permissions({ id: session.userId, roles: [] });
    const now = this.options.clock.now();
    const plan = planIntegration(changesets, perms, { latestClientVersion, now });
    const outcome = await this.store.integrate(session.id, keys, plan);
    this.feed.advance(outcome.serverVersion);
    this.sessionUpdates.publish(session.id, session.id);
    return { ...outcome.result, serverVersion: outcome.serverVersion };
  }

  /** Records that the client holds everything up to `serverVersion`; never moves back. */
  async acknowledgeDownload(
    viewer: Viewer,
    id: string,
    serverVersion: number,
  ): Promise<SessionRecord> {
    const session = await this.getOpenSession(viewer, id);
    const latest = await this.store.latestVersion();
    if (!Number.isInteger(serverVersion) || serverVersion < 0 || serverVersion > latest) {
      throw badInput(
        'serverVersion',
        `must be an integer from 0 to the latest server version ${latest}`,
      );
    }
    if (serverVersion <= session.lastDownloadedServerVersion) return session;
    const updated = await this.store.updateSession(id, {
      lastDownloadedServerVersion: serverVersion,
    });
    this.sessionUpdates.publish(id, id);
    return updated ?? session;
  }

  /** The download stream; checks access before the first batch. */
  async changes(
    viewer: Viewer,
    id: string,
    since: number | null,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<DownloadBatch>> {
    const session = await this.getOpenSession(viewer, id);
    if (since !== null && (!Number.isInteger(since) || since < 0))
      throw badInput('since', 'must be a non-negative integer');
    const deps = {
      store: this.store,
      feed: this.feed,
      batchSize: this.options.downloadBatchSize,
      clock: this.options.clock,
      perms: this.permissions({ id: session.userId, roles: [] }),
      loadSession: async (sid: string) => (await this.store.getSessions([sid]))[0],
    };
    return downloadStream(deps, session, since, signal);
  }
}
