/**
 * The upload queue of one session: sends the database's changesets in order, each exactly
 * once as far as the gateway is concerned (re-sending an acknowledged one is harmless), and
 * never stalls:
 *
 *   idle ──commit, connected, resumed──▶ uploading ──ack──▶ (next batch | idle)
 *   uploading ──connection lost──▶ idle (until connected again)
 *   uploading ──a changeset refused as bad input──▶ it is emptied, listed and reported; go on
 *   uploading ──too many changes for one upload──▶ smaller batches
 *   uploading ──SESSION_PAUSED / CLIENT_RESET_REQUIRED──▶ handed to the session
 *   uploading ──anything else──▶ reported, retried after a backoff
 *
 * A retry sends the queue again from its first unacknowledged changeset: an upload refused
 * as a whole (LIMIT_EXCEEDED from a rate limit or a full socket, retryable: the gateway wrote
 * nothing of it) goes again from that exact client version, after the gateway's
 * `retryAfterMs` or the backoff; no changeset is skipped.
 *
 * Two uploads are in flight at most: the next batch goes while the gateway commits the one
 * before it, so its parsing and checks overlap that commit. Answers are taken in the order
 * sent. When one fails, the uploads sent behind it are let finish (an acknowledgement among
 * them is taken: they are cumulative; their failures are dropped), the queue goes again from
 * its first unacknowledged changeset, and one upload at a time until one is acknowledged. A
 * bad-input refusal of an upload sent behind another is not acted on: it may only say that
 * the one before it did not arrive first, so its batch goes again alone, and only a refusal
 * of an upload sent alone aligns the numbering, refuses a changeset or sends fewer at once.
 */
import type { App } from './app.js';
import { backoffDelay, retryDelay } from './backoff.js';
import {
  ChangesetRefusedError,
  ClientResetError,
  CompensatingWriteError,
  SyncClientError,
  toSyncError,
} from './errors.js';
import { UploadChangesDocument, type UploadChangesMutation } from './gql/graphql.js';
import { docKey, type LocalDatabase } from './local-database.js';
import type { StoredChangeset } from './storage.js';

/** The gateway's default limit of changes per upload (MAX_CHANGES_PER_UPLOAD). */
const MAX_CHANGES = 1000;
const MAX_BYTES = 1024 * 1024;
/** Uploads sent and not yet answered, at most. */
const IN_FLIGHT = 2;
const RETRY_BACKOFF = { baseMs: 250, maxMs: 10_000 };
const CHANGESET_FIELD = /^changesets\[(\d+)\]/;
/** The gateway's time, in its refusal of a timestamp too far ahead (see validateTimestamp). */
const AHEAD_OF_GATEWAY = /ahead of the gateway's clock \((\S+)\)/;

export interface UploaderHost {
  app: App;
  db: LocalDatabase;
  /** The session to upload to, once opened and while uploads are allowed; else null. */
  target(): string | null;
  report(error: SyncClientError): void;
  /** The gateway paused uploads (SESSION_PAUSED). */
  pausedByGateway(): void;
  resetRequired(error: ClientResetError): void;
}

type UploadAck = UploadChangesMutation['uploadChanges'];
type Answer = { ack: UploadAck } | { error: SyncClientError };

/** An upload sent: its batch, whether another was in flight before it, and its answer. */
interface Sent {
  batch: StoredChangeset[];
  behind: boolean;
  answer: Promise<Answer>;
}

export class Uploader {
  private readonly sent: Sent[] = [];
  /** One upload at a time, since a failure and until an acknowledgement. */
  private alone = false;
  private woken = false;
  private wake: (() => void) | null = null;
  private stopped = false;
  private failures = 0;
  private maxChanges = MAX_CHANGES;
  /** The clock followed the gateway's since the last upload went through. */
  private followedClock = false;

  constructor(private readonly host: UploaderHost) {
    void this.run();
  }

