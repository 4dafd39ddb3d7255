/**
 * The download side of one session: follows `changes`, applies its batches in order and
 * acknowledges them. Every (re)subscription resumes where the database is:
 *
 *   never bootstrapped ──▶ changes(since: 0): a bootstrap (versioned snapshot pages)
 *   bootstrap interrupted ──▶ changes(since: last page, bootstrapUntil): the rest of it
 *   bootstrapped ──▶ changes(since: last applied version): history only, never a bootstrap
 *
 * Batches from an older subscription still queued when a new one starts are dropped: the new
 * one sends them again from where the database is. Acknowledgements are coalesced (only the
 * newest is sent, one at a time) and sent only once the batch is durable.
 */
import type { App } from './app.js';
import { backoffDelay } from './backoff.js';
import type { LiveHandle } from './connection.js';
import { ClientResetError, SyncClientError, toSyncError } from './errors.js';
import {
  AcknowledgeDownloadDocument,
  ChangesDocument,
  type ChangesSubscription,
} from './gql/graphql.js';
import type { DownloadBatch, LocalDatabase } from './local-database.js';

type Batch = ChangesSubscription['changes'];

const RESTART_BACKOFF = { baseMs: 100, maxMs: 10_000 };

export interface DownloaderHost {
  app: App;
  db: LocalDatabase;
  report(error: SyncClientError): void;
  resetRequired(error: ClientResetError): void;
  /** The session is gone (closed, or unknown to the gateway). */
  sessionEnded(error: SyncClientError): void;
  /** A batch was applied (for waits and completion of resets). */
  applied(): void;
}

/** The `changes` variables that resume from where the database is. */
export function resumeFrom(db: LocalDatabase, sessionId: string) {
  const { bootstrapped, bootstrapUntil, serverVersion } = db.meta;
  if (bootstrapUntil !== null) return { sessionId, since: serverVersion, bootstrapUntil };
  return { sessionId, since: bootstrapped ? serverVersion : 0 };
}

export class Downloader {
  private handle: LiveHandle | null = null;
  private epoch = 0;
  private applying: Promise<void> = Promise.resolve();
  private restarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly acks: Acknowledger;

  constructor(
    private readonly host: DownloaderHost,
    private readonly sessionId: string,
  ) {
    this.acks = new Acknowledger(host, sessionId);
  }

  get following(): boolean {
    return this.handle !== null;
  }

  start(): void {
    if (this.handle) return;
    this.handle = this.host.app.follow(
      ChangesDocument,
      (epoch) => {
        this.epoch = epoch;
        return resumeFrom(this.host.db, this.sessionId);
      },
      {
        next: (data, epoch) => this.enqueue(data.changes, epoch),
        error: (error) => this.onError(error),
        complete: () => this.restartLater(),
      },
    );
  }

  stop(): void {
    this.acks.stop();
    this.handle?.stop();
    this.handle = null;
    this.epoch = -1;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  /** Sends the newest acknowledgement again (after a reconnect, it may not have arrived). */
  reacknowledge(): void {
    this.acks.resend();
  }

  /** Resolves once every batch received so far is applied. */
  settled(): Promise<void> {
    return this.applying;
  }

  private enqueue(batch: Batch, epoch: number): void {
    const apply = async () => {
      if (epoch !== this.epoch) return;
      this.restarts = 0;
      await this.host.db.applyBatch(toDownloadBatch(batch));
      this.host.applied();
      this.acks.want(batch.toServerVersion, batch.queriesVersion);
    };
    this.applying = this.applying.then(apply).catch((error: unknown) => {
      this.host.report(toSyncError(error));
      this.restartLater();
    });
  }

  private onError(error: SyncClientError): void {
    if (error instanceof ClientResetError) return this.host.resetRequired(error);
    // The gateway no longer has what the database has seen (restored, or another store).
    if (error.code === 'BAD_USER_INPUT' && /^(since|bootstrapUntil)$/.test(error.field ?? '')) {
      return this.host.resetRequired(new ClientResetError(error.message));
    }
    if (error.code === 'NOT_FOUND') return this.host.sessionEnded(error);
    this.host.report(error);
    this.restartLater();
  }

  /** The stream ended or failed: subscribe again after a backoff. */
  private restartLater(): void {
    if (!this.handle || this.restartTimer) return;
    const delay = backoffDelay((this.restarts += 1), RESTART_BACKOFF);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.handle?.restart();
    }, delay);
  }
}

function toDownloadBatch(batch: Batch): DownloadBatch {
  return {
    fromServerVersion: batch.fromServerVersion,
    toServerVersion: batch.toServerVersion,
    bootstrapUntil: batch.bootstrapUntil ?? null,
    queriesVersion: batch.queriesVersion,
    changes: batch.changes.map((c) => ({ ...c, id: String(c.id) })),
  };
}

/** Sends the newest acknowledgement, one at a time. */
class Acknowledger {
  private target = { version: 0, queries: 0 };
  private sent = { version: 0, queries: 0 };
  private busy = false;
  private failures = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly host: DownloaderHost,
    private readonly sessionId: string,
  ) {}

  want(version: number, queries: number): void {
    if (version < this.target.version) return;
    this.target = { version, queries };
    void this.send();
  }

  resend(): void {
    this.sent = { version: 0, queries: 0 };
    void this.send();
  }

  private async send(): Promise<void> {
    const { target, sent } = this;
    if (this.busy || (target.version === sent.version && target.queries === sent.queries)) return;
    this.busy = true;
    try {
      await this.host.app.request(AcknowledgeDownloadDocument, {
        sessionId: this.sessionId,
        serverVersion: target.version,
        queriesVersion: target.queries,
      });
      this.sent = target;
      this.failures = 0;
    } catch (error) {
      this.failed(toSyncError(error));
    } finally {
      this.busy = false;
    }
    if (this.sent === target) void this.send(); // a newer one may have come meanwhile
  }

  private failed(error: SyncClientError): void {
    if (error.code === 'CONNECTION_LOST' || error.code === 'APP_CLOSED') return; // resent on the next connection
    if (error instanceof ClientResetError) return this.host.resetRequired(error);
    this.host.report(error);
    // Not only with the next batch: on a quiet scope, waits would hang on this one.
    if (!this.retry) {
      const delay = backoffDelay((this.failures += 1), RESTART_BACKOFF);
      this.retry = setTimeout(() => ((this.retry = null), void this.send()), delay);
    }
  }

  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }
}
