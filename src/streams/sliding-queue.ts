/**
 * The one bounded async queue behind the gateway's streams. Values pushed before the
 * consumer's first pull are kept too, so a stream made now misses nothing published from now
 * on; a consumer that falls behind loses the oldest values and never grows memory past
 * `capacity`. The queue is its own stream, and its state lives in fields with the methods on
 * the prototype: an idle subscription holds one small object, not a Repeater, its closures
 * and a suspended executor (1 to 1.5 KiB each).
 */

type Settle<T> = (result: IteratorResult<T, void>) => void;

/** A fresh result each time, as generators give: a consumer may keep or change one. */
const done = (): IteratorReturnResult<void> => ({ done: true, value: undefined });

/**
 * A sliding queue that is its own async generator. `stop()` ends it after the values already
 * queued; `return()` and `throw()` end it at once, dropping them. Either way `onStop` runs
 * once, when the first of them is called, and a waiting `next()` resolves done.
 */
export class SlidingStream<T> implements AsyncGenerator<T, void, unknown> {
  /** Made on the first push the consumer is not waiting for, dropped once drained. */
  private values: T[] | undefined;
  /** The consumer's pending `next()`: while it waits, `values` is empty. */
  private waiting: Settle<T> | undefined;
  /** `next()` calls made while another waits, in order; rare, as consumers pull one at a time. */
  private waitingMore: Settle<T>[] | undefined;
  private stopped = false;

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new RangeError('capacity must be at least 1');
  }

  /** Delivers `value` to the waiting consumer, or queues it; ignored once stopped. */
  push(value: T): void {
    if (this.stopped) return;
    const settle = this.waiting;
    if (settle) {
      this.waiting = this.waitingMore?.shift();
      settle({ done: false, value });
      return;
    }
    const values = (this.values ??= []);
    if (values.length >= this.capacity) values.shift();
    values.push(value);
  }

  /** Ends the stream after the values already queued; `onStop` runs once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Whoever waits has nothing queued, so its stream has ended.
    this.settleWaiting();
    this.onStop();
  }

  /** Runs once, when the stream is stopped, returned or thrown into: where to unsubscribe. */
  protected onStop(): void {}

  /** So the queue itself can be an `abort` listener: no closure per queue. */
  handleEvent(): void {
    this.stop();
  }

  get stream(): AsyncGenerator<T, void> {
    return this;
  }

  next(): Promise<IteratorResult<T, void>> {
    if (this.values) return Promise.resolve({ done: false, value: this.take(this.values) });
    if (this.stopped) return Promise.resolve(done());
    return new Promise((settle) => this.wait(settle));
  }

  async return(value?: void | PromiseLike<void>): Promise<IteratorResult<T, void>> {
    this.values = undefined;
    this.stop();
    return { done: true, value: await value };
  }

  async throw(error: unknown): Promise<IteratorResult<T, void>> {
    this.values = undefined;
    this.stop();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The oldest value; an idle queue keeps no empty array (its spare room is capacity-sized). */
  private take(values: T[]): T {
    const value = values.shift() as T;
    if (values.length === 0) this.values = undefined;
    return value;
  }

  private wait(settle: Settle<T>): void {
    if (this.waiting) (this.waitingMore ??= []).push(settle);
    else this.waiting = settle;
  }

  private settleWaiting(): void {
    const first = this.waiting;
    const more = this.waitingMore;
    this.waiting = this.waitingMore = undefined;
    first?.(done());
    more?.forEach((settle) => settle(done()));
  }
}

/** A queue made by `slidingQueue`, whose `stop` may be handed around unbound. */
export interface SlidingQueue<T> {
  push(value: T): void;
  /** Ends the stream after the values already queued; `onStop` runs once. */
  readonly stop: () => void;
  readonly stream: AsyncGenerator<T, void>;
}

/** A stream whose `onStop` is a callback. */
class CallbackStream<T> extends SlidingStream<T> {
  constructor(
    capacity: number,
    private readonly callback: () => void,
  ) {
    super(capacity);
    // Callers pass `stop` to addEventListener as it is (one bound function, not the queue).
    this.stop = this.stop.bind(this);
  }

  protected override onStop(): void {
    this.callback();
  }
}

/** A sliding queue of `capacity` that calls `onStop` once when its stream ends. */
export function slidingQueue<T>(capacity: number, onStop: () => void = () => {}): SlidingQueue<T> {
  return new CallbackStream<T>(capacity, onStop);
}