  /** Something changed (a commit, a connection, a resume): look for work again. */
  poke(): void {
    this.woken = true;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.poke();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.sendNext()) continue;
      const oldest = this.sent.shift();
      if (oldest) await this.settle(oldest);
      else await this.sleep();
    }
  }

  /** Sends the next batch, if there is one and room in flight; whether it did. */
  private sendNext(): boolean {
    if (this.sent.length >= (this.alone ? 1 : IN_FLIGHT)) return false;
    const sessionId = this.host.target();
    if (!sessionId || this.host.app.connectionState !== 'CONNECTED') return false;
    const after = this.sent.at(-1)?.batch.at(-1)?.clientVersion ?? 0;
    const batch = this.host.db.unsent(this.maxChanges, MAX_BYTES, after);
    if (batch.length === 0) return false;
    const answer = this.send(sessionId, batch).then(
      (ack): Answer => ({ ack }),
      (error: unknown): Answer => ({ error: toSyncError(error) }),
    );
    this.sent.push({ batch, behind: this.sent.length > 0, answer });
    return true;
  }

  /**
   * Takes the oldest upload's answer. After a failure, those sent behind it are let finish:
   * an acknowledgement among them still counts (acknowledgements are cumulative), a failure
   * is the first one's; and uploads go one at a time until one is acknowledged again (one
   * sent behind a refused one would spend the client's rate budget only to be refused for
   * the gap, again and again).
   */
  private async settle(oldest: Sent): Promise<void> {
    const answer = await oldest.answer;
    if ('ack' in answer) return this.takeAck(answer.ack, oldest.batch);
    this.alone = true;
    for (const behind of this.sent.splice(0)) {
      const later = await behind.answer;
      if ('ack' in later) await this.takeAck(later.ack, behind.batch);
    }
    if (oldest.behind && answer.error.code === 'BAD_USER_INPUT') return;
    await this.onError(answer.error, oldest.batch);
  }

  /** Records an acknowledgement; failing to (the local storage) goes as any error does. */
  private async takeAck(ack: UploadAck, batch: StoredChangeset[]): Promise<void> {
    try {
      await this.acknowledged(ack);
    } catch (error) {
      this.alone = true;
      return this.onError(toSyncError(error), batch);
    }
    this.failures = 0;
    this.alone = false;
  }

  private async send(sessionId: string, batch: StoredChangeset[]): Promise<UploadAck> {
    const { app, db } = this.host;
    const changesets = batch.map(({ clientVersion, timestamp, changes }) => ({
      clientVersion,
      timestamp,
      changes,
    }));
    const { uploadChanges: ack } = await app.request(UploadChangesDocument, {
      sessionId,
      changesets,
      latestClientVersion: db.meta.clientVersion,
      pendingBytes: db.pendingBytesAfter(batch.at(-1)!.clientVersion),
    });
    return ack;
  }

  private async acknowledged(ack: UploadAck): Promise<void> {
    const writes = ack.compensatingWrites.map((w) => ({ ...w, id: String(w.id) }));
    // Told before the acknowledgement, so a waitForUpload resolved by it finds the error there.
    if (writes.length > 0) this.host.report(new CompensatingWriteError(writes));
    const refused = writes.map((w) => docKey(w.collection, w.id));
    await this.host.db.acknowledge(ack.lastIntegratedClientVersion, ack.serverVersion, refused);
    this.maxChanges = MAX_CHANGES;
    this.followedClock = false;
  }

  private async onError(error: SyncClientError, batch: StoredChangeset[]): Promise<void> {
    if (error.code === 'CONNECTION_LOST') return; // the loop waits for the next connection
    if (error.code === 'APP_CLOSED') return this.stop();
    if (error.code === 'SESSION_PAUSED') {
      this.host.pausedByGateway(); // adopted (the loop then waits), or a resume is on its way
      return this.sleep(backoffDelay((this.failures += 1), RETRY_BACKOFF));
    }
    if (error instanceof ClientResetError) return this.host.resetRequired(error);
    if (error.code === 'BAD_USER_INPUT') return this.refused(error, batch);
    this.host.report(error);
    // Rate limited: the gateway says when to come back; else the backoff.
    await this.sleep(retryDelay(error, (this.failures += 1), RETRY_BACKOFF));
  }

  /** Bad input: find the changeset the gateway named and take it out; or send fewer at once. */
  private async refused(error: SyncClientError, batch: StoredChangeset[]): Promise<void> {
    const index = Number(CHANGESET_FIELD.exec(error.field ?? '')?.[1] ?? -1);
    const named = batch[index];
    if (named && error.field === `changesets[${index}].clientVersion`) {
      // The gateway expects another number: follow its count (see LocalDatabase.alignWith).
      const expected = Number(/next expected is (\d+)/.exec(error.message)?.[1] ?? NaN);
      if (Number.isInteger(expected)) return this.host.db.alignWith(expected - 1);
    }
    if (!named && batch.length > 1) {
      const changes = batch.reduce((n, cs) => n + cs.changes.length, 0);
      this.maxChanges = Math.max(1, Math.floor(changes / 2));
      return;
    }
    const gatewayNow = named && this.clockToFollow(error, index);
    if (gatewayNow) return this.host.db.followGatewayClock(gatewayNow);
    const changeset = named ?? batch[0]!;
    await this.host.db.refuse(changeset, {
      code: error.code,
      message: error.message,
      field: error.field,
    });
    this.host.report(new ChangesetRefusedError(changeset, error.code, error.message, error.field));
  }

  /**
   * A timestamp the gateway found ahead of its clock: the gateway's time it named, the first
   * time for this upload (a changeset refused again after the clock followed is refused).
   */
  private clockToFollow(error: SyncClientError, index: number): number | null {
    if (error.field !== `changesets[${index}].timestamp`) return null;
    const named = Date.parse(AHEAD_OF_GATEWAY.exec(error.message)?.[1] ?? '');
    if (Number.isNaN(named) || this.followedClock) return null;
    this.followedClock = true;
    return named;
  }

  /** Until poked (or `ms` pass); returns at once if poked since the last sleep. */
  private async sleep(ms?: number): Promise<void> {
    if (!this.woken) {
      await new Promise<void>((resolve) => {
        const timer = ms === undefined ? null : setTimeout(resolve, ms);
        this.wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
    }
    this.wake = null;
    this.woken = false;
  }
}
