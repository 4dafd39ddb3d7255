/**
 * Sync sessions as manageable entities: pause and resume (optionally one direction, until
 * a time), waits for upload and download with cancellation and timeouts, control events,
 * connection state, and reconnect requests. Pure logic over the sync core and its store.
 */
import type { Clock } from '../clock.js';
import { badInput } from '../errors.js';
import { downloadTarget } from '../sync/download-target.js';
import { isAdmin, type SessionRecord, type Viewer } from '../sync/model.js';
import type { QueryInput, SyncCore } from '../sync/sync-core.js';
import { CancellationTokens } from './cancellation.js';
import { ConnectionTracker } from './connection-tracker.js';
import type { ConnectionState } from './connection-state.js';
import {
  activePause,
  makePause,
  sessionState,
  type Direction,
  type SessionState,
} from '../sync/pause.js';
import type { SessionEvent, SessionEventType } from './session-events.js';
import { Topics } from '../streams/topics.js';
import { scopeOf } from '../sync/scope.js';
import { observedStream } from '../sync/observer.js';
import { DownloadMeter } from './download-meter.js';
import { uploadSnapshot, type ProgressMode, type SyncProgress } from './progress.js';
import { progressStream } from './progress-stream.js';
import { waitUntil, type WaitOptions } from './wait.js';

export type WaitArgs = Omit<WaitOptions, 'owner'>;

export interface SessionListQuery {
  first: number;
  after?: string;
  state?: SessionState;
  connectionState?: ConnectionState;
}

/** How long after a pause's `until` a gateway other than the pausing one lifts it. */
export const BACKUP_EXPIRY_MS = 5_000;

export class SessionService {
  readonly events = new Topics<SessionEvent>();
  readonly connections: ConnectionTracker;
  readonly tokens: CancellationTokens;
  private readonly expiries = new Map<string, () => void>();
  private stopCompaction: (() => void) | null = null;
  private stopped = false;
  /** Called with every event emitted here, to tell the other gateways (src/cluster). */
  onEmit: (type: SessionEventType, sessionId: string) => void = () => undefined;

  /** `tokenSecret` signs cancellation token ids (any gateway holding it can verify them). */
  constructor(
    readonly core: SyncCore,
    readonly clock: Clock,
    tokenSecret: string,
  ) {
    this.connections = new ConnectionTracker(clock);
    this.tokens = new CancellationTokens(tokenSecret);
  }

  /**
   * Re-arms the `until` of every stored pause (timers do not survive a restart), and
   * starts the periodic sweep for the max offline time.
   */
  async start(compactIntervalMs: number): Promise<void> {
    this.core.onResetRequired = (id) => this.emit('CLIENT_RESET_REQUIRED', id);
    for await (const s of this.allSessions(undefined)) {
      if (s.pause?.until) this.armExpiry(s.id, s.pause.until);
    }
    this.scheduleCompaction(compactIntervalMs);
  }

  /** A sweep every interval; sweeps are idempotent, so one may overlap a slow one. */
  private scheduleCompaction(intervalMs: number): void {
    this.stopCompaction = this.clock.setTimer(intervalMs, () => {
      this.scheduleCompaction(intervalMs);
      void this.sweep().catch(() => undefined); // the next sweep tries again
    });
  }

  /**
   * Expires the sessions past the max offline time and compacts the history; a session
   * connected to any gateway is not offline, so it counts as synced now first.
   */
  async sweep(): Promise<{ expired: number; compacted: number }> {
    const connected = this.connections.activeSessions();
    if (connected.length > 0) {
      await this.core.store.touchSessions(connected, this.clock.now().toISOString());
    }
    return this.core.compact();
  }

  /** A socket closed: the offline time of the sessions it declared or bound counts from now. */
  async socketClosed(socketId: string): Promise<void> {
    const sessions = this.connections.closed(socketId);
    if (sessions.length > 0) {
      await this.core.store.touchSessions(sessions, this.clock.now().toISOString());
    }
  }

  /** Every stored session (of one user, when given), page by page. */
  private async *allSessions(userId: string | undefined): AsyncGenerator<SessionRecord> {
    let after: string | undefined;
    for (;;) {
      const page = await this.core.store.listSessions({ userId, after, limit: 500 });
      yield* page.sessions;
      if (!page.hasNextPage) return;
      after = page.sessions[page.sessions.length - 1]?.id;
    }
  }

  stop(): void {
    this.stopped = true;
    this.stopCompaction?.();
    this.stopCompaction = null;
    for (const cancel of this.expiries.values()) cancel();
    this.expiries.clear();
    this.connections.stop();
  }

