/** Row shapes of the SQLite store and their mapping to the domain's records. */
import type { HistoryEntry, SessionRecord, StoredDocument } from '../../sync/model.js';
import { jsonOrNull, parseOrNull } from '../session-fields.js';

export interface SessionRow {
  id: string;
  client_id: string;
  user_id: string;
  queries: string;
  rescope_from: string | null;
  /** Absent from a file written before it, when read without upgrading (sqlite-source.ts). */
  queries_version?: number;
  last_integrated: number;
  latest_client_version: number;
  pause: string | null;
  uploaded_bytes: number;
  pending_bytes: number;
  upload_baseline_bytes: number;
  last_synced_at: string;
  reset_required: number;
  last_downloaded: number;
  closed: number;
  created_at: string;
  updated_at: string;
}

export interface DocumentRow {
  collection: string;
  id: string;
  state: string;
  doc: string | null;
  version: number;
}

export interface HistoryRow {
  version: number;
  collection: string;
  id: string;
  client_id: string;
  client_version: number;
  before: string | null;
  after: string | null;
  committed_at: string;
}

export const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  queries: JSON.parse(r.queries) as SessionRecord['queries'],
  rescopeFrom: parseOrNull(r.rescope_from),
  queriesVersion: r.queries_version ?? 0,
  lastIntegratedClientVersion: r.last_integrated,
  latestClientVersion: r.latest_client_version,
  pause: parseOrNull(r.pause),
  uploadedBytes: r.uploaded_bytes,
  pendingBytes: r.pending_bytes,
  uploadBaselineBytes: r.upload_baseline_bytes,
  lastSyncedAt: r.last_synced_at,
  resetRequired: r.reset_required === 1,
  lastDownloadedServerVersion: r.last_downloaded,
  closed: r.closed === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The conflict state is parsed when first read: bootstraps and scans never read it. */
export function toDocument(r: DocumentRow): StoredDocument {
  let state: StoredDocument['state'] | undefined;
  const stored = {
    collection: r.collection,
    id: r.id,
    doc: parseOrNull(r.doc),
    version: r.version,
  };
  return Object.defineProperty(stored, 'state', {
    enumerable: true,
    get: () => (state ??= JSON.parse(r.state) as StoredDocument['state']),
  }) as StoredDocument;
}

export const toHistory = (r: HistoryRow): HistoryEntry => ({
  version: r.version,
  collection: r.collection,
  id: r.id,
  clientId: r.client_id,
  clientVersion: r.client_version,
  before: parseOrNull(r.before),
  after: parseOrNull(r.after),
  committedAt: r.committed_at,
});

/** The column of each patchable session field. */
export const SESSION_COLUMNS = {
  queries: 'queries',
  rescopeFrom: 'rescope_from',
  queriesVersion: 'queries_version',
  lastIntegratedClientVersion: 'last_integrated',
  latestClientVersion: 'latest_client_version',
  lastDownloadedServerVersion: 'last_downloaded',
  pause: 'pause',
  uploadedBytes: 'uploaded_bytes',
  pendingBytes: 'pending_bytes',
  uploadBaselineBytes: 'upload_baseline_bytes',
  lastSyncedAt: 'last_synced_at',
  resetRequired: 'reset_required',
  closed: 'closed',
  updatedAt: 'updated_at',
} as const satisfies Partial<Record<keyof SessionRecord, keyof SessionRow>>;

export const sessionToRow = (s: SessionRecord): SessionRow => ({
  id: s.id,
  client_id: s.clientId,
  user_id: s.userId,
  queries: JSON.stringify(s.queries),
  rescope_from: jsonOrNull(s.rescopeFrom),
  queries_version: s.queriesVersion,
  last_integrated: s.lastIntegratedClientVersion,
  latest_client_version: s.latestClientVersion,
  last_downloaded: s.lastDownloadedServerVersion,
  pause: jsonOrNull(s.pause),
  uploaded_bytes: s.uploadedBytes,
  pending_bytes: s.pendingBytes,
  upload_baseline_bytes: s.uploadBaselineBytes,
  last_synced_at: s.lastSyncedAt,
  reset_required: s.resetRequired ? 1 : 0,
  closed: s.closed ? 1 : 0,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});
