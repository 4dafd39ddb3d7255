/**
 * A local database's sync session, shaped like Realm's: state, connection state,
 * pause/resume, waits, progress streams. It uploads the database's changesets in order
 * (each exactly once: re-sending an acknowledged one is harmless), applies and
 * acknowledges the download stream, and follows the gateway's session events.
 *
 *   ACTIVE ──pause() or PAUSED event──▶ INACTIVE ──resume() or RESUMED event──▶ ACTIVE
 */
import type { App, ConnectionState } from './app.js';
import { CancellationToken } from './cancellation.js';
import { slidingQueue } from './sliding-queue.js';
import { SyncClientError } from './errors.js';
import {
  AcknowledgeDownloadDocument,
  CancelDocument,
  ChangesDocument,
  CreateCancellationTokenDocument,
  OpenSessionDocument,
  PauseSessionDocument,
  ProgressDocument,
  ResumeSessionDocument,
  SessionEventsDocument,
  UploadChangesDocument,
  WaitForDownloadDocument,
  type ChangesSubscription,
  type ProgressDirection,
  type ProgressMode,
  type SessionEventsSubscription,
  type SyncQueryInput,
} from './gql/graphql.js';
import type { LocalDatabase } from './local-database.js';
import { uploadProgress, type SyncProgress } from './upload-progress.js';

export type SessionState = 'ACTIVE' | 'INACTIVE';
export type { SyncProgress };
export interface ConnectionStateChange {
  previous: ConnectionState;
  current: ConnectionState;
}

const UPLOAD_BATCH = 50;

export class SyncSession {
  private sessionId: string | null = null;
  private localState: SessionState = 'ACTIVE';
  private uploading = false;
  private readonly stops: (() => void)[] = [];
  /** The session's subscriptions, ended and made again on a client reset. */
  private streams: (() => void)[] = [];
  private opened: Promise<string>;

  constructor(
    private readonly app: App,
    private readonly db: LocalDatabase,
    private readonly queries: SyncQueryInput[],
  ) {
    this.opened = this.open();
    this.stops.push(db.onChange(() => void this.flush()));
    this.stops.push(
      app.onConnectionChange((_, current) => current === 'CONNECTED' && void this.flush()),
    );
  }

  get state(): SessionState {
    return this.localState;
  }

  get connectionState(): ConnectionState {
    return this.app.connectionState;
  }

  /** The gateway's id of this session, once opened. */
  id(): Promise<string> {
    return this.opened;
  }

  /** `{ previous, current }` for every change of the connection, until the loop ends. */
  connectionStateChanges(): AsyncIterable<ConnectionStateChange> {
    const queue = slidingQueue<ConnectionStateChange>(100, () => off());
    const off = this.app.onConnectionChange((previous, current) =>
      queue.push({ previous, current }),
    );
    return queue.stream;
  }

  private async open(): Promise<string> {
    const { openSession } = await this.app.request(OpenSessionDocument, {
      input: { clientId: this.db.clientId, queries: this.queries },
    });
    this.sessionId = openSession.id;
    this.app.declareSession(openSession.id);
    this.localState = openSession.state;
    this.follow(openSession.id, this.db.snapshot.serverVersion === 0 ? 0 : undefined);
    void this.flush();
    return openSession.id;
  }

  /** Subscribes to the session's events and download stream. */
  private follow(sessionId: string, since: number | undefined): void {
    this.streams.push(
      this.app.subscribe(
        SessionEventsDocument,
        { sessionId },
        { next: (e) => void this.onEvent(e), error: () => undefined },
      ),
      this.app.subscribe(
        ChangesDocument,
        { sessionId, since },
        { next: (b) => void this.onBatch(b), error: () => undefined },
      ),
    );
  }

  private async onBatch({ changes: batch }: ChangesSubscription): Promise<void> {
    await this.db.applyDownload(
      batch.changes.map((c) => ({ ...c, id: String(c.id) })),
      batch.toServerVersion,
    );
    if (batch.toServerVersion === 0 || !this.sessionId) return;
    await this.app
      .request(AcknowledgeDownloadDocument, {
        sessionId: this.sessionId,
        serverVersion: batch.toServerVersion,
      })
      .catch(() => undefined); // the next batch or reconnection acknowledges again
  }

  private async onEvent({ sessionEvents: event }: SessionEventsSubscription): Promise<void> {
    if (event.type === 'PAUSED') this.localState = 'INACTIVE';
    if (event.type === 'RESUMED') {
      this.localState = 'ACTIVE';
      await this.flush();
    }
    if (event.type === 'RECONNECT_REQUESTED') this.app.restartConnection();
    if (event.type === 'CLIENT_RESET_REQUIRED') await this.clientReset();
  }

