/**
 * The recent history, read from the store once per gateway: every stream following the
 * history reads its next entries here instead of each reading the store itself. Holds
 * the newest entries, contiguous, up to the latest version the change feed knows, bounded
 * by a count and by bytes; a stream further behind reads the store, as before.
 *
 *   committed / signal ──▶ feed.advance(v) ──▶ a stream asks read(cursor)
 *     ──▶ one load of (held, v] for all of them ──▶ each gets its slice from memory
 */
import type { SyncStore } from '../store/port.js';
import type { ChangeFeed } from './change-feed.js';
import type { HistoryEntry } from './model.js';

/** What a read returns: entries after the cursor, and the latest version they were read at. */
export interface HistoryRead {
  entries: HistoryEntry[];
  latest: number;
}

export interface SharedHistoryLimits {
  /** The most entries held. */
  entries: number;
  /** The most bytes held (documents before and after, as JSON). */
  bytes: number;
}

/** Entries read from the store per load. */
const LOAD_CHUNK = 1000;

const sizeOf = (h: HistoryEntry) =>
  (h.before ? JSON.stringify(h.before).length : 0) + (h.after ? JSON.stringify(h.after).length : 0);

export class SharedHistory {
  /** From `head` on: versions (start, end], in order, without gaps. */
  private held: HistoryEntry[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private start: number | null = null;
  private loading: Promise<void> | null = null;
  /** Answers of `heldRead` while `end` and `head` are these. */
  private reads = { end: -1, head: -1, by: new Map<string, HistoryRead>() };

  constructor(
    private readonly store: Pick<SyncStore, 'readHistory' | 'latestVersion'>,
    private readonly feed: ChangeFeed,
    private readonly limits: SharedHistoryLimits,
  ) {}

  private get count(): number {
    return this.held.length - this.head;
  }

  private get end(): number {
    return (this.start ?? 0) + this.count;
  }

  /** Up to `limit` entries after `after`: from memory when held, else from the store. */
  read(after: number, limit: number): Promise<HistoryRead> {
    const held = this.readHeld(after, limit);
    return held ? Promise.resolve(held) : this.readAfterCatchUp(after, limit);
  }

  /**
   * What `read` would answer, when it answers from memory at once (caught up, as catchUp
   * would find, and held); null when it would wait for a load or the store.
   */
  readHeld(after: number, limit: number): HistoryRead | null {
    return this.servesFromMemory(after) ? this.heldRead(after, limit) : null;
  }

  private async readAfterCatchUp(after: number, limit: number): Promise<HistoryRead> {
    await this.catchUp();
    if (this.servesFromMemory(after)) return this.heldRead(after, limit);
    const latest = await this.store.latestVersion();
    return { entries: await this.store.readHistory(after, limit), latest };
  }

  /** Held, and holding everything the feed knows of (else the store says what is lost). */
  private servesFromMemory(after: number): boolean {
    const held = this.start !== null && after >= this.start && after <= this.end;
    return held && this.end >= this.feed.latest;
  }

  /**
   * Held entries after `after`. Streams caught up together ask for the same ones: an
   * answer is given again while nothing was added or dropped (readers never change it).
   */
  private heldRead(after: number, limit: number): HistoryRead {
    if (this.reads.end !== this.end || this.reads.head !== this.head || this.reads.by.size > 64) {
      this.reads = { end: this.end, head: this.head, by: new Map() };
    }
    const key = `${after}:${limit}`;
    let read = this.reads.by.get(key);
    if (!read) {
      const from = this.head + after - this.start!;
      read = { entries: this.held.slice(from, from + limit), latest: this.end };
      this.reads.by.set(key, read);
    }
    return read;
  }

  /** Loads what the feed knows is committed and is not held yet; one load at a time. */
  private async catchUp(): Promise<void> {
    while (this.start === null || this.end < this.feed.latest) {
      this.loading ??= this.load().finally(() => (this.loading = null));
      const before = this.end;
      await this.loading;
      if (this.start !== null && this.end === before) return; // nothing more to read yet
    }
  }

  private async load(): Promise<void> {
    if (this.start === null) {
      this.start = await this.store.latestVersion();
      return;
    }
    const want = Math.min(this.feed.latest - this.end, LOAD_CHUNK);
    const entries = await this.store.readHistory(this.end, want);
    const first = entries[0];
    // A gap (history compacted meanwhile): start again from what was read, or, with
    // nothing left to read, after the store's latest: never claim versions it cannot give.
    if (first && first.version !== this.end + 1) this.restart(first.version - 1);
    if (!first) {
      const latest = await this.store.latestVersion();
      if (latest > this.end) this.restart(latest);
    }
    for (const h of entries) this.hold(h);
  }

  private restart(start: number): void {
    [this.held, this.sizes, this.head, this.bytes, this.start] = [[], [], 0, 0, start];
    this.reads = { end: -1, head: -1, by: new Map() };
  }

  private hold(h: HistoryEntry): void {
    const size = sizeOf(h);
    this.held.push(h);
    this.sizes.push(size);
    this.bytes += size;
    while (this.count > this.limits.entries || this.bytes > this.limits.bytes) {
      if (this.count === 1) break;
      this.bytes -= this.sizes[this.head]!;
      this.head += 1;
      this.start! += 1;
    }
    // Dropped entries are cut off now and then, not one by one (shift is linear).
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      [this.held, this.sizes] = [this.held.slice(this.head), this.sizes.slice(this.head)];
      this.head = 0;
    }
  }
}
