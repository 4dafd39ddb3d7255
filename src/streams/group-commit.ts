/**
 * Group commit: items queued in the same turn of the event loop run together (the stores'
 * integrations: one transaction with one fsync; the sync core's session writes, merged by
 * key in sync/grouped-writes.ts), and each is settled only after that group's outcome. Every
 * group starts in a turn of its own (setImmediate), after what the last one's settling woke
 * has run: callers waiting for that group's commit to be durable (see sqlite/wal-sync.ts)
 * go first, and join the next group.
 */
/** Told the size of every group that committed (the store port's GroupCommitObserver). */
export interface GroupObserver {
  groupCommitted(size: number): void;
}

export interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/** Runs one group; returns, per input, its output or the error that aborted it. */
export type GroupRunner<I, O> = (
  inputs: I[],
) => Promise<({ ok: true; value: O } | { ok: false; error: unknown })[]>;

export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private running: Promise<void> | null = null;
  /** Groups sent and not yet settled. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Told the size of every group that committed (metrics, in src/server); none by default. */
  observer: GroupObserver = { groupCommitted: () => undefined };

  /**
   * `maxInFlight`: groups run at once. 1 by default: each group is sent once the last one
   * settled. More suits a runner that queues groups and runs them in order elsewhere (the
   * SQLite writer thread): it finds the next group waiting when it finishes one.
   */
  constructor(
    private readonly run: GroupRunner<I, O>,
    private readonly maxGroup = 512,
    private readonly maxInFlight = 1,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.running) this.running = this.drainSoon();
    });
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running || this.inFlight.size > 0) {
      await (this.running ?? Promise.all(this.inFlight));
    }
  }

  private async drainSoon(): Promise<void> {
    while (this.queue.length > 0) {
      while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
      await new Promise<void>((r) => setImmediate(r));
      const group = this.queue.splice(0, this.maxGroup);
      const settling: Promise<void> = this.settle(group).finally(() =>
        this.inFlight.delete(settling),
      );
      this.inFlight.add(settling);
    }
    this.running = null;
  }

  private async settle(group: Pending<I, O>[]): Promise<void> {
    try {
      const outcomes = await this.run(group.map((p) => p.input));
      this.observer.groupCommitted(group.length);
      group.forEach((p, i) => {
        const o = outcomes[i];
        if (o?.ok) p.resolve(o.value);
        else p.reject(o ? o.error : new Error('group commit lost an outcome'));
      });
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }
}
