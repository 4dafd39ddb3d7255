/** Row shapes of the SQLite store and their mapping to the domain's records. */
import type { HistoryEntry, SessionRecord, StoredDocument } from '../../sync/model.js';

export interface SessionRow {
  id: string;
  client_id: string;
  user_id: string;
  queries: string;
  rescope_from: string | null;
  last_integrated: number;
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
}

const parseOrNull = <T>(text: string | null): T | null =>
  text === null ? null : (JSON.parse(text) as T);

export const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  queries: JSON.parse(r.queries) as SessionRecord['queries'],
  rescopeFrom: parseOrNull(r.rescope_from),
  lastIntegratedClientVersion: r.last_integrated,
  lastDownloadedServerVersion: r.last_downloaded,
  closed: r.closed === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toDocument = (r: DocumentRow): StoredDocument => ({
  collection: r.collection,
  id: r.id,
  state: JSON.parse(r.state) as StoredDocument['state'],
  doc: parseOrNull(r.doc),
  version: r.version,
});

export const toHistory = (r: HistoryRow): HistoryEntry => ({
  version: r.version,
  collection: r.collection,
  id: r.id,
  clientId: r.client_id,
  clientVersion: r.client_version,
  before: parseOrNull(r.before),
  after: parseOrNull(r.after),
});
