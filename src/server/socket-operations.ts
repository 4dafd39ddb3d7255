/**
 * The operations of one graphql-ws socket: at most `running` run at once. Past that, a new
 * one waits for a slot, in arrival order, instead of being refused; the waiting ones are
 * bounded by count (`waiting`) and by the bytes of their messages (`waitingBytes`), and
 * only an operation past that bound is refused (ws.ts answers LIMIT_EXCEEDED, retryable).
 *
 * Every admission, immediate or after a wait, resolves a promise: the operations resume
 * in the order they were admitted, so one that had a slot at once never overtakes one
 * admitted before it from the queue. An operation is known by its id and its payload
 * (graphql-ws hands the same payload object to onSubscribe, onError and onComplete), so
 * the end of an old operation never frees the slot of a new one that reuses its id.
 */

export interface SocketOperationLimits {
  /** Operations running at once. */
  running: number;
  /** Operations waiting for a slot. */
  waiting: number;
  /** Bytes of the messages of the waiting operations. */
  waitingBytes: number;
}

interface Running {
  payload: object;
  /** Ends the operation's waits and streams (set once it has started). */
  cancel: (() => void) | null;
}

interface Waiting {
  payload: object;
  bytes: number;
  /** true: it has its slot; false: it was completed or its socket closed first. */
  admit: (started: boolean) => void;
}

export class SocketOperations {
  private readonly running = new Map<string, Running>();
  /** In arrival order (a Map keeps insertion order). */
  private readonly waiting = new Map<string, Waiting>();
  private bytesWaiting = 0;
  private closed = false;

  constructor(private readonly limits: SocketOperationLimits) {}

  /** Operations waiting for a slot, and the bytes of their messages. */
  get queued(): { count: number; bytes: number } {
    return { count: this.waiting.size, bytes: this.bytesWaiting };
  }

  /**
   * Admits an operation whose message was `bytes` long: resolves true once it holds a slot
   * (false if completed or closed while it waited); false at once when the queue is full.
   */
  enter(id: string, payload: object, bytes: number): Promise<boolean> | false {
    if (this.closed) return false;
    if (this.waiting.size === 0 && this.running.size < this.limits.running) {
      this.running.set(id, { payload, cancel: null });
      return Promise.resolve(true);
    }
    if (!this.hasRoom(bytes)) return false;
    return new Promise<boolean>((admit) => {
      this.waiting.set(id, { payload, bytes, admit });
      this.bytesWaiting += bytes;
    });
  }

  /**
   * What ends the started operation; false (and `cancel` is not kept) when it was completed
   * since its admission.
   */
  started(id: string, payload: object, cancel: () => void): boolean {
    const entry = this.running.get(id);
    if (entry?.payload !== payload) return false;
    entry.cancel = cancel;
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
      running.cancel?.();
      return this.admitWaiting();
    }
    const waiting = this.waiting.get(id);
    if (waiting && (payload === undefined || waiting.payload === payload)) {
      this.dequeue(id, waiting);
      waiting.admit(false);
    }
  }

  /** The socket closed: the waiting operations are dropped, and nothing more is admitted. */
  close(): void {
    this.closed = true;
    for (const [id, waiting] of [...this.waiting]) {
      this.dequeue(id, waiting);
      waiting.admit(false);
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
      this.running.set(id, { payload: waiting.payload, cancel: null });
      waiting.admit(true);
    }
  }

  private dequeue(id: string, waiting: Waiting): void {
    this.waiting.delete(id);
    this.bytesWaiting -= waiting.bytes;
  }
}
