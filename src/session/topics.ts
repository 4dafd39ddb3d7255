/**
 * Typed in-process pub/sub by topic. Each subscriber has a bounded queue: a subscriber
 * that does not keep up loses its oldest undelivered values, never grows the gateway's
 * memory. With `coalesce`, a subscriber only ever holds the latest value.
 */
interface Subscriber<T> {
  queue: T[];
  wake: (() => void) | null;
}

export class Topics<T> {
  private readonly subscribers = new Map<string, Set<Subscriber<T>>>();

  constructor(private readonly maxQueue = 64) {}

  publish(topic: string, value: T): void {
    for (const sub of this.subscribers.get(topic) ?? []) {
      sub.queue.push(value);
      if (sub.queue.length > this.maxQueue) sub.queue.shift();
      sub.wake?.();
    }
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
   * Values published on `topic` from this call on, until `signal` aborts. The subscriber
   * is removed on abort even if the returned generator was never started.
   */
  subscribe(topic: string, signal: AbortSignal): AsyncGenerator<T> {
    const sub: Subscriber<T> = { queue: [], wake: null };
    const set = this.subscribers.get(topic) ?? new Set();
    set.add(sub);
    this.subscribers.set(topic, set);
    const remove = () => {
      this.remove(topic, sub);
      sub.wake?.();
    };
    if (signal.aborted) remove();
    else signal.addEventListener('abort', remove, { once: true });
    return this.deliver(topic, sub, signal, remove);
  }

  private remove(topic: string, sub: Subscriber<T>): void {
    const set = this.subscribers.get(topic);
    set?.delete(sub);
    if (set?.size === 0) this.subscribers.delete(topic);
  }

  private async *deliver(
    topic: string,
    sub: Subscriber<T>,
    signal: AbortSignal,
    remove: () => void,
  ): AsyncGenerator<T> {
    try {
      while (!signal.aborted) {
        const value = sub.queue.shift();
        if (value !== undefined) yield value;
        else await new Promise<void>((resolve) => (sub.wake = resolve));
        sub.wake = null;
      }
    } finally {
      signal.removeEventListener('abort', remove);
      this.remove(topic, sub);
    }
  }
}
