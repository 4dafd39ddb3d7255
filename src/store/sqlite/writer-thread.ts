/**
 * The SQLite store's writes on a thread of their own (writer-worker.ts): the store's thread
 * sends each write and its group commits there and keeps a connection for reads. A group's
 * SQL and fsync then run beside the event loop, which meanwhile serves GraphQL and gathers
 * the next group. Requests run in the order sent. If the thread stops, every call pending
 * and every later one fails with the reason.
 */
import { Worker } from 'node:worker_threads';
import { fromCrossing, type WriterReply, type WriterRequest } from './thread-messages.js';

type Request = WriterRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** Errors of requests that never left this thread: nothing of them ran there. */
const unsent = new WeakSet<object>();

/** Whether `error` is a request's that was never sent (so sending it again cannot repeat it). */
export const neverSent = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && unsent.has(error);

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The worker's script: the compiled one beside this module; from the TypeScript sources
 * (tests, `npm run dev`), through tsx's loader, registered in the worker first.
 */
function startWorker(data: { path: string; walPages: number }): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    return new Worker(new URL('./writer-worker.js', here), { workerData: data });
  }
  const entry = new URL('./writer-worker.ts', here).href;
  return new Worker(new URL('./writer-boot.mjs', here), { workerData: { ...data, entry } });
}

export class WriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the thread stopped; every call from then on fails with it. */
  private stopped: Error | null = null;

  /** Why the thread stopped, or null while it runs. */
  get failure(): Error | null {
    return this.stopped;
  }

  /** `walPages`: the WAL's length at which the thread's connection checkpoints itself. */
  constructor(path: string, walPages: number) {
    this.worker = startWorker({ path, walPages });
    this.worker.unref();
    this.worker.on('message', (reply: WriterReply) => this.settle(reply));
    this.worker.on('error', (error: unknown) =>
      this.stop(error instanceof Error ? error : new Error(String(error))),
    );
    this.worker.on('exit', (code) => this.stop(new Error(`it ended (exit code ${code})`)));
  }

  /**
   * Sends the request; its answer, or its error as thrown on the thread. A request that
   * cannot be sent (arguments that do not clone: DataCloneError) fails at once, sending nothing.
   */
  call<T>(request: Request): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    try {
      this.worker.postMessage({ ...request, id });
    } catch (error) {
      if (typeof error === 'object' && error !== null) unsent.add(error);
      return Promise.reject(error);
    }
    // Kept alive while an answer is awaited, and only then.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Closes the thread's connection, once every request sent before has run; then it ends. */
  async close(): Promise<void> {
    if (this.stopped) return;
    const ended = new Promise((resolve) => this.worker.once('exit', resolve));
    // Failing only if the thread stopped meanwhile: it has ended then, as a close wants.
    await this.call({ op: 'close' }).catch(() => undefined);
    this.stop(new Error('the SQLite store is closed'), false);
    // Kept alive until it has ended: a close awaited last must still come back.
    this.worker.ref();
    await ended;
  }

  private settle(reply: WriterReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(fromCrossing(reply.error));
  }

  /** From now on every call fails: with `cause` itself after a close, else as the thread's stop. */
  private stop(cause: Error, unexpected = true): void {
    if (this.stopped) return;
    this.stopped = unexpected
      ? new Error(`the SQLite writer thread stopped: ${cause.message}`, { cause })
      : cause;
    for (const p of this.pending.values()) p.reject(this.stopped);
    this.pending.clear();
  }
}
