/**
 * Session writes made in groups: what arrives while a write is on its way waits for the
 * next one, which carries everything that arrived meanwhile, one value per key (merged),
 * in one store write (one transaction, one fsync). Each `add` resolves once its value is
 * written (or rejects with the group's error): as durable as a write of its own, at the
 * cost of one write per group instead of one per caller.
 */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupedWrites<V> {
  private pending = new Map<string, V>();
  private waiters: Waiter[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly write: (group: Map<string, V>) => Promise<void>,
    private readonly merge: (older: V, newer: V) => V = (_older, newer) => newer,
  ) {}

  add(key: string, value: V): Promise<void> {
    const older = this.pending.get(key);
    this.pending.set(key, older === undefined ? value : this.merge(older, value));
    const written = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.running ??= this.drain();
    return written;
  }

  /** Resolves when nothing is pending or being written. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // What arrives in the same turn of the event loop joins the first group.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.size > 0) {
      const [group, waiters] = [this.pending, this.waiters];
      [this.pending, this.waiters] = [new Map(), []];
      try {
        await this.write(group);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    this.running = null;
  }
}
