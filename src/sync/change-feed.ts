/**
 * Wakes download streams: when a newer server version is committed, or when a
 * session's scope changes. Holds one waiter per waiting stream and nothing else, so a
 * slow stream costs no memory here: it reads the history itself when it is ready.
 * A stream that says what it is interested in waits in the wake index (wake-index.ts),
 * which wakes it only for the entries that can concern it.
 */
import type { Interest } from './interest.js';
import { addTo, removeFrom } from '../streams/set-map.js';
import type { IndexedWaiter, WakeIndex } from './wake-index.js';

interface Waiter extends IndexedWaiter {
  sessionId: string;
  signal: AbortSignal;
}

/** What a stream that waits selectively is interested in, and when its refresh is due. */
export interface Selective {
  interest: Interest;
  refreshAt: number;
}

const NO_INTEREST: Interest = new Map();

export class ChangeFeed {
  private latestVersion = 0;
  private readonly pokes = new Map<string, number>();
  /** Waiters woken by every new version. */
  private readonly waiters = new Set<Waiter>();
  /** The same waiters and the indexed ones by session: a poke wakes its session's. */
  private readonly bySession = new Map<string, Set<Waiter>>();
  private readonly listeners = new Set<(version: number) => void>();
  /**
   * The waiters of each stream's signal, which gets one abort listener for its whole life
   * (not one added and removed per wait: Node's EventTarget makes that costly per version).
   */
  private readonly bySignal = new WeakMap<AbortSignal, Set<Waiter>>();
  /** Where selective waiters wait; without it, every waiter is woken by every version. */
  index: WakeIndex | null = null;

  get latest(): number {
    return this.latestVersion;
  }

  /** Records that `version` is committed and wakes the streams behind it. */
  advance(version: number): void {
    if (version <= this.latestVersion) return;
    this.latestVersion = version;
    for (const w of this.waiters) if (w.after < version) w.wake(null);
    this.index?.advance(version);
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
    for (const w of [...(this.bySession.get(sessionId) ?? [])]) w.wake(null);
  }

  /**
   * Resolves when a version after `after` exists (with `selective`: one that can concern
   * the stream, or its refresh is due), the session is poked past `seenPokes`, or `signal`
   * aborts. Resolves with the version up to which no entry concerned the stream, when the
   * index knows one (the stream may move its cursor there unread), else null.
   */
  wait(
    after: number,
    sessionId: string,
    seenPokes: number,
    signal: AbortSignal,
    selective?: Selective,
  ): Promise<number | null> {
    if (this.latestVersion > after || this.pokeCount(sessionId) !== seenPokes || signal.aborted) {
      return Promise.resolve(null);
    }
    return new Promise<number | null>((resolve) => {
      const waiter: Waiter = {
        after,
        sessionId,
        signal,
        interest: selective?.interest ?? NO_INTEREST,
        refreshAt: selective?.refreshAt ?? Infinity,
        wake: (skipTo) => {
          this.forget(waiter);
          resolve(skipTo);
        },
      };
      addTo(this.bySession, sessionId, waiter);
      this.watch(signal, waiter);
      if (selective && this.index) this.index.add(waiter);
      else this.waiters.add(waiter);
    });
  }

  /** Wakes the waiter when its signal aborts, through the signal's one listener. */
  private watch(signal: AbortSignal, waiter: Waiter): void {
    const known = this.bySignal.get(signal);
    if (known) return void known.add(waiter);
    const waiters = new Set([waiter]);
    this.bySignal.set(signal, waiters);
    const abort = () => [...waiters].forEach((w) => w.wake(null));
    signal.addEventListener('abort', abort, { once: true });
  }

  private forget(waiter: Waiter): void {
    this.waiters.delete(waiter);
    this.bySignal.get(waiter.signal)?.delete(waiter);
    this.index?.remove(waiter);
    removeFrom(this.bySession, waiter.sessionId, waiter);
  }
}