  /** Announces an event to the session's client, wherever it is connected. */
  emit(type: SessionEventType, sessionId: string): void {
    this.deliver(type, sessionId);
    this.onEmit(type, sessionId);
  }

  /**
   * An event from another gateway. A pause with `until` made there is backed up here: if
   * that gateway is gone when `until` passes, this one resumes the session a little later
   * (and says RESUMED); otherwise the backup finds the pause already lifted.
   */
  received(type: SessionEventType, sessionId: string): void {
    this.deliver(type, sessionId);
    if (type === 'PAUSED') this.backUpExpiry(sessionId).catch(() => undefined);
  }

  /** Arms the backup (a store read failing leaves only the pausing gateway's timer). */
  private async backUpExpiry(id: string): Promise<void> {
    const [session] = await this.core.store.getSessions([id]);
    if (this.stopped || !session?.pause?.until) return;
    this.armExpiry(id, session.pause.until, BACKUP_EXPIRY_MS);
  }

  private cancelExpiry(id: string): void {
    this.expiries.get(id)?.();
    this.expiries.delete(id);
  }

  /** Delivers an event to this gateway's subscribers (from here or from another gateway). */
  deliver(type: SessionEventType, sessionId: string): void {
    this.events.publish(sessionId, { type, sessionId, at: this.clock.now() });
  }

  async pause(viewer: Viewer, id: string, direction: Direction | null, until: Date | null) {
    const now = this.clock.now();
    if (until && until.getTime() <= now.getTime()) throw badInput('until', 'must be in the future');
    await this.core.getOpenSession(viewer, id);
    const pause = makePause(direction, until, now);
    const session = await this.save(id, { pause });
    if (until) this.armExpiry(id, until.toISOString());
    this.emit('PAUSED', id);
    const { directions } = pause;
    this.observer.sessionChanged({
      type: 'paused',
      sessionId: id,
      userId: viewer.id,
      directions,
      until: pause.until,
    });
    return session;
  }

  async resume(viewer: Viewer, id: string) {
    await this.core.getOpenSession(viewer, id);
    this.cancelExpiry(id);
    const session = await this.save(id, { pause: null });
    this.emit('RESUMED', id);
    this.observer.sessionChanged({ type: 'resumed', sessionId: id, userId: viewer.id });
    return session;
  }

  private armExpiry(id: string, until: string, afterMs = 0): void {
    this.expiries.get(id)?.();
    const ms = Date.parse(until) - this.clock.now().getTime() + afterMs;
    this.expiries.set(
      id,
      this.clock.setTimer(ms, () => void this.expire(id, until).catch(() => undefined)),
    );
  }

  /**
   * The `until` of a pause has passed: the session resumes by itself. The pause is lifted
   * only if it is still the one with this `until`, in one atomic step, so of the gateways
   * whose timers fire only one lifts it and says RESUMED.
   */
  private async expire(id: string, until: string): Promise<void> {
    this.expiries.delete(id);
    const patch = { pause: null, updatedAt: this.clock.now().toISOString() };
    const lifted = await this.core.store.updateSession(id, patch, { pauseUntil: until });
    if (!lifted) return;
    this.core.notifySession(id);
    this.emit('RESUMED', id);
    this.observer.sessionChanged({ type: 'resumed', sessionId: id, userId: null });
  }

  private async save(id: string, patch: Pick<SessionRecord, 'pause'>) {
    const updated = await this.core.store.updateSession(id, {
      ...patch,
      updatedAt: this.clock.now().toISOString(),
    });
    this.core.notifySession(id);
    return updated!;
  }

  private get observer() {
    return this.core.observer;
  }

  /** Whether the stored pause is in force now. */
  pauseOf(session: SessionRecord) {
    return activePause(session.pause, this.clock.now());
  }

  async updateQueries(viewer: Viewer, id: string, queries: readonly QueryInput[]) {
    const session = await this.core.updateQueries(viewer, id, queries);
    this.emit('QUERIES_CHANGED', id);
    return session;
  }

  async close(viewer: Viewer, id: string) {
    const closed = await this.core.closeSession(viewer, id);
    if (closed) this.emit('CLOSED', id);
    return closed;
  }

  /** Resolves when every changeset the client had reported at the call is integrated. */
  async waitForUpload(viewer: Viewer, id: string, args: WaitArgs): Promise<SessionRecord> {
    const session = await this.core.getSyncSession(viewer, id);
    const target = Math.max(session.latestClientVersion, session.lastIntegratedClientVersion);
    return this.waitFor(viewer, id, (s) => s.lastIntegratedClientVersion >= target, args);
  }

