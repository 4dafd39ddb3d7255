/**
 * Upload progress, known on the client: the bytes of its own changesets not yet
 * acknowledged. Same semantics as the gateway's `progress`: the fixed mode counts the
 * changesets made before the call, never goes down, and ends after one 1.0.
 */
import { slidingQueue } from './sliding-queue.js';
import type { LocalDatabase } from './local-database.js';
import type { PendingChangeset } from './storage.js';
import type { ProgressSubscription } from './gql/graphql.js';

/** One progress value, as the gateway's `progress` subscription gives it. */
export type SyncProgress = ProgressSubscription['progress'];

const bytesOf = (db: LocalDatabase, list: readonly PendingChangeset[]): number =>
  list.reduce((n, cs) => n + db.bytesOf(cs), 0);

function value(transferred: number, transferable: number, done: boolean): SyncProgress {
  const estimate = done ? 1 : transferable > 0 ? Math.min(0.999, transferred / transferable) : 0;
  return {
    direction: 'UPLOAD',
    progressEstimate: estimate,
    transferredBytes: transferred,
    transferableBytes: transferable,
  };
}

/** The changesets made up to `version` that are still pending. */
const outstanding = (db: LocalDatabase, version: number) =>
  db.snapshot.pending.filter((cs) => cs.clientVersion <= version);

export function uploadProgress(db: LocalDatabase, fixed: boolean): AsyncIterable<SyncProgress> {
  const target = db.snapshot.clientVersion;
  let total = bytesOf(db, outstanding(db, target));
  const measure = (): SyncProgress => {
    if (fixed) {
      const left = outstanding(db, target);
      return value(total - bytesOf(db, left), total, left.length === 0);
    }
    const left = bytesOf(db, db.snapshot.pending);
    if (left === 0) total = 0;
    else total = Math.max(total, left);
    return value(total - left, total, db.snapshot.pending.length === 0);
  };
  let off = () => {};
  const queue = slidingQueue<SyncProgress>(1, () => off());
  let last = '';
  const emit = () => {
    const v = measure();
    const key = JSON.stringify(v);
    if (key === last) return; // only real changes, as the gateway does
    last = key;
    queue.push(v);
    if (fixed && v.progressEstimate === 1) queue.stop();
  };
  off = db.onChange(emit);
  emit();
  return queue.stream;
}
