/**
 * What both store adapters share: nullable values kept as JSON text (and back), and a
 * complete session to merge a patch into before mapping it to stored fields.
 */
import type { SessionRecord } from '../sync/model.js';

export const jsonOrNull = (value: unknown): string | null =>
  value === null ? null : JSON.stringify(value);

export const parseOrNull = <T>(text: string | null): T | null =>
  text === null ? null : (JSON.parse(text) as T);

/** A complete session to merge patches into before mapping them to stored fields. */
export const PATCH_BASE: SessionRecord = {
  id: '',
  clientId: '',
  userId: '',
  queries: [],
  rescopeFrom: null,
  queriesVersion: 0,
  lastIntegratedClientVersion: 0,
  latestClientVersion: 0,
  lastDownloadedServerVersion: 0,
  pause: null,
  uploadedBytes: 0,
  pendingBytes: 0,
  uploadBaselineBytes: 0,
  lastSyncedAt: '',
  resetRequired: false,
  closed: false,
  createdAt: '',
  updatedAt: '',
};
