/**
 * A local database's sync session, shaped like Realm's: state, connection state, pause and
 * resume (by direction), waits, progress streams, query updates, client reset and one place
 * for every sync error. It owns the upload queue (uploader.ts) and the download stream
 * (downloader.ts), and follows the gateway's session events.
 *
 *   ACTIVE ──pause(direction?) here, or PAUSED from the gateway──▶ INACTIVE
 *   INACTIVE ──resume() here, or RESUMED from the gateway──▶ ACTIVE
 *
 * A pause or resume made here takes effect at once, online or not, and reaches the gateway
 * when connected; until it has, what the gateway says of the pause is not adopted.
 */
import type { App, ConnectionState } from './app.js';
import { backoffDelay, retryDelay } from './backoff.js';
import { CancellationToken } from './cancellation.js';
import {
  DEFAULT_CLIENT_RESET,
  runClientReset,
  type ClientResetConfig,
  type ClientResetMode,
  type ClientResetOutcome,
} from './client-reset.js';
import type { LiveHandle } from './connection.js';
import { Downloader } from './downloader.js';
import { ClientResetError, SessionClosedError, SyncClientError, toSyncError } from './errors.js';
import {
  OpenSessionDocument,
  PauseSessionDocument,
  ProgressDocument,
  ResumeSessionDocument,
  SessionDocument,
  SessionEventsDocument,
  UpdateQueriesDocument,
  WaitForDownloadDocument,
  type ProgressDirection,
  type ProgressMode,
  type SessionEventsSubscription,
  type SessionFieldsFragment,
  type SyncQueryInput,
} from './gql/graphql.js';
import type { LocalDatabase } from './local-database.js';
import { slidingQueue } from './sliding-queue.js';
import type { Direction, RefusedChangeset } from './storage.js';
import { uploadProgress, type SyncProgress } from './upload-progress.js';
import { Uploader } from './uploader.js';

export type { SyncProgress };
export type SessionState = 'ACTIVE' | 'INACTIVE';
export interface ConnectionStateChange {
  previous: ConnectionState;
  current: ConnectionState;
}

export interface SyncSessionOptions {
  clientReset?: ClientResetConfig;
  /** Every sync error of this session (also `onError`). */
  onError?: (error: SyncClientError) => void;
}

type SessionEvent = SessionEventsSubscription['sessionEvents'];
const BOTH: Direction[] = ['UPLOAD', 'DOWNLOAD'];
const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

export class SyncSession {
  private sessionId: string | null = null;
  private opened: Promise<string>;
  private readonly errorListeners = new Set<(error: SyncClientError) => void>();
  private readonly appliedListeners = new Set<() => void>();
  private readonly stops: (() => void)[] = [];
  private readonly uploader: Uploader;
  private downloader: Downloader | null = null;
  private events: LiveHandle | null = null;
  private resetting: Promise<void> | null = null;
  /** Sync stopped: the manual reset mode waits for the app, or the session ended. */
  private halted = false;
  private closed = false;
  private pauseSyncing = false;
  /** The changesets follow the gateway's client versions (alignWith ran): uploads may go. */
  private aligned = false;
  private resetFailures = 0;
  private readonly retries = new Retries();

  constructor(
    private readonly app: App,
    private readonly db: LocalDatabase,
    private queries: SyncQueryInput[],
    private readonly options: SyncSessionOptions = {},
  ) {
    if (options.onError) this.errorListeners.add(options.onError);
    this.uploader = new Uploader({
      app,
      db,
      target: () => this.uploadTarget(),
      report: (error) => this.report(error),
      pausedByGateway: () => void this.adoptPause(['UPLOAD', ...db.meta.paused]),
      resetRequired: (error) => void this.reset(error),
    });
    this.stops.push(
      db.onCommitted(() => this.uploader.poke()),
      app.onConnectionChange((_, current) => current === 'CONNECTED' && this.onConnected()),
      app.onError((error) => this.report(error)),
    );
    this.opened = this.open();
    this.opened.catch((error: unknown) => this.report(toSyncError(error)));
  }

