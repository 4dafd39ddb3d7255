/**
 * Sync progress, as in Realm: `progressEstimate` in [0, 1], 1.0 when nothing is
 * outstanding. Upload counts bytes the client reported against bytes integrated; download
 * counts bytes of history in the session's scope against the client's acknowledgements.
 * A value below 1.0 never rounds up to it while work is outstanding.
 */
import type { SessionRecord } from '../sync/model.js';
import type { Direction } from '../sync/pause.js';

export type ProgressMode = 'REPORT_INDEFINITELY' | 'FOR_CURRENTLY_OUTSTANDING_WORK';

export interface SyncProgress {
  direction: Direction;
  progressEstimate: number;
  transferredBytes: number;
  transferableBytes: number;
}

const ALMOST_DONE = 0.999;

/** The estimate for `transferred` of `transferable`, where `done` alone makes 1.0. */
export function estimate(transferred: number, transferable: number, done: boolean): number {
  if (done) return 1;
  if (transferable <= 0) return 0;
  return Math.min(ALMOST_DONE, Math.max(0, transferred / transferable));
}

export function progress(
  direction: Direction,
  transferred: number,
  transferable: number,
  done: boolean,
): SyncProgress {
  return {
    direction,
    progressEstimate: estimate(transferred, transferable, done),
    transferredBytes: transferred,
    transferableBytes: done ? Math.max(transferred, transferable) : transferable,
  };
}

export const uploadOutstanding = (s: SessionRecord): boolean =>
  s.latestClientVersion > s.lastIntegratedClientVersion || s.pendingBytes > 0;

/** Upload progress of the work outstanding now, counted from the session's baseline. */
export function uploadSnapshot(s: SessionRecord): SyncProgress {
  const transferred = s.uploadedBytes - s.uploadBaselineBytes;
  const transferable = transferred + s.pendingBytes;
  return progress('UPLOAD', transferred, transferable, !uploadOutstanding(s));
}

/** Upload work fixed at subscription: the client version and bytes to reach. */
export interface UploadTarget {
  version: number;
  baseline: number;
  bytes: number;
}

export function uploadTarget(s: SessionRecord): UploadTarget {
  return {
    version: s.latestClientVersion,
    baseline: s.uploadBaselineBytes,
    bytes: s.uploadedBytes + s.pendingBytes,
  };
}

/** Upload progress toward a fixed target: reaching its client version completes it. */
export function uploadTowards(s: SessionRecord, t: UploadTarget): SyncProgress {
  const done = s.lastIntegratedClientVersion >= t.version;
  return progress(
    'UPLOAD',
    Math.min(s.uploadedBytes, t.bytes) - t.baseline,
    t.bytes - t.baseline,
    done,
  );
}

export const sameProgress = (a: SyncProgress | null, b: SyncProgress): boolean =>
  a !== null &&
  a.progressEstimate === b.progressEstimate &&
  a.transferredBytes === b.transferredBytes &&
  a.transferableBytes === b.transferableBytes;