  /** Client reset: a fresh copy from the gateway, with the unsynced changes replayed on it. */
  async clientReset(): Promise<void> {
    for (const stop of this.streams.splice(0)) stop();
    await this.db.resetServerState();
    this.opened = this.reopenAfterReset();
    await this.opened;
  }

  private async reopenAfterReset(): Promise<string> {
    const { openSession } = await this.app.request(OpenSessionDocument, {
      input: { clientId: this.db.clientId, queries: this.queries },
    });
    this.follow(openSession.id, 0);
    void this.flush();
    return openSession.id;
  }

  /** Uploads pending changesets in order while the session is active and connected. */
  private async flush(): Promise<void> {
    if (this.uploading || !this.sessionId || this.localState !== 'ACTIVE') return;
    this.uploading = true;
    try {
      while (
        this.db.snapshot.pending.length > 0 &&
        this.localState === 'ACTIVE' &&
        this.connectionState === 'CONNECTED'
      ) {
        await this.uploadBatch(this.sessionId);
      }
    } catch (error) {
      await this.onUploadError(error);
    } finally {
      this.uploading = false;
    }
  }

  private async uploadBatch(sessionId: string): Promise<void> {
    const pending = this.db.snapshot.pending;
    const batch = pending.slice(0, UPLOAD_BATCH);
    const rest = pending.slice(UPLOAD_BATCH);
    const { uploadChanges: ack } = await this.app.request(UploadChangesDocument, {
      sessionId,
      changesets: batch,
      latestClientVersion: this.db.snapshot.clientVersion,
      pendingBytes: rest.reduce((n, cs) => n + JSON.stringify(cs.changes).length, 0),
    });
    await this.db.acknowledgeUpload(ack.lastIntegratedClientVersion, ack.serverVersion);
    const refused = ack.compensatingWrites.map((w) => ({
      collection: w.collection,
      id: String(w.id),
      op: w.document ? 'UPSERT' : 'REMOVE',
      document: w.document,
    }));
    if (refused.length > 0) await this.db.applyDownload(refused, 0);
  }

  private async onUploadError(error: unknown): Promise<void> {
    if (!(error instanceof SyncClientError)) return; // the connection dropped: retried on reconnect
    if (error.code === 'SESSION_PAUSED') this.localState = 'INACTIVE';
    else if (error.code === 'CLIENT_RESET_REQUIRED') await this.clientReset();
    else throw error;
  }

  /** Stops syncing in both directions; writes stay local until `resume()`. */
  async pause(): Promise<void> {
    this.localState = 'INACTIVE';
    await this.app.request(PauseSessionDocument, { id: await this.opened });
  }

  async resume(): Promise<void> {
    await this.app.request(ResumeSessionDocument, { id: await this.opened });
    this.localState = 'ACTIVE';
    await this.flush();
  }

  /** Resolves when every changeset made before the call is acknowledged by the gateway. */
  waitForUpload(token?: CancellationToken): Promise<void> {
    const target = this.db.snapshot.clientVersion;
    const done = () => this.db.snapshot.pending.every((cs) => cs.clientVersion > target);
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

  /** Resolves when every change in the session's scope at the call is downloaded and acknowledged. */
  waitForDownload(token?: CancellationToken): Promise<void> {
    return CancellationToken.race(token, async (onCancel) => {
      const sessionId = await this.opened;
      const serverToken = token
        ? (await this.app.request(CreateCancellationTokenDocument, {})).createCancellationToken.id
        : null;
      if (serverToken)
        onCancel(
          () =>
            void this.app
              .request(CancelDocument, { cancellationToken: serverToken })
              .catch(() => undefined),
        );
      await this.app.request(WaitForDownloadDocument, {
        sessionId,
        cancellationToken: serverToken,
      });
    });
  }

  /**
   * Progress values with the gateway's `progress` semantics, as an async iterable. Upload
   * progress is known here (the client's own changesets); download progress comes from the
   * gateway.
   */
  getProgressStream(direction: ProgressDirection, mode: ProgressMode): AsyncIterable<SyncProgress> {
    if (direction === 'UPLOAD')
      return uploadProgress(this.db, mode === 'FOR_CURRENTLY_OUTSTANDING_WORK');
    let end = () => {};
    const queue = slidingQueue<SyncProgress>(1, () => end());
    void this.opened.then((sessionId) => {
      end = this.app.subscribe(
        ProgressDocument,
        { sessionId, direction, mode },
        { next: (v) => queue.push(v.progress), error: queue.stop, complete: queue.stop },
      );
    });
    return queue.stream;
  }

  /** Ends the session's streams (the database and its unsynced writes stay). */
  close(): void {
    for (const stop of [...this.stops.splice(0), ...this.streams.splice(0)]) stop();
  }
}
