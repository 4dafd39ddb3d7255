/**
 * Wakes download streams: when a newer server version is committed, or when a
 * session's scope changes. Holds one waiter per waiting stream and nothing else, so a
 * slow stream costs no memory here: it reads the history itself when it is ready.
 * A stream that says what it is interested in waits in the wake index (wake-index.ts),
 * which wakes it only for the entries that can concern it. A stream waits again and again
 * through one `StreamWaiter`, registered once for its life (by session, by signal, in the
 * index): a wait arms it, a wake disarms it.
 */
import type { Interest } from './interest.js';
import { addTo, removeFrom } from '../streams/set-map.js';
import type { IndexedWaiter, WakeIndex } from './wake-index.js';

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
  private readonly waiters = new Set<StreamWaiter>();
  /** The same waiters and the indexed ones by session: a poke wakes its session's. */
  private readonly bySession = new Map<string, Set<StreamWaiter>>();
  private readonly listeners = new Set<(version: number) => void>();
  /**
   * The waiters of each stream's signal, which gets one abort listener for its whole life
   * (not one added and removed per wait: Node's EventTarget makes that costly per version).
   */
  private readonly bySignal = new WeakMap<AbortSignal, Set<StreamWaiter>>();
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

  /** Sessions with a waiter registered, waiting or not (to prove that nothing leaks). */
  get sessionsHeld(): number {
    return this.bySession.size;
  }

  /** Listeners registered (to prove that nothing leaks). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** A counter that changes whenever the session is poked. */
  pokeCount(sessionId: string): number {
    return this.pokes.get(sessionId) ?? 0;
  }

  /**
   * Pokes every session with a stream, as if each was poked (after missed signals): a waiting
   * stream wakes, and a busy one reads its session again on its next turn (each stream's
   * waiter is registered for the stream's life, so busy streams are reached too).
   */
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
    if (this.ready(after, sessionId, seenPokes, signal)) return Promise.resolve(null);
    // A waiter for this one wait: forgotten when it is woken.
    const waiter = new StreamWaiter(this, sessionId, signal, true);
    this.register(waiter);
    const interest = selective?.interest ?? null;
    return waiter.wait(after, seenPokes, interest, selective?.refreshAt ?? Infinity);
  }

  /** The waiter a stream waits through for its whole life (until `signal` aborts). */
  waiter(sessionId: string, signal: AbortSignal): StreamWaiter {
    const waiter = new StreamWaiter(this, sessionId, signal);
    if (!signal.aborted) this.register(waiter);
    return waiter;
  }

  /** Whether a wait after `after`, having seen `seenPokes`, is over before it starts. */
  ready(after: number, sessionId: string, seenPokes: number, signal: AbortSignal): boolean {
    return this.latestVersion > after || this.pokeCount(sessionId) !== seenPokes || signal.aborted;
  }

  /** @internal Puts a waiter where a new version (or the index) wakes it. */
  arm(waiter: StreamWaiter, selective: boolean): void {
    if (selective && this.index) this.index.add(waiter);
    else this.waiters.add(waiter);
  }

  /** @internal Stops a woken waiter waiting; it stays registered. */
  disarm(waiter: StreamWaiter): void {
    this.waiters.delete(waiter);
    this.index?.disarm(waiter);
  }

  /** @internal Forgets a waiter: woken by a poke and by its signal no more. */
  forget(waiter: StreamWaiter): void {
    this.waiters.delete(waiter);
    this.bySignal.get(waiter.signal)?.delete(waiter);
    this.index?.remove(waiter);
    removeFrom(this.bySession, waiter.sessionId, waiter);
  }

  private register(waiter: StreamWaiter): void {
    addTo(this.bySession, waiter.sessionId, waiter);
    this.watch(waiter.signal, waiter);
  }

  /** Wakes the waiter when its signal aborts, through the signal's one listener. */
  private watch(signal: AbortSignal, waiter: StreamWaiter): void {
    const known = this.bySignal.get(signal);
    if (known) return void known.add(waiter);
    const waiters = new Set([waiter]);
    this.bySignal.set(signal, waiters);
    const abort = () => [...waiters].forEach((w) => w.end());
    signal.addEventListener('abort', abort, { once: true });
  }
}

/**
 * One stream's waits: registered with the feed once, armed by each `wait`, disarmed by each
 * wake; forgotten when its signal aborts (or, `once`, when it is woken: `ChangeFeed.wait`).
 * A class: no closures per wait.
 */
export class StreamWaiter implements IndexedWaiter {
  after = 0;
  interest: Interest = NO_INTEREST;
  refreshAt = Infinity;
  private resolve: ((skipTo: number | null) => void) | null = null;

  constructor(
    private readonly feed: ChangeFeed,
    readonly sessionId: string,
    readonly signal: AbortSignal,
    private readonly once = false,
  ) {}

  /**
   * As `ChangeFeed.wait`, for this stream (one wait at a time); selective when it gives an
   * interest, woken by its refresh at `refreshAt` then.
   */
  wait(
    after: number,
    seenPokes: number,
    interest: Interest | null,
    refreshAt: number,
  ): Promise<number | null> {
    const { feed } = this;
    if (this.resolve !== null) throw new Error('StreamWaiter: one wait at a time');
    if (feed.ready(after, this.sessionId, seenPokes, this.signal)) return Promise.resolve(null);
    this.after = after;
    this.interest = interest ?? NO_INTEREST;
    this.refreshAt = interest ? refreshAt : Infinity;
    return new Promise<number | null>((resolve) => {
      this.resolve = resolve;
      feed.arm(this, interest !== null);
    });
  }

  wake(skipTo: number | null): void {
    const resolve = this.resolve;
    if (resolve === null) return;
    this.resolve = null;
    if (this.once) this.feed.forget(this);
    else this.feed.disarm(this);
    resolve(skipTo);
  }

  /** Its signal aborted, or its stream ended: wakes it if waiting, and forgets it. */
  end(): void {
    this.wake(null);
    this.feed.forget(this);
  }
}
