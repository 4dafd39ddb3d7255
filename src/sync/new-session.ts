/** The record of a client's first session. */
import { randomUUID } from 'node:crypto';
import type { SessionRecord, SyncQuery } from './model.js';

export function newSession(
  clientId: string,
  userId: string,
  queries: SyncQuery[],
  now: string,
): SessionRecord {
  return {
    id: `ses_${randomUUID()}`,
    clientId,
    userId,
    queries,
    rescopeFrom: null,
    queriesVersion: 0,
    lastIntegratedClientVersion: 0,
    latestClientVersion: 0,
    lastDownloadedServerVersion: 0,
    pause: null,
    uploadedBytes: 0,
    pendingBytes: 0,
    uploadBaselineBytes: 0,
    lastSyncedAt: now,
    resetRequired: false,
    closed: false,
    createdAt: now,
    updatedAt: now,
  };
}
