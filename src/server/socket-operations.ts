/**
 * The operations of one graphql-ws socket: at most `running` run at once. Past that, a new
 * one waits for a slot, in arrival order, instead of being refused; the waiting ones are
 * bounded by count (`waiting`) and by the bytes of their messages (`waitingBytes`), and
 * only an operation past that bound is refused (ws.ts answers LIMIT_EXCEEDED, retryable).
 * The wait is bounded in time too (`waitMs`): an operation that found no slot by then is
 * refused the same way, so one queued behind operations that never end (a socket full of
 * subscriptions) is answered. One timer per socket, for the oldest waiting operation.
 *
 * Every admission, immediate or after a wait, resolves a promise: the operations resume
 * in the order they were admitted, so one that had a slot at once never overtakes one
 * admitted before it from the queue. An operation is known by its id and its payload
 * (graphql-ws hands the same payload object to onSubscribe, onError and onComplete), so
 * the end of an old operation never frees the slot of a new one that reuses its id.
 */
import { systemClock, type Clock } from '../clock.js';

export interface SocketOperationLimits {
  /** Operations running at once. */
  running: number;
  /** Operations waiting for a slot. */
  waiting: number;
  /** Bytes of the messages of the waiting operations. */
  waitingBytes: number;
  /** How long an operation may wait for a slot. */
  waitMs: number;
}

/** How a wait ended: a slot; completed by the client or closed; no slot within waitMs. */
export type Admission = 'started' | 'dropped' | 'expired';

/** What ends a started operation's waits and streams. */
export interface Cancellable {
  cancel(): void;
}

interface Running {
  payload: object;
  /** Set once it has started. */
  ending: Cancellable | null;
}

interface Waiting {
  payload: object;
  bytes: number;
  /** When it started waiting (ms since the epoch). */
  since: number;
  admit: (admission: Admission) => void;
}

export class SocketOperations {
  private readonly running = new Map<string, Running>();
  /** In arrival order (a Map keeps insertion order). */
  private readonly waiting = new Map<string, Waiting>();
  private bytesWaiting = 0;
  private closed = false;
  /** Cancels the timer of the oldest waiting operation's deadline, if armed. */
  private expiry: (() => void) | null = null;

  constructor(
    private readonly limits: SocketOperationLimits,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Operations waiting for a slot, and the bytes of their messages. */
  get queued(): { count: number; bytes: number } {
    return { count: this.waiting.size, bytes: this.bytesWaiting };
  }

  /**
   * Admits an operation whose message was `bytes` long: resolves once it holds a slot, or
   * its wait ended without one (see Admission); false at once when the queue is full.
   */
  enter(id: string, payload: object, bytes: number): Promise<Admission> | false {
    if (this.closed) return false;
    if (this.waiting.size === 0 && this.running.size < this.limits.running) {
      this.running.set(id, { payload, ending: null });
      return Promise.resolve('started');
    }
    if (!this.hasRoom(bytes)) return false;
    return new Promise<Admission>((admit) => {
      const since = this.clock.now().getTime();
      this.waiting.set(id, { payload, bytes, since, admit });
      this.bytesWaiting += bytes;
      this.armExpiry();
    });
  }

  /**
   * What ends the started operation; false (and `ending` is not kept) when it was completed
   * since its admission.
   */
  started(id: string, payload: object, ending: Cancellable): boolean {
    const entry = this.running.get(id);
    if (entry?.payload !== payload) return false;
    entry.ending = ending;
    return true;
  }

  /**
   * Ends the operation `id` (only if it is the one of `payload`, when given): a running one
   * is cancelled and frees its slot for the first waiting one; a waiting one leaves the
   * queue. Again, or for an unknown id: nothing happens.
   */
  release(id: string, payload?: object): void {
    const running = this.running.get(id);
    if (running && (payload === undefined || running.payload === payload)) {
      this.running.delete(id);
      running.ending?.cancel();
      return this.admitWaiting();
    }
    const waiting = this.waiting.get(id);
    if (waiting && (payload === undefined || waiting.payload === payload)) {
      this.dequeue(id, waiting);
      waiting.admit('dropped');
    }
  }

  /** The socket closed: the waiting operations are dropped, and nothing more is admitted. */
  close(): void {
    this.closed = true;
    this.expiry?.();
    this.expiry = null;
    for (const [id, waiting] of [...this.waiting]) {
      this.dequeue(id, waiting);
      waiting.admit('dropped');
    }
  }

  private hasRoom(bytes: number): boolean {
    const { waiting, waitingBytes } = this.limits;
    return this.waiting.size < waiting && this.bytesWaiting + bytes <= waitingBytes;
  }

  private admitWaiting(): void {
    for (const [id, waiting] of this.waiting) {
      if (this.closed || this.running.size >= this.limits.running) return;
      this.dequeue(id, waiting);
      this.running.set(id, { payload: waiting.payload, ending: null });
      waiting.admit('started');
    }
  }

  /** Arms the timer of the oldest waiting operation's deadline (none armed, one waiting). */
  private armExpiry(): void {
    const oldest = this.waiting.values().next().value;
    if (this.expiry || !oldest) return;
    const left = oldest.since + this.limits.waitMs - this.clock.now().getTime();
    this.expiry = this.clock.setTimer(Math.max(0, left), () => {
      this.expiry = null;
      this.expire();
    });
  }

  /** Ends the waits past their deadline (the oldest first), then arms the next one. */
  private expire(): void {
    const now = this.clock.now().getTime();
    for (const [id, waiting] of this.waiting) {
      if (waiting.since + this.limits.waitMs > now) break;
      this.dequeue(id, waiting);
      waiting.admit('expired');
    }
    this.armExpiry();
  }

  private dequeue(id: string, waiting: Waiting): void {
    this.waiting.delete(id);
    this.bytesWaiting -= waiting.bytes;
  }
}
