/**
 * Sums the bytes of history entries in a session's scope, reading the history forward in
 * batches: constant memory however far behind the client is.
 */
import type { SyncStore } from '../store/port.js';
import { routeEntry, type DownloadChange } from './download.js';
import type { Scope } from './scope.js';

/** The size an entry counts for in download progress: what the client receives. */
export const changeBytes = (c: DownloadChange): number =>
  Buffer.byteLength(JSON.stringify(c.document)) + c.collection.length + c.id.length;

/** Where a meter reads the history: the store, or the sync core's shared copy of it. */
export type HistorySource = Pick<SyncStore, 'readHistory'>;

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

  /** Reads forward to `version`. */
  async advanceTo(version: number): Promise<void> {
    while (this.position < version) {
      const entries = await this.store.readHistory(this.position, this.batchSize);
      if (entries.length === 0) return void (this.position = version);
      for (const h of entries) {
        if (h.version > version) return void (this.position = version);
        const change = routeEntry(this.scope, h);
        if (change) {
          this.bytes += changeBytes(change);
          this.lastInScope = h.version;
        }
        this.position = h.version;
      }
    }
  }
}
