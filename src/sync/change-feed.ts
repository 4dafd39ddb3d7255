/**
 * Wakes download streams: when a newer server version is committed, or when a
 * session's scope changes. Holds one waiter per waiting stream and nothing else, so a
 * slow stream costs no memory here: it reads the history itself when it is ready.
 */
interface Waiter {
  after: number;
  sessionId: string;
  wake: () => void;
}

export class ChangeFeed {
  private latestVersion = 0;
  private readonly pokes = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  /** The same waiters by session: a poke wakes its session's without a scan of all. */
  private readonly bySession = new Map<string, Set<Waiter>>();
  private readonly listeners = new Set<(version: number) => void>();

  get latest(): number {
    return this.latestVersion;
  }

  /** Records that `version` is committed and wakes the streams behind it. */
  advance(version: number): void {
    if (version <= this.latestVersion) return;
    this.latestVersion = version;
    for (const w of this.waiters) if (w.after < version) w.wake();
    for (const listener of this.listeners) listener(version);
  }

  /** Calls `listener` on every new version; returns the function that stops it. */
  onAdvance(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listeners registered (to prove that nothing leaks). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** A counter that changes whenever the session is poked. */
  pokeCount(sessionId: string): number {
    return this.pokes.get(sessionId) ?? 0;
  }

  /** Wakes every waiting stream, as if each session was poked (after missed signals). */
  pokeAll(): void {
    for (const id of [...this.bySession.keys()]) this.poke(id);
  }

  /** Wakes the session's streams: its scope or state changed. */
  poke(sessionId: string): void {
    this.pokes.set(sessionId, this.pokeCount(sessionId) + 1);
    for (const w of [...(this.bySession.get(sessionId) ?? [])]) w.wake();
  }

  /** Resolves when a version after `after` exists, the session is poked past `seenPokes`, or `signal` aborts. */
  wait(after: number, sessionId: string, seenPokes: number, signal: AbortSignal): Promise<void> {
    if (this.latestVersion > after || this.pokeCount(sessionId) !== seenPokes || signal.aborted) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { after, sessionId, wake: () => done() };
      const done = () => {
        this.forget(waiter);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(waiter);
      const own = this.bySession.get(sessionId);
      if (own) own.add(waiter);
      else this.bySession.set(sessionId, new Set([waiter]));
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private forget(waiter: Waiter): void {
    this.waiters.delete(waiter);
    const own = this.bySession.get(waiter.sessionId);
    own?.delete(waiter);
    if (own?.size === 0) this.bySession.delete(waiter.sessionId);
  }
}
