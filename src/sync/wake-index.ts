/**
 * Wakes a waiting stream only for the history entries that can concern it (interest.ts),
 * instead of every stream for every version. The index reads each new entry once (from the
 * shared history), finds the waiters it can concern through their indexed equality (the
 * collection, a field and a value: the read rule's `ownerId` and the user's id, say), and
 * wakes those. A waiter the entries passed by learns, when it is woken, how far nothing
 * concerned it (`skipTo`), so its stream moves its cursor without reading them; and it is
 * woken by the time its cursor refresh is due, so its client's cursor still advances.
 *
 *   advance(v) ──▶ read (checked, v] once ──▶ per entry: candidates by collection and
 *     by value ──▶ `concerns` ──▶ wake(null)
 *   passed by, refresh due ──▶ wake(checked)
 *
 * A waiter is indexed by its interest once, and stays indexed while it waits with the same
 * interest (a stream waits with its scope's, again and again): each wait only arms it, each
 * wake disarms it; `remove` takes it out.
 */
import type { Clock } from '../clock.js';
import { concerns, scalarKey, valuesAt, type Interest } from './interest.js';
import type { HistoryEntry } from './model.js';
import { addTo, removeFrom } from '../streams/set-map.js';

export interface IndexedWaiter {
  /** The version the stream has read up to: only later entries can wake it. */
  readonly after: number;
  readonly interest: Interest;
  /** When (epoch ms) the stream's cursor refresh is due, once entries passed it by. */
  readonly refreshAt: number;
  /** `skipTo`: the version up to which no entry concerned it; null: read them all. */
  wake(skipTo: number | null): void;
}

/** Waiters of one collection: by indexed field and value, and those without a field. */
interface CollectionWaiters {
  all: Set<IndexedWaiter>;
  byPath: Map<string, Map<string, Set<IndexedWaiter>>>;
}

/** What the index reads the history through (the shared history): entries after a version. */
interface HistoryReader {
  read(after: number, limit: number): Promise<{ entries: HistoryEntry[]; latest: number }>;
}

/** Entries read per step. */
const READ_CHUNK = 1000;
/** Refreshes due within this many ms of one another are woken by one timer. */
const REFRESH_GRAIN_MS = 250;

export class WakeIndex {
  private readonly byCollection = new Map<string, CollectionWaiters>();
  /** Waiters indexed, with the interest each is indexed by. */
  private readonly indexed = new Map<IndexedWaiter, Interest>();
  /** Waiters armed: waiting now. */
  private readonly waiting = new Set<IndexedWaiter>();
  /** Waiters no matched entry has passed by yet, by the version they wait after. */
  private readonly fresh = new Map<number, Set<IndexedWaiter>>();
  /** Waiters that entries passed by, by the grain their refresh is due in. */
  private readonly passed = new Map<number, Set<IndexedWaiter>>();
  private readonly passedGrain = new Map<IndexedWaiter, number>();
  private cancelTimer: (() => void) | null = null;
  private timerAt = Infinity;
  /** Every entry up to here was matched against the waiters of its time. */
  private checked: number;
  private latest: number;
  private reading: Promise<void> | null = null;
  private wakes = 0;

  constructor(
    private readonly history: HistoryReader,
    private readonly clock: Clock,
    start: number,
  ) {
    this.checked = start;
    this.latest = start;
  }

  /** Waiters waiting now. */
  get size(): number {
    return this.waiting.size;
  }

  /** Waiters indexed, waiting or not (to prove that nothing leaks). */
  get indexedCount(): number {
    return this.indexed.size;
  }

  /** Waiters woken so far (by an entry, a refresh, or lost history; not by a poke or an end). */
  get woken(): number {
    return this.wakes;
  }

  /** The version every entry up to has been matched. */
  get checkedTo(): number {
    return this.checked;
  }

  /**
   * Arms `waiter`, which is not waiting (indexing it by its interest, unless it is already);
   * its `after` and `refreshAt` must not change until it is woken or disarmed.
   */
  add(waiter: IndexedWaiter): void {
    // Entries up to `checked` were matched without it: it must read them itself.
    if (waiter.after < this.checked) return waiter.wake(null);
    this.waiting.add(waiter);
    addTo(this.fresh, waiter.after, waiter);
    const known = this.indexed.get(waiter);
    if (known === waiter.interest) return;
    if (known) this.unindex(waiter, known);
    this.indexBy(waiter, waiter.interest);
  }

  /** Takes `waiter` out of the index, waiting or not. */
  remove(waiter: IndexedWaiter): void {
    this.disarm(waiter);
    const known = this.indexed.get(waiter);
    if (known) this.unindex(waiter, known);
  }

  /** Stops `waiter` waiting; it stays indexed for its next wait. */
  disarm(waiter: IndexedWaiter): void {
    if (!this.waiting.delete(waiter)) return;
    removeFrom(this.fresh, waiter.after, waiter);
    this.unpass(waiter);
  }

  private indexBy(waiter: IndexedWaiter, interest: Interest): void {
    this.indexed.set(waiter, interest);
    for (const [collection, part] of interest) {
      const held = this.collection(collection);
      if (!part.key) {
        held.all.add(waiter);
        continue;
      }
      const byValue = held.byPath.get(part.key.path) ?? new Map<string, Set<IndexedWaiter>>();
      held.byPath.set(part.key.path, byValue);
      for (const v of part.key.in) addTo(byValue, scalarKey(v), waiter);
    }
  }

