/**
 * Typed in-process pub/sub by topic. Each subscriber reads its own sliding queue: one that
 * does not keep up loses its oldest undelivered values, never grows the gateway's memory.
 */
import { addTo, removeFrom } from './set-map.js';
import { slidingQueue, type SlidingQueue } from './sliding-queue.js';

/** What a topic delivers to: a subscriber's queue, or a listener. */
interface Receiver<T> {
  push(value: T): void;
}

export class Topics<T> {
  private readonly subscribers = new Map<string, Set<Receiver<T>>>();

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
    let remove = () => {};
    const queue: SlidingQueue<T> = slidingQueue(this.maxQueue, () => {
      signal.removeEventListener('abort', queue.stop);
      remove();
    });
    remove = this.add(topic, queue);
    if (signal.aborted) queue.stop();
    else signal.addEventListener('abort', queue.stop, { once: true });
    return queue.stream;
  }

  /**
   * Calls `listener` with each value published on `topic` from this call on, at once (no
   * queue, no stream); returns the function that stops it.
   */
  listen(topic: string, listener: (value: T) => void): () => void {
    return this.add(topic, { push: listener });
  }

  private add(topic: string, receiver: Receiver<T>): () => void {
    addTo(this.subscribers, topic, receiver);
    return () => removeFrom(this.subscribers, topic, receiver);
  }
}
