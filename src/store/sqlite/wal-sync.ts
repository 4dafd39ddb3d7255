/**
 * Durability off the event loop, for a SQLite store that is the only one reading its file
 * (one gateway, not --multi-gateway). With synchronous=FULL, better-sqlite3 runs the fsync
 * of every commit on the event loop, inside COMMIT. Here a group commit is written with
 * synchronous=NORMAL (no fsync), and the WAL file is then fdatasync'd on libuv's threadpool
 * while the event loop carries on; the group is acknowledged only after that.
 *
 * The catch is that SQLite makes a NORMAL commit visible before it is durable, and a
 * reader must never see a version a power loss could erase (the gateway would hand out
 * that version again). So, while a commit awaits its sync:
 *
 * - every read and write of the store waits for it (`busy`, `settled`): nothing of the
 *   store is read, in this process, before it is durable;
 * - one commit is unsynced at most: the next group starts once this one is durable;
 * - other processes must not read the file: the store is single-gateway only (a
 *   multi-gateway peer would see the commit at once), and `sync-gateway migrate`
 *   fsyncs the WAL after taking its snapshot (sqlite-source.ts).
 *
 * fdatasync acts on the file (the inode), whichever descriptor wrote it, so syncing the WAL
 * through a descriptor of our own makes SQLite's frames durable as its own sync would;
 * SQLite itself still syncs the WAL before every checkpoint and the database after, and the
 * WAL header after a restart. The WAL stays the same file while a connection is open (SQLite
 * deletes it when the last one closes): a sync that finds another file there fails.
 *
 * A failed sync poisons the store: the data may or may not have reached the disk, and a
 * later sync may not report the loss (Linux drops the dirty pages), so every operation
 * fails from then on and the gateway must be restarted (the WAL is synced at open).
 */
import { closeSync, fdatasync, fstatSync, fsyncSync, openSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** Makes a file's written data durable (fdatasync on the threadpool); tests replace it. */
export type FileSync = (fd: number) => Promise<void>;

const datasync: FileSync = promisify(fdatasync);

/** An fsync once, at open: whatever an earlier process committed without its sync. */
function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class WalSync {
  private readonly fd: number;
  private readonly ino: number;
  private pending: Promise<void> | null = null;
  private failure: Error | null = null;

  /**
   * Opens the WAL of `dbPath` (it exists once the database is in WAL mode and was read) and
   * makes durable what is on disk already, before anything reads it: the WAL, the database
   * file and the directory (which holds the WAL's name).
   */
  constructor(
    private readonly dbPath: string,
    private readonly sync: FileSync = datasync,
  ) {
    this.fd = openSync(this.walPath, 'r+');
    try {
      this.ino = fstatSync(this.fd).ino;
      fsyncSync(this.fd);
      syncPath(dbPath);
      // Windows cannot open a directory to sync it (NTFS journals its names itself).
      if (process.platform !== 'win32') syncPath(dirname(dbPath));
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  get walPath(): string {
    return `${this.dbPath}-wal`;
  }

  /** Whether a commit awaits its sync, or a sync failed: then await `settled` first. */
  get busy(): boolean {
    return this.pending !== null || this.failure !== null;
  }

  /** Resolves once the last commit is durable; throws once a sync has failed. */
  async settled(): Promise<void> {
    while (this.pending) await this.pending.catch(() => undefined);
    if (this.failure) throw this.failure;
  }

  /**
   * Runs `write` (a commit made without fsync, synchronously), then syncs the WAL; resolves
   * with its result, or rejects with its error, only once the WAL is durable. Call it only
   * when not `busy`.
   */
  async commit<T>(write: () => T): Promise<T> {
    if (this.failure) throw this.failure;
    if (this.pending) throw new Error('a commit is already awaiting its sync');
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: write() };
    } catch (error) {
      // Rolled back, or failed after its commit: the WAL is synced either way.
      outcome = { ok: false, error };
    }
    const flushed = this.flush();
    this.pending = flushed;
    await flushed;
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Fails the store for good (see the module's comment); the error every call gets. */
  fail(error: unknown): Error {
    const why = error instanceof Error ? error.message : String(error);
    this.failure ??= new Error(
      `SQLite store stopped: its WAL could not be made durable (${why}); restart the gateway`,
      { cause: error },
    );
    return this.failure;
  }

  private async flush(): Promise<void> {
    try {
      const [, current] = await Promise.all([this.sync(this.fd), stat(this.walPath)]);
      if (current.ino !== this.ino) {
        throw new Error(`${this.walPath} was replaced while the store had it open`);
      }
    } catch (error) {
      throw this.fail(error);
    } finally {
      this.pending = null;
    }
  }

  /** Closes the descriptor (after the last commit's sync). */
  close(): void {
    closeSync(this.fd);
  }
}