  /** ACTIVE, or INACTIVE while paused in either direction. */
  get state(): SessionState {
    return this.db.meta.paused.length > 0 ? 'INACTIVE' : 'ACTIVE';
  }

  /** The directions paused now (empty when ACTIVE). */
  get pausedDirections(): readonly Direction[] {
    return this.db.meta.paused;
  }

  get connectionState(): ConnectionState {
    return this.app.connectionState;
  }

  /** The changesets the gateway refused as bad input, newest last (at most 100). */
  get refusedChangesets(): readonly RefusedChangeset[] {
    return this.db.meta.refused;
  }

  /** The gateway's id of this session, once opened. */
  id(): Promise<string> {
    return this.opened;
  }

  /**
   * Every sync error of the session: compensating writes, refused changesets, client resets,
   * session and connection errors (typed classes in errors.ts). Returns the undo.
   */
  onError(listener: (error: SyncClientError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** `{ previous, current }` for every change of the connection, until the loop ends. */
  connectionStateChanges(): AsyncIterable<ConnectionStateChange> {
    let off = () => {};
    const queue = slidingQueue<ConnectionStateChange>(100, () => off());
    off = this.app.onConnectionChange((previous, current) => queue.push({ previous, current }));
    return queue.stream;
  }

  /**
   * Stops syncing in one direction, or both (no direction), at once: writes stay local, no
   * download is applied. The gateway is told when connected. Resolves once stored locally.
   */
  async pause(direction?: Direction): Promise<void> {
    const paused = direction ? [...new Set([...this.db.meta.paused, direction])] : BOTH;
    await this.db.setPaused(paused, false);
    this.applyPause();
  }

  /** Syncs again in both directions, and connects now if waiting to (the backoff is reset). */
  async resume(): Promise<void> {
    await this.db.setPaused([], false);
    this.applyPause();
    this.app.reconnect();
  }

  /** Resolves when every changeset made before the call is acknowledged by the gateway. */
  waitForUpload(token?: CancellationToken): Promise<void> {
    // The changesets themselves, not their numbers: aligning may renumber them.
    const waiting = new Set<object>(this.db.snapshot.pending);
    const done = () => !this.db.snapshot.pending.some((cs) => waiting.has(cs));
    return CancellationToken.race(
      token,
      (onCancel) =>
        new Promise<void>((resolve) => {
          if (done()) return resolve();
          const stop = this.db.onChange(() => done() && (stop(), resolve()));
          onCancel(stop);
        }),
    );
  }

  /**
   * Resolves when the database holds every change in the session's scope that existed at the
   * call (and the scope of the latest `updateQueries`). Waits for a connection; goes on
   * across reconnections and client resets.
   */
  waitForDownload(token?: CancellationToken): Promise<void> {
    return CancellationToken.race(token, async (onCancel) => {
      const controller = new AbortController();
      onCancel(() => controller.abort());
      for (let refusals = 0; ;) {
        const sessionId = await this.opened;
        await this.resetting;
        try {
          await this.app.request(WaitForDownloadDocument, { sessionId }, controller.signal);
          return await this.caughtUpLocally(controller.signal);
        } catch (error) {
          const e = toSyncError(error);
          if (e.code === 'CONNECTION_LOST' && !this.closed) continue;
          if (e.retryable && !this.closed) {
            await sleep(retryDelay(e, (refusals += 1), RETRY));
            continue;
          }
          if (!(e instanceof ClientResetError) || this.halted) throw e;
          await this.reset(e);
        }
      }
    });
  }

  /** Changes the session's queries; `waitForDownload()` then waits for the new scope. */
  async updateQueries(queries: SyncQueryInput[]): Promise<void> {
    const sessionId = await this.opened;
    this.queries = queries; // a reset meanwhile reopens with them
    await this.retrying(() => this.app.request(UpdateQueriesDocument, { sessionId, queries }));
  }

  /**
   * After the gateway's wait: the batches it sent are applied, a bootstrap under way is
   * complete, and the download has passed this client's own acknowledged writes.
   */
  private async caughtUpLocally(signal: AbortSignal): Promise<void> {
    await this.downloader?.settled();
    const { db } = this;
    const target = db.awaitingVersion();
    const done = () =>
      db.meta.bootstrapped && db.meta.bootstrapUntil === null && db.meta.serverVersion >= target;
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const stop = db.onChange(() => done() && (finish(), resolve()));
      const onAbort = () => (finish(), reject(new SyncClientError('CANCELLED', 'cancelled')));
      const finish = () => (stop(), signal.removeEventListener('abort', onAbort));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Progress values with the gateway's `progress` semantics, as an async iterable. Upload
   * progress is known here (the client's own changesets); download progress comes from the
   * gateway, followed across reconnections.
   */
  getProgressStream(direction: ProgressDirection, mode: ProgressMode): AsyncIterable<SyncProgress> {
    if (direction === 'UPLOAD')
      return uploadProgress(this.db, mode === 'FOR_CURRENTLY_OUTSTANDING_WORK');
    const fixed = mode === 'FOR_CURRENTLY_OUTSTANDING_WORK';
    let handle: LiveHandle | null = null;
    const queue = slidingQueue<SyncProgress>(1, () => handle?.stop());
    let best = 0;
    void this.opened.then((sessionId) => {
      handle = this.app.follow(ProgressDocument, () => ({ sessionId, direction, mode }), {
        next: ({ progress }) => {
          // A resent subscription fixes a new target: in the fixed mode, never go down.
          best = fixed ? Math.max(best, progress.progressEstimate) : progress.progressEstimate;
          queue.push({ ...progress, progressEstimate: best });
          if (fixed && best === 1) queue.stop();
        },
        error: (error) => (this.report(error), queue.stop()),
        complete: () => queue.stop(),
      });
    }, queue.stop);
    return queue.stream;
  }

  /** Ends the session's streams (the database and its unsynced writes stay). */
  close(): void {
    this.closed = true;
    this.stopSyncing();
    this.retries.clear();
    this.uploader.stop();
    for (const stop of this.stops.splice(0)) stop();
  }

  // ---- opening, events, pause ----

  private async open(): Promise<string> {
    const session = await this.openSession();
    await this.db.alignWith(session.lastIntegratedClientVersion);
    this.aligned = true;
    this.sessionId = session.id;
    this.app.declareSession(session.id);
    if (this.db.meta.pauseSynced) await this.db.setPaused(session.pausedDirections, true);
    this.followEvents(session.id);
    this.downloader = this.newDownloader(session.id);
    this.applyPause();
    return session.id;
  }

  private followEvents(sessionId: string): void {
    let restarts = 0;
    const restartLater = () =>
      this.retries.after('events', backoffDelay((restarts += 1), RETRY), () => handle.restart());
    const handle = this.app.follow(SessionEventsDocument, () => ({ sessionId }), {
      next: (data) => ((restarts = 0), void this.onEvent(data.sessionEvents)),
      error: (error) => (this.onStreamError(error), this.events && restartLater()),
      complete: () => this.events && restartLater(),
    });
    this.events = handle;
  }

  private async openSession(): Promise<SessionFieldsFragment> {
    const input = { clientId: this.db.clientId, queries: this.queries };
    const result = await this.retrying(() => this.app.request(OpenSessionDocument, { input }));
    return result.openSession;
  }

  private newDownloader(sessionId: string): Downloader {
    return new Downloader(
      {
        app: this.app,
        db: this.db,
        report: (error) => this.report(error),
        resetRequired: (error) => void this.reset(error),
        sessionEnded: (error) => this.sessionEnded(error),
        applied: () => this.appliedListeners.forEach((listener) => listener()),
      },
      sessionId,
    );
  }

  private async onEvent(event: SessionEvent): Promise<void> {
    if (event.type === 'PAUSED' || event.type === 'RESUMED') {
      await this.adoptPause(event.session.pausedDirections);
    } else if (event.type === 'RECONNECT_REQUESTED') this.app.restartConnection();
    else if (event.type === 'CLIENT_RESET_REQUIRED') {
      await this.reset(new ClientResetError('the gateway requires a client reset'));
    } else if (event.type === 'CLOSED') this.sessionEnded(new SessionClosedError());
  }

  private onStreamError(error: SyncClientError): void {
    if (error.code === 'NOT_FOUND') return this.sessionEnded(error);
    this.report(error);
  }

  /** What the gateway says of the pause, unless a pause or resume made here has not reached it. */
  private async adoptPause(directions: readonly Direction[]): Promise<void> {
    if (!this.db.meta.pauseSynced) return;
    const paused = BOTH.filter((d) => directions.includes(d));
    if (!sameSet(paused, this.db.meta.paused)) await this.db.setPaused(paused, true);
    this.applyPause();
  }

  /** Starts or stops each direction as the pause says, and tells the gateway if it must. */
  private applyPause(): void {
    const { paused } = this.db.meta;
    if (this.syncing() && !paused.includes('DOWNLOAD')) this.downloader?.start();
    else this.downloader?.stop();
    this.uploader.poke();
    void this.tellGatewayOfPause();
  }

  /** Sends a pause or resume made here; after a failure, the next connection tries again. */
  private async tellGatewayOfPause(): Promise<void> {
    const id = this.sessionId;
    if (this.pauseSyncing || !id || this.db.meta.pauseSynced || !this.syncing()) return;
    if (this.app.connectionState !== 'CONNECTED') return;
    this.pauseSyncing = true;
    const wanted = [...this.db.meta.paused];
    try {
      if (wanted.length === 0) await this.app.request(ResumeSessionDocument, { id });
      else {
        const direction = wanted.length === 1 ? wanted[0] : null;
        await this.app.request(PauseSessionDocument, { id, direction });
      }
      if (sameSet(wanted, this.db.meta.paused)) await this.db.setPaused(wanted, true);
    } catch (error) {
      const e = toSyncError(error);
      this.handleRequestError(e);
      if (e.code !== 'CONNECTION_LOST' && e.code !== 'APP_CLOSED') this.retryPauseLater();
      return;
    } finally {
      this.pauseSyncing = false;
    }
    this.pauseFailures = 0;
    this.applyPause(); // uploads go on; a pause changed meanwhile is sent now
  }

  private pauseFailures = 0;

  private retryPauseLater(): void {
    const delay = backoffDelay((this.pauseFailures += 1), RETRY);
    this.retries.after('pause', delay, () => void this.tellGatewayOfPause());
  }

  private onConnected(): void {
    void this.tellGatewayOfPause();
    void this.refreshPause();
    this.downloader?.reacknowledge();
    this.uploader.poke();
  }

  /** Events sent while disconnected are not sent again: read the pause as it is now. */
  private async refreshPause(): Promise<void> {
    const id = this.sessionId;
    if (!id || !this.db.meta.pauseSynced) return;
    try {
      const { session } = await this.app.request(SessionDocument, { id });
      if (session) await this.adoptPause(session.pausedDirections);
    } catch (error) {
      this.handleRequestError(toSyncError(error));
    }
  }

  private uploadTarget(): string | null {
    const { paused, pauseSynced } = this.db.meta;
    const allowed = this.syncing() && this.aligned && pauseSynced && !paused.includes('UPLOAD');
    return allowed ? this.sessionId : null;
  }

  private syncing(): boolean {
    return !this.closed && !this.halted && !this.resetting && this.sessionId !== null;
  }

  // ---- client reset ----

  /** Resets in the configured mode, or in `mode` when the app performs a manual reset. */
  private reset(error: ClientResetError, mode?: ClientResetOutcome): Promise<void> {
    if (this.resetting || this.closed) return this.resetting ?? Promise.resolve();
    if (this.halted && mode === undefined) return Promise.resolve(); // the app decides
    this.halted = false;
    if (mode === undefined) this.report(error);
    this.downloader?.stop();
    this.downloader = null;
    this.resetting = this.runReset(error, mode)
      .then(
        () => {
          this.resetFailures = 0;
        },
        (failure: unknown) => {
          this.resetFailures += 1;
          this.report(toSyncError(failure));
        },
      )
      .finally(() => {
        this.resetting = null;
        // Even after a failure: the next download starts from what the database says, and the
        // gateway's CLIENT_RESET_REQUIRED, if it still holds, starts the reset again.
        if (!this.downloader && this.sessionId)
          this.downloader = this.newDownloader(this.sessionId);
        this.applyPause();
      });
    this.uploader.poke();
    return this.resetting;
  }

  private async runReset(error: ClientResetError, chosen?: ClientResetOutcome): Promise<void> {
    if (this.resetFailures > 0) await sleep(backoffDelay(this.resetFailures, RETRY));
    const config = this.options.clientReset ?? DEFAULT_CLIENT_RESET;
    const mode = chosen ?? config.mode;
    if (mode !== 'manual' && (await this.resetIn(mode)) !== 'manual') return;
    this.halted = true;
    error.performReset = async (outcome = 'recoverUnsyncedChanges') => {
      await this.resetting; // this one, which ends by handing over to the app
      await this.reset(error, outcome);
    };
    config.onManual?.(error);
  }

  private async resetIn(mode: Exclude<ClientResetMode, 'manual'>) {
    const outcome = await runClientReset(
      {
        db: this.db,
        config: this.options.clientReset ?? DEFAULT_CLIENT_RESET,
        reopen: async () => (await this.openSession()).lastIntegratedClientVersion,
        bootstrapped: () => this.bootstrapped(),
        report: (failure) => this.report(toSyncError(failure)),
      },
      mode,
    );
    return outcome;
  }

  private bootstrapped(): Promise<void> {
    return new Promise((resolve) => {
      if (this.db.meta.bootstrapped) return resolve();
      const check = () =>
        this.db.meta.bootstrapped && (this.appliedListeners.delete(check), resolve());
      this.appliedListeners.add(check);
    });
  }

  // ---- errors and endings ----

  private sessionEnded(error: SyncClientError): void {
    this.report(
      error instanceof SessionClosedError ? error : new SessionClosedError(error.message),
    );
    this.halted = true;
    this.stopSyncing();
  }

  private stopSyncing(): void {
    this.downloader?.stop();
    this.events?.stop();
    this.events = null;
    this.uploader.poke();
  }

  private handleRequestError(error: SyncClientError): void {
    if (error.code === 'CONNECTION_LOST' || error.code === 'APP_CLOSED') return;
    if (error instanceof ClientResetError) void this.reset(error);
    else if (error.code === 'NOT_FOUND') this.sessionEnded(error);
    else this.report(error);
  }

  private report(error: SyncClientError): void {
    if (error.code === 'APP_CLOSED') return; // the app closed it: nothing to tell
    if (this.errorListeners.size === 0) {
      console.warn(
        `sync session ${this.sessionId ?? '(opening)'}: ${error.name}: ${error.message}`,
      );
    }
    for (const listener of [...this.errorListeners]) {
      try {
        listener(error);
      } catch {
        // an app's listener failing must not stop the sync
      }
    }
  }

  /** Runs a request again after every lost connection, until it answers or the session closes. */
  /**
   * Sends `request` until the gateway answers: again on a new connection, and after a
   * backoff when the gateway refused it as retryable (reported; it did nothing of it).
   */
  private async retrying<T>(request: () => Promise<T>): Promise<T> {
    for (let refusals = 0; ;) {
      try {
        return await request();
      } catch (error) {
        const e = toSyncError(error);
        if (this.closed || (e.code !== 'CONNECTION_LOST' && !e.retryable)) throw error;
        if (!e.retryable) continue;
        this.report(e);
        await sleep(retryDelay(e, (refusals += 1), RETRY));
      }
    }
  }
}

const RETRY = { baseMs: 250, maxMs: 10_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Named retry timers: one pending per name, all cleared on close. */
class Retries {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  after(name: string, ms: number, run: () => void): void {
    if (this.timers.has(name)) return;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      run();
    }, ms);
    this.timers.set(name, timer);
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
