/**
 * Where the SQLite store's writes run: on its own thread (`LocalWriter`, the connection it
 * also reads through) or on the writer thread (`ThreadWriter`, writer-thread.ts). Both
 * answer the same calls, asynchronously.
 */
import type Database from 'better-sqlite3';
import type { IntegrationOutcome } from '../port.js';
import type { SessionRecord } from '../../sync/model.js';
import {
  fillIn,
  readyOf,
  SqliteWrites,
  type IntegrationJob,
  type Outcome,
} from './sqlite-writes.js';
import type { SqliteStatements } from './statements.js';
import {
  fromCrossing,
  type CrossingOutcome,
  type DirectWrite,
  type SourcedJob,
} from './thread-messages.js';
import { WalSync } from './wal-sync.js';
import { neverSent, WriterThread } from './writer-thread.js';
import {
  Checkpointer,
  SQLITE_CHECKPOINT_PAGES,
  WRITER_CHECKPOINT_PAGES,
  type CheckpointOptions,
} from './checkpointer.js';

export type WriteResult<M extends DirectWrite> = ReturnType<SqliteWrites[M]>;

export interface StoreWriter {
  /** Integration groups to send at once (GroupCommit's `maxInFlight`). */
  readonly groupsInFlight: number;
  integrateGroup(jobs: IntegrationJob[]): Promise<Outcome<IntegrationOutcome<unknown>>[]>;
  openGroup(candidates: SessionRecord[]): Promise<Outcome<SessionRecord>[]>;
  write<M extends DirectWrite>(
    method: M,
    ...args: Parameters<SqliteWrites[M]>
  ): Promise<WriteResult<M>>;
  /** Resolves when the store's file may be read (see wal-sync.ts); throws once it never may. */
  readable(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Writes on the store's own connection. With a WalSync (`deferredSync`), a group's fsync
 * runs off the event loop and nothing is read or written until it is durable.
 */
export class LocalWriter implements StoreWriter {
  /** Each group runs to its end on this thread before the next forms. */
  readonly groupsInFlight = 1;
  private readonly writes: SqliteWrites;

  /** `sql`: the store's statements on `db`, which the writes share. */
  constructor(
    private readonly db: Database.Database,
    sql: SqliteStatements,
    private readonly wal: WalSync | null,
  ) {
    this.writes = new SqliteWrites(db, sql);
  }

  async readable(): Promise<void> {
    while (this.wal?.busy) await this.wal.settled();
  }

  /**
   * One group: fsync'd inside its COMMIT; or, with `deferredSync`, committed without and
   * settled once the WAL's sync off the event loop is done (the next group waits for it).
   */
  async integrateGroup(jobs: IntegrationJob[]) {
    const wal = this.wal;
    if (!wal) return this.writes.integrateGroup(jobs);
    await this.readable();
    return wal.commit(() => {
      this.db.exec('PRAGMA synchronous = NORMAL');
      try {
        return this.writes.integrateGroup(jobs);
      } finally {
        this.restoreFullSync(wal);
      }
    });
  }

  /** Back to fsync'd commits for everything else; a connection left without is unusable. */
  private restoreFullSync(wal: WalSync): void {
    try {
      this.db.exec('PRAGMA synchronous = FULL');
    } catch (error) {
      throw wal.fail(error);
    }
  }

  async openGroup(candidates: SessionRecord[]) {
    await this.readable();
    return this.writes.openGroup(candidates);
  }

  async write<M extends DirectWrite>(method: M, ...args: Parameters<SqliteWrites[M]>) {
    await this.readable();
    const run = this.writes[method] as (...a: Parameters<SqliteWrites[M]>) => WriteResult<M>;
    return run.apply(this.writes, args);
  }

  async close(): Promise<void> {
    this.wal?.close();
  }
}

const fromCrossings = <O>(outcomes: CrossingOutcome<O>[]): Outcome<O>[] =>
  outcomes.map((o) => (o.ok ? o : { ok: false, error: fromCrossing(o.error) }));

/**
 * Writes on the writer thread; plans go as their sources (a plan without one is refused).
 * The checkpointer thread copies the WAL into the file after them (checkpointer.ts).
 */
export class ThreadWriter implements StoreWriter {
  /** The next group waits on the thread while one runs: it starts the moment that one ends. */
  readonly groupsInFlight = 2;
  private readonly thread: WriterThread;
  private readonly checkpoints: Checkpointer;

  /**
   * `onError`: told if the checkpointer thread fails. The writer then checkpoints at
   * SQLite's usual length again, so that no single commit copies 64 MiB of WAL.
   */
  constructor(path: string, options: CheckpointOptions = {}, onError?: (error: Error) => void) {
    this.thread = new WriterThread(path, options.writerPages ?? WRITER_CHECKPOINT_PAGES);
    const stopped = (error: Error) => {
      this.write('checkpointAt', SQLITE_CHECKPOINT_PAGES).catch(() => undefined);
      onError?.(error);
    };
    try {
      this.checkpoints = new Checkpointer(path, stopped, options);
    } catch (error) {
      void this.thread.close();
      throw error;
    }
  }

  /** Every request is a write: once it has run, a checkpoint is due. */
  private call<T>(request: Parameters<WriterThread['call']>[0]): Promise<T> {
    const written = this.thread.call<T>(request);
    const due = () => this.checkpoints.due();
    written.then(due, due);
    return written;
  }

  /**
   * A store whose writes all fail is not one to read from either, as one whose WAL sync
   * failed (wal-sync.ts): every call fails, and `/ready` says why.
   */
  async readable(): Promise<void> {
    if (this.thread.failure) throw this.thread.failure;
  }

  /**
   * A job whose plan has no source fails alone; the others go as one group. If the group
   * cannot be sent (a plan's arguments do not clone: DataCloneError), each job is sent
   * alone, so only the one at fault fails.
   */
  async integrateGroup(jobs: IntegrationJob[]) {
    const unsourced = new Error('the SQLite writer thread runs only plans that carry a source');
    const prepared = jobs.map(({ sessionId, keys, plan }): Outcome<SourcedJob> =>
      plan.source
        ? { ok: true, value: { sessionId, keys, source: plan.source } }
        : { ok: false, error: unsourced },
    );
    const ready = readyOf(prepared);
    return fillIn(prepared, ready.length === 0 ? [] : await this.sendGroup(ready));
  }

  private async sendGroup(jobs: SourcedJob[]): Promise<Outcome<IntegrationOutcome<unknown>>[]> {
    const send = (group: SourcedJob[]) =>
      this.call<CrossingOutcome<IntegrationOutcome<unknown>>[]>({
        op: 'integrate',
        jobs: group,
      });
    try {
      return fromCrossings(await send(jobs));
    } catch (error) {
      // Only a group never sent goes again, job by job: one that reached the thread may have run.
      if (!neverSent(error) || jobs.length === 1) throw error;
      const alone = await Promise.all(
        jobs.map((job) =>
          send([job]).then(
            (o) => fromCrossings(o)[0]!,
            (e: unknown): Outcome<IntegrationOutcome<unknown>> => ({ ok: false, error: e }),
          ),
        ),
      );
      return alone;
    }
  }

  async openGroup(candidates: SessionRecord[]) {
    const outcomes = await this.call<CrossingOutcome<SessionRecord>[]>({
      op: 'open',
      candidates,
    });
    return fromCrossings(outcomes);
  }

  write<M extends DirectWrite>(method: M, ...args: Parameters<SqliteWrites[M]>) {
    return this.call<WriteResult<M>>({ op: 'write', method, args } as never);
  }

  async close(): Promise<void> {
    await this.checkpoints.close();
    await this.thread.close();
  }
}