  /**
   * Resolves when the client has acknowledged every version in its scope that existed at the
   * call, and its data matches the session's queries (no re-scoping pending).
   */
  async waitForDownload(viewer: Viewer, id: string, args: WaitArgs): Promise<SessionRecord> {
    const session = await this.core.getSyncSession(viewer, id);
    const perms = this.core.permissions({ id: session.userId, roles: [] });
    const target = await downloadTarget(this.core.store, session, perms, 500);
    const done = (s: SessionRecord) => s.lastDownloadedServerVersion >= target && !s.rescopeFrom;
    return this.waitFor(viewer, id, done, args);
  }

  private async waitFor(
    viewer: Viewer,
    id: string,
    done: (s: SessionRecord) => boolean,
    args: WaitArgs,
  ): Promise<SessionRecord> {
    let latest: SessionRecord | undefined;
    const check = async () => {
      latest = (await this.core.store.getSessions([id]))[0];
      return latest !== undefined && done(latest);
    };
    const updates = (signal: AbortSignal) => this.core.sessionUpdates.subscribe(id, signal);
    const deps = { clock: this.clock, tokens: this.tokens };
    await waitUntil(deps, check, updates, { ...args, owner: viewer.id });
    return latest!;
  }

  /** The viewer's sessions (all, for an admin) after `after`, filtered by state and connection. */
  async list(
    viewer: Viewer,
    query: SessionListQuery,
  ): Promise<{ sessions: SessionRecord[]; hasNextPage: boolean }> {
    const sessions: SessionRecord[] = [];
    const matches = (s: SessionRecord) =>
      (!query.state || sessionState(s.pause, this.clock.now()) === query.state) &&
      (!query.connectionState || this.connections.stateOf(s.id) === query.connectionState);
    let after = query.after;
    for (;;) {
      const userId = isAdmin(viewer) ? undefined : viewer.id;
      const page = await this.core.store.listSessions({ userId, after, limit: query.first + 1 });
      for (const s of page.sessions) {
        if (!matches(s)) continue;
        if (sessions.length === query.first) return { sessions, hasNextPage: true };
        sessions.push(s);
      }
      if (!page.hasNextPage) return { sessions, hasNextPage: false };
      after = page.sessions[page.sessions.length - 1]?.id;
    }
  }

  /**
   * Asks one session (`id`), or every session of the viewer (every session, for an admin),
   * to reconnect now; says how many were asked.
   */
  async reconnect(viewer: Viewer, id?: string): Promise<number> {
    if (id !== undefined) {
      await this.core.getOpenSession(viewer, id);
      this.emit('RECONNECT_REQUESTED', id);
      return 1;
    }
    let asked = 0;
    for await (const s of this.allSessions(isAdmin(viewer) ? undefined : viewer.id)) {
      if (s.closed) continue;
      this.emit('RECONNECT_REQUESTED', s.id);
      asked += 1;
    }
    return asked;
  }

  /** The session's events from now on; one that must reset hears so at once. */
  async watchEvents(viewer: Viewer, id: string, signal: AbortSignal) {
    const session = await this.core.getSession(viewer, id);
    const events = observedStream(
      this.observer,
      'sessionEvents',
      this.events.subscribe(id, signal),
    );
    if (session.closed) return events;
    if (session.resetRequired) this.emit('CLIENT_RESET_REQUIRED', id);
    else if (this.core.isExpired(session)) await this.core.requireReset(id);
    return events;
  }

  /** The `progress` subscription of a session the viewer may see. */
  async watchProgress(
    viewer: Viewer,
    id: string,
    direction: Direction,
    mode: ProgressMode,
    signal: AbortSignal,
  ) {
    const session = await this.core.getSession(viewer, id);
    const stream = progressStream(this.core, session, direction, mode, signal);
    return observedStream(this.observer, 'progress', stream);
  }

  /** Upload progress now: of the work outstanding since the client last had none. */
  uploadProgress(session: SessionRecord): SyncProgress {
    return uploadSnapshot(session);
  }

  /** Download progress now: what remains in scope after the client's acknowledgement. */
  async downloadProgress(session: SessionRecord): Promise<SyncProgress> {
    const scope = scopeOf(
      session.queries,
      this.core.permissions({ id: session.userId, roles: [] }),
    );
    const meter = new DownloadMeter(this.core, scope, session.lastDownloadedServerVersion, 500);
    const ack = session.lastDownloadedServerVersion;
    return meter.measure(ack, await this.core.store.latestVersion());
  }

  async watchConnection(viewer: Viewer, id: string, signal: AbortSignal) {
    await this.core.getSession(viewer, id);
    const changes = this.connections.changes.subscribe(id, signal);
    return observedStream(this.observer, 'connectionStateChanges', changes);
  }
}
