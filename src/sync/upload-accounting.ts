/**
 * Upload bookkeeping for progress and waits. The client reports the newest changeset it
 * has made (`latestClientVersion`) and the bytes it still has to send after this request
 * (`pendingBytes`); the gateway counts the bytes it integrates. Upload progress runs from
 * `uploadBaselineBytes` (what was integrated when nothing was outstanding) to
 * `uploadedBytes + pendingBytes`.
 */
import type { UploadSessionPatch } from '../store/port.js';
import type { Changeset, SessionRecord } from './model.js';

export interface UploadReport {
  /** The newest changeset the client has made, sent or not. */
  latestClientVersion: number | null;
  /** Bytes the client still has to send after this request. */
  pendingBytes: number | null;
  now: Date;
}

/** The size a changeset counts for in progress: its changes as JSON. */
export const changesetBytes = (cs: Changeset): number =>
  Buffer.byteLength(JSON.stringify(cs.changes));

export function accountUpload(
  session: SessionRecord,
  upload: UploadReport & { integratedTo: number; integratedBytes: number },
): UploadSessionPatch {
  const latest = Math.max(
    session.latestClientVersion,
    upload.latestClientVersion ?? 0,
    upload.integratedTo,
  );
  const uploaded = session.uploadedBytes + upload.integratedBytes;
  const outstanding = latest > upload.integratedTo;
  const reported =
    upload.pendingBytes ?? Math.max(0, session.pendingBytes - upload.integratedBytes);
  return {
    lastIntegratedClientVersion: upload.integratedTo,
    latestClientVersion: latest,
    uploadedBytes: uploaded,
    pendingBytes: outstanding ? reported : 0,
    uploadBaselineBytes: outstanding ? session.uploadBaselineBytes : uploaded,
    lastSyncedAt: upload.now.toISOString(),
  };
}
