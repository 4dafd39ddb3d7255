/**
 * Typed in-process pub/sub by topic. Each subscriber reads its own sliding queue: one that
 * does not keep up loses its oldest undelivered values, never grows the gateway's memory.
 */
import { addTo, removeFrom } from './set-map.js';
import { SlidingStream } from './sliding-queue.js';

/** What a topic delivers to: a subscriber's queue, or a listener. */
interface Receiver<T> {
  push(value: T): void;
}

type Subscribers<T> = Map<string, Set<Receiver<T>>>;

/**
 * A subscriber's queue, which leaves its topic when it ends. It knows its topic and signal
 * rather than closing over them, and is its own abort listener: one object per subscriber.
 */
class Subscription<T> extends SlidingStream<T> {
  constructor(
    capacity: number,
    private readonly subscribers: Subscribers<T>,
    private readonly topic: string,
    private readonly signal: AbortSignal,
  ) {
    super(capacity);
  }

  protected override onStop(): void {
    this.signal.removeEventListener('abort', this);
    removeFrom(this.subscribers, this.topic, this);
  }
}

export class Topics<T> {
  private readonly subscribers: Subscribers<T> = new Map();

  constructor(private readonly maxQueue = 64) {}

  publish(topic: string, value: T): void {
    for (const queue of this.subscribers.get(topic) ?? []) queue.push(value);
  }

  /** The topics that have subscribers now. */
  topics(): string[] {
    return [...this.subscribers.keys()];
  }

  /** Number of subscribers on a topic (to prove that nothing leaks). */
  count(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }

  /**
   * Values published on `topic` from this call on, until `signal` aborts or the consumer
   * returns. The subscriber is removed on abort even if the stream was never started.
   */
  subscribe(topic: string, signal: AbortSignal): AsyncGenerator<T> {
    const queue = new Subscription(this.maxQueue, this.subscribers, topic, signal);
    addTo(this.subscribers, topic, queue);
    if (signal.aborted) queue.stop();
    else signal.addEventListener('abort', queue, { once: true });
    return queue;
  }

  /**
   * Calls `listener` with each value published on `topic` from this call on, at once (no
   * queue, no stream); returns the function that stops it.
   */
  listen(topic: string, listener: (value: T) => void): () => void {
    const receiver: Receiver<T> = { push: listener };
    addTo(this.subscribers, topic, receiver);
    return () => removeFrom(this.subscribers, topic, receiver);
  }
}
