/**
 * Checkpoints off the writer's turn. SQLite checkpoints a WAL inside the commit that takes
 * it past `wal_autocheckpoint` pages: it copies the WAL's pages into the database file and
 * syncs that file while the writer holds the file, and every group behind waits. In batched
 * uploads that was 8 of a group's 95 ms (bench/store-upload.ts --thread).
 *
 * With the writer thread, a thread of its own does it (SCRIPT below, started at the first
 * write): a PASSIVE checkpoint shortly after writes, which copies what is committed
 * and never blocks a writer. The writer keeps a checkpoint of its own only once the WAL reaches
 * WRITER_CHECKPOINT_PAGES, which then finds most pages copied already. It is needed:
 * SQLite starts a WAL over only when a write begins with every page in it copied, and a
 * writer that never pauses would otherwise never see that moment. So the WAL stays within
 * about that many pages plus a group's or two (when the writer's checkpoint meets this
 * thread's, it is put off to a later commit). Several gateways writing one file without a
 * pause keep meeting, and their WAL grows until they pause, as it did with SQLite's own.
 *
 * Durability is SQLite's own: a checkpoint copies only committed pages, synced in the WAL
 * at commit, and SQLite counts them copied only after the database file's sync.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CONNECTION_PRAGMAS } from './connection.js';

/** The WAL's length, in pages, at which the writer checkpoints itself. */
export const WRITER_CHECKPOINT_PAGES = 16_000;

/** SQLite's own threshold: the writer's again if the checkpointer thread fails. */
export const SQLITE_CHECKPOINT_PAGES = 1_000;

/** How long after a write the checkpointer runs, gathering the writes meanwhile. */
export const CHECKPOINT_DELAY_MS = 100;

export interface CheckpointOptions {
  /** The writer's own checkpoint threshold, in pages of WAL. */
  writerPages?: number;
  /** How long after a write the checkpointer thread runs, in ms. */
  delayMs?: number;
}

type CheckpointRequest = 'checkpoint' | 'close';

/**
 * The checkpointer thread: plain JavaScript run as it is, no module of ours and no
 * TypeScript loader, so it starts in milliseconds from the sources as from the build (a
 * thread under tsx took a few hundred ms of CPU, beside a gateway's first uploads). On each
 * 'checkpoint', a PASSIVE checkpoint on its own connection, set up as every connection of
 * the store (connection.ts). Another connection holding the file (another gateway's
 * checkpoint, or one recovering the WAL index: SQLITE_BUSY_RECOVERY) only puts the work off
 * to the next checkpoint; a PASSIVE checkpoint reports most such cases in its result row.
 */
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
for (const pragma of workerData.pragmas) db.pragma(pragma);
function checkpoint() {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    return { ok: true };
  } catch (error) {
    if (String(error && error.code).startsWith('SQLITE_BUSY')) return { ok: true };
    return { ok: false, error: { name: String(error && error.name), message: String(error && error.message) } };
  }
}
parentPort.on('message', (request) => {
  if (request === 'checkpoint') return parentPort.postMessage(checkpoint());
  db.close();
  parentPort.close();
});
`;

/** The driver the store uses, as the thread requires it. */
const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/** A checkpoint's end: done (or put off: the file was busy), or failed. */
type CheckpointReply = { ok: true } | { ok: false; error: { name: string; message: string } };

export class Checkpointer {
  /** Started at the first write: a gateway that never writes never starts it. */
  private worker: Worker | null = null;
  private readonly delayMs: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  /** A write came while a checkpoint ran: another follows it. */
  private asked = false;
  private closing = false;
  private stopped: Error | null = null;

  /**
   * `onError`: told once if the thread fails; the checkpoints are the writer's alone then
   * (the store sets it back to SQLITE_CHECKPOINT_PAGES: store-writer.ts).
   */
  constructor(
    private readonly path: string,
    private readonly onError: (error: Error) => void = () => undefined,
    options: CheckpointOptions = {},
  ) {
    this.delayMs = options.delayMs ?? CHECKPOINT_DELAY_MS;
  }

  private start(): Worker {
    const workerData = { path: this.path, driver: DRIVER, pragmas: CONNECTION_PRAGMAS };
    const worker = new Worker(SCRIPT, { eval: true, workerData });
    worker.unref();
    worker.on('message', (reply: CheckpointReply) => this.settle(reply));
    worker.on('error', (error: unknown) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`it ended (exit code ${code})`)));
    return worker;
  }

  /** Why the thread stopped, or null while it runs (or after a close). */
  get failure(): Error | null {
    return this.closing ? null : this.stopped;
  }

  /** Writes were committed: a checkpoint runs within the delay, one at a time. */
  due(): void {
    if (this.stopped || this.timer) return;
    if (this.inFlight) {
      this.asked = true;
      return;
    }
    this.worker ??= this.start();
    this.timer = setTimeout(() => this.run(), this.delayMs);
    this.timer.unref();
  }

  /** Closes the thread's connection once a checkpoint under way has ended; then it ends. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopped = new Error('the checkpointer is closed');
    const worker = this.worker;
    if (!worker) return;
    const ended = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('close' satisfies CheckpointRequest);
    // Kept alive until it has ended: a close awaited last must still come back.
    worker.ref();
    await ended;
  }

  private run(): void {
    this.timer = null;
    this.inFlight = true;
    this.worker!.postMessage('checkpoint' satisfies CheckpointRequest);
  }

  private settle(reply: CheckpointReply): void {
    this.inFlight = false;
    if (!reply.ok) return this.fail(Object.assign(new Error(reply.error.message), reply.error));
    if (this.asked) {
      this.asked = false;
      this.due();
    }
  }

  private fail(cause: unknown): void {
    if (this.stopped) return;
    const why = cause instanceof Error ? cause.message : String(cause);
    this.stopped = new Error(`the SQLite checkpointer thread stopped: ${why}`, { cause });
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.worker?.terminate();
    this.onError(this.stopped);
  }
}
