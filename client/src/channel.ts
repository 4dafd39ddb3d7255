/**
 * A bounded push-to-pull stream: producers `push`, consumers iterate. A consumer that
 * falls behind loses the oldest values, never grows memory without limit.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly maxQueue = 100,
    private readonly onClose: () => void = () => undefined,
  ) {}

  push(value: T): void {
    if (this.closed) return;
    this.queue.push(value);
    if (this.queue.length > this.maxQueue) this.queue.shift();
    this.wake?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        const value = this.queue.shift();
        if (value !== undefined) yield value;
        else if (this.closed) return;
        else await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    } finally {
      this.close();
    }
  }
}
