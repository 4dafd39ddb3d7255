/**
 * Batches shared between streams: sessions whose next batch is the same (same range, same
 * versions, same changes) get the same object, so that it is executed and serialized once
 * for all of them (src/server/shared-execution.ts). A change is fully named by its version
 * and op: the document of an UPSERT is that version's, which never changes. Only small
 * batches (live changes) are shared, and a bounded number of them.
 */
import { makeBatch, type DownloadBatch, type DownloadChange } from './download-batch.js';

/** Batches held; the oldest goes first. */
const MAX_BATCHES = 1024;
/** Larger batches (a stream catching up) are its own. */
const MAX_SHARED_CHANGES = 32;

const changeKey = (c: DownloadChange) => `${c.serverVersion}${c.op === 'UPSERT' ? 'u' : 'r'}`;

export class BatchMemo {
  private readonly batches = new Map<string, DownloadBatch>();

  /** `makeBatch`, or the same batch made before. */
  make(
    from: number,
    to: number,
    changes: DownloadChange[],
    latest: number,
    versions: { queriesVersion: number; bootstrapUntil?: number },
  ): DownloadBatch {
    // A bootstrap's batches are a session's own.
    if (changes.length > MAX_SHARED_CHANGES || versions.bootstrapUntil !== undefined) {
      return makeBatch(from, to, changes, latest, versions);
    }
    const key = `${from}:${to}:${latest}:${versions.queriesVersion}:${changes.map(changeKey).join(',')}`;
    const made = this.batches.get(key);
    if (made) return made;
    const batch = makeBatch(from, to, changes, latest, versions);
    if (this.batches.size >= MAX_BATCHES) this.batches.delete(this.batches.keys().next().value!);
    this.batches.set(key, batch);
    return batch;
  }
}
