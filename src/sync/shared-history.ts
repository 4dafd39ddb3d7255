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
  /** Versions (start, end], in order, without gaps. */
  private held: HistoryEntry[] = [];
  private sizes: number[] = [];
  private bytes = 0;
  private start: number | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<SyncStore, 'readHistory' | 'latestVersion'>,
    private readonly feed: ChangeFeed,
    private readonly limits: SharedHistoryLimits,
  ) {}

  private get end(): number {
    return (this.start ?? 0) + this.held.length;
  }

  /** Up to `limit` entries after `after`: from memory when held, else from the store. */
  async read(after: number, limit: number): Promise<HistoryRead> {
    await this.catchUp();
    if (this.start !== null && after >= this.start && after <= this.end) {
      const from = after - this.start;
      return { entries: this.held.slice(from, from + limit), latest: this.end };
    }
    const latest = await this.store.latestVersion();
    return { entries: await this.store.readHistory(after, limit), latest };
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
    // A gap (history compacted meanwhile): start again from what was read.
    if (first && first.version !== this.end + 1) this.restart(first.version - 1);
    for (const h of entries) this.hold(h);
  }

  private restart(start: number): void {
    [this.held, this.sizes, this.bytes, this.start] = [[], [], 0, start];
  }

  private hold(h: HistoryEntry): void {
    const size = sizeOf(h);
    this.held.push(h);
    this.sizes.push(size);
    this.bytes += size;
    while (this.held.length > this.limits.entries || this.bytes > this.limits.bytes) {
      if (this.held.length === 1) break;
      this.held.shift();
      this.bytes -= this.sizes.shift()!;
      this.start! += 1;
    }
  }
}
