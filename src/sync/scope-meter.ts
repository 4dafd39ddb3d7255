/**
 * Sums the bytes of history entries in a session's scope, reading the history forward in
 * batches: constant memory however far behind the client is.
 */
import type { SyncStore } from '../store/port.js';
import type { DownloadChange } from './download-batch.js';
import { routeEntry } from './route-entry.js';
import type { HistoryEntry } from './model.js';
import type { Scope } from './scope.js';

/** Sizes by change: a change routed once for many scopes alike is measured once. */
const sizes = new WeakMap<DownloadChange, number>();

/** The size an entry counts for in download progress: what the client receives. */
export function changeBytes(c: DownloadChange): number {
  let size = sizes.get(c);
  if (size === undefined) {
    size = Buffer.byteLength(JSON.stringify(c.document)) + c.collection.length + c.id.length;
    sizes.set(c, size);
  }
  return size;
}

/**
 * Where a meter reads the history: the store, or the sync core, which reads its shared copy
 * of it and routes each entry once for scopes alike (`routed`).
 */
export type HistorySource = Pick<SyncStore, 'readHistory'> & {
  routed?(scope: Scope, h: HistoryEntry): DownloadChange | null;
};

export class ScopeMeter {
  /** Bytes in scope in (from, position]. */
  bytes = 0;
  /** The newest version in scope at or before `position`, or `from` if none. */
  lastInScope: number;

  constructor(
    private readonly store: HistorySource,
    private readonly scope: Scope,
    private position: number,
    private readonly batchSize: number,
  ) {
    this.lastInScope = position;
  }

  private route(h: HistoryEntry): DownloadChange | null {
    return this.store.routed ? this.store.routed(this.scope, h) : routeEntry(this.scope, h);
  }

  /** Reads forward to `version`. */
  async advanceTo(version: number): Promise<void> {
    while (this.position < version) {
      const entries = await this.store.readHistory(this.position, this.batchSize);
      if (entries.length === 0) return void (this.position = version);
      for (const h of entries) {
        if (h.version > version) return void (this.position = version);
        const change = this.route(h);
        if (change) {
          this.bytes += changeBytes(change);
          this.lastInScope = h.version;
        }
        this.position = h.version;
      }
    }
  }
}