  private unindex(waiter: IndexedWaiter, interest: Interest): void {
    this.indexed.delete(waiter);
    for (const [collection, part] of interest) {
      const held = this.byCollection.get(collection);
      if (!held) continue;
      if (!part.key) held.all.delete(waiter);
      else this.removeKeyed(held, part.key.path, part.key.in.map(scalarKey), waiter);
      if (held.all.size === 0 && held.byPath.size === 0) this.byCollection.delete(collection);
    }
  }

  /** A new version is committed: match the entries up to it, once, in order. */
  advance(version: number): void {
    if (version <= this.latest) return;
    this.latest = version;
    this.reading ??= this.readAll();
  }

  /** Resolves once every entry up to the latest version known is matched. */
  async idle(): Promise<void> {
    while (this.reading) await this.reading;
  }

  private collection(name: string): CollectionWaiters {
    let held = this.byCollection.get(name);
    if (!held) this.byCollection.set(name, (held = { all: new Set(), byPath: new Map() }));
    return held;
  }

  private removeKeyed(held: CollectionWaiters, path: string, keys: string[], w: IndexedWaiter) {
    const byValue = held.byPath.get(path);
    if (!byValue) return;
    for (const key of keys) removeFrom(byValue, key, w);
    if (byValue.size === 0) held.byPath.delete(path);
  }

  private async readAll(): Promise<void> {
    await null; // never settles in advance()'s turn: `reading` is set before it is cleared
    try {
      while (this.checked < this.latest) {
        // No one to match against: later waiters wait after it, or read it themselves.
        if (this.waiting.size === 0) this.checked = this.latest;
        else if (!(await this.matchNext())) return this.lost();
      }
    } finally {
      this.reading = null; // in the job that saw nothing left: a later advance() reads again
    }
  }

  /**
   * Matches the next entries, never past the latest version the feed knows (the store may
   * hold more, not yet announced: waiters wait after what the feed knows); false when they
   * cannot be read.
   */
  private async matchNext(): Promise<boolean> {
    const limit = Math.min(READ_CHUNK, this.latest - this.checked);
    const read = await this.history.read(this.checked, limit).catch(() => null);
    const first = read?.entries[0];
    if (!read || !first || first.version !== this.checked + 1) return false;
    const known = read.entries.filter((h) => h.version <= this.latest);
    for (const h of known) this.match(h);
    this.checked = known[known.length - 1]!.version;
    this.passBy();
    return true;
  }

  /**
   * Entries after `checked` cannot be matched (compacted, unreadable, or not visible yet):
   * every waiter reads them itself; later waiters wait after the latest version anyway.
   */
  private lost(): void {
    for (const w of [...this.waiting]) this.wakeOne(w, null);
    this.checked = this.latest;
  }

  private match(h: HistoryEntry): void {
    const held = this.byCollection.get(h.collection);
    if (!held) return;
    // A set of its own: waking one changes the index's sets, not this one.
    for (const w of this.candidates(held, h)) {
      // An armed waiter's interest is the one it is indexed by (`add`).
      if (!this.waiting.has(w) || h.version <= w.after) continue;
      if (concerns(w.interest, h)) this.wakeOne(w, null);
    }
  }

  private candidates(held: CollectionWaiters, h: HistoryEntry): Set<IndexedWaiter> {
    const found = new Set(held.all);
    for (const [path, byValue] of held.byPath) {
      for (const doc of [h.before, h.after]) {
        if (!doc) continue;
        const { scalars, wide } = valuesAt(doc, path);
        const sets = wide ? [...byValue.values()] : scalars.map((v) => byValue.get(scalarKey(v)));
        for (const set of sets) set?.forEach((w) => found.add(w));
      }
    }
    return found;
  }

  private wakeOne(w: IndexedWaiter, skipTo: number | null): void {
    this.wakes += 1;
    this.disarm(w);
    w.wake(skipTo);
  }

  /** Waiters the matched entries passed by wait for their refresh, in grains of time. */
  private passBy(): void {
    for (const [after, waiters] of this.fresh) {
      if (after >= this.checked) continue;
      this.fresh.delete(after);
      for (const w of waiters) {
        const grain = Math.ceil(w.refreshAt / REFRESH_GRAIN_MS) * REFRESH_GRAIN_MS;
        this.passedGrain.set(w, grain);
        addTo(this.passed, grain, w);
      }
    }
    this.armTimer();
  }

  private unpass(w: IndexedWaiter): void {
    const grain = this.passedGrain.get(w);
    if (grain === undefined) return;
    this.passedGrain.delete(w);
    removeFrom(this.passed, grain, w);
    if (this.passed.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    [this.cancelTimer, this.timerAt] = [null, Infinity];
  }

  private armTimer(): void {
    if (this.passed.size === 0) return;
    const next = Math.min(...this.passed.keys());
    if (next >= this.timerAt) return;
    this.stopTimer();
    this.timerAt = next;
    this.cancelTimer = this.clock.setTimer(next - this.clock.now().getTime(), () => this.due());
  }

  /** Wakes the waiters whose refresh is due, skipping what was matched. */
  private due(): void {
    [this.cancelTimer, this.timerAt] = [null, Infinity];
    const now = this.clock.now().getTime();
    for (const [grain, set] of [...this.passed]) {
      if (grain > now) continue;
      for (const w of [...set]) this.wakeOne(w, this.checked);
    }
    if (this.passed.size > 0) this.armTimer();
  }
}
