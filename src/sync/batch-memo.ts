/**
 * Batches shared between streams: sessions whose next batch is the same (same range, same
 * versions, same changes) get the same object, so that it is executed and serialized once
 * for all of them (src/server/shared-execution.ts). A change is fully named by its version
 * and op: the document of an UPSERT is that version's, which never changes. Batches of any
 * size are shared (streams that fell behind together catch up together: were their larger
 * batches each their own, each would be executed and serialized per session, and they would
 * fall further behind), within a bound of batches and of their documents' bytes; a
 * bootstrap's batches are a session's own.
 */
import { makeBatch, type DownloadBatch, type DownloadChange } from './download-batch.js';

/** Batches held, and the bytes of their documents (as JSON); the oldest goes first. */
const MAX_BATCHES = 1024;
const MAX_BYTES = 16 << 20;

const changeKey = (c: DownloadChange) => `${c.serverVersion}${c.op === 'UPSERT' ? 'u' : 'r'}`;

const bytesOf = (changes: DownloadChange[]) =>
  changes.reduce((n, c) => n + (c.document ? JSON.stringify(c.document).length : 0), 0);

/** The last batch made, with what it was made of: streams woken together ask for it in turn. */
interface Last {
  from: number;
  to: number;
  latest: number;
  queriesVersion: number;
  changes: DownloadChange[];
  batch: DownloadBatch;
}

/** The same changes: the same objects (shared by equal scopes, route-memo.ts), or equal keys. */
const sameChanges = (a: DownloadChange[], b: DownloadChange[]) =>
  a.length === b.length && a.every((c, i) => c === b[i] || changeKey(c) === changeKey(b[i]!));

export class BatchMemo {
  private readonly batches = new Map<string, { batch: DownloadBatch; bytes: number }>();
  private bytes = 0;
  private last: Last | null = null;

  /** `makeBatch`, or the same batch made before. */
  make(
    from: number,
    to: number,
    changes: DownloadChange[],
    latest: number,
    versions: { queriesVersion: number; bootstrapUntil?: number },
  ): DownloadBatch {
    // A bootstrap's batches are a session's own.
    if (versions.bootstrapUntil !== undefined) {
      return makeBatch(from, to, changes, latest, versions);
    }
    const { queriesVersion } = versions;
    const last = this.last;
    if (
      last !== null &&
      last.from === from &&
      last.to === to &&
      last.latest === latest &&
      last.queriesVersion === queriesVersion &&
      sameChanges(last.changes, changes)
    ) {
      return last.batch;
    }
    const batch = this.made(from, to, changes, latest, queriesVersion);
    this.last = { from, to, latest, queriesVersion, changes, batch };
    return batch;
  }

  private made(
    from: number,
    to: number,
    changes: DownloadChange[],
    latest: number,
    queriesVersion: number,
  ): DownloadBatch {
    const key = `${from}:${to}:${latest}:${queriesVersion}:${changes.map(changeKey).join(',')}`;
    const made = this.batches.get(key);
    if (made) return made.batch;
    const batch = makeBatch(from, to, changes, latest, { queriesVersion });
    const bytes = bytesOf(changes);
    this.bytes += bytes;
    this.batches.set(key, { batch, bytes });
    this.evict();
    return batch;
  }

  /** Keeps the newest within the bounds (and the one just made, whatever its size). */
  private evict(): void {
    while (this.batches.size > 1 && (this.batches.size > MAX_BATCHES || this.bytes > MAX_BYTES)) {
      const [key, oldest] = this.batches.entries().next().value!;
      this.batches.delete(key);
      this.bytes -= oldest.bytes;
    }
  }
}
