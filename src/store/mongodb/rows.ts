/** Document shapes of the MongoDB store and their mapping to the domain's records. */
import type { Filter, UpdateFilter } from 'mongodb';
import type { SessionExpectation } from '../port.js';
import { jsonOrNull, PATCH_BASE, parseOrNull } from '../session-fields.js';
import type {
  DocumentKey,
  DocumentState,
  HistoryEntry,
  SessionRecord,
  StoredDocument,
} from '../../sync/model.js';
import type { HistoryDoc, PlainDoc, SessionDoc, StateDoc } from './collections.js';
import { toBson, toJson } from './json-values.js';

export const toSession = (d: SessionDoc): SessionRecord => ({
  id: d._id,
  clientId: d.clientId,
  userId: d.userId,
  queries: JSON.parse(d.queries) as SessionRecord['queries'],
  rescopeFrom: parseOrNull(d.rescopeFrom),
  queriesVersion: d.queriesVersion ?? 0,
  lastIntegratedClientVersion: d.lastIntegratedClientVersion,
  latestClientVersion: d.latestClientVersion,
  lastDownloadedServerVersion: d.lastDownloadedServerVersion,
  pause: d.pause,
  uploadedBytes: d.uploadedBytes,
  pendingBytes: d.pendingBytes,
  uploadBaselineBytes: d.uploadBaselineBytes,
  lastSyncedAt: d.lastSyncedAt,
  resetRequired: d.resetRequired,
  closed: d.closed,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

export const sessionToDoc = (s: SessionRecord): SessionDoc => ({
  _id: s.id,
  clientId: s.clientId,
  userId: s.userId,
  queries: JSON.stringify(s.queries),
  rescopeFrom: jsonOrNull(s.rescopeFrom),
  queriesVersion: s.queriesVersion,
  lastIntegratedClientVersion: s.lastIntegratedClientVersion,
  latestClientVersion: s.latestClientVersion,
  lastDownloadedServerVersion: s.lastDownloadedServerVersion,
  pause: s.pause,
  uploadedBytes: s.uploadedBytes,
  pendingBytes: s.pendingBytes,
  uploadBaselineBytes: s.uploadBaselineBytes,
  lastSyncedAt: s.lastSyncedAt,
  resetRequired: s.resetRequired,
  closed: s.closed,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

/** The session fields a patch may write (as in the SQLite store's SESSION_COLUMNS). */
const PATCHABLE = [
  'queries',
  'rescopeFrom',
  'queriesVersion',
  'lastIntegratedClientVersion',
  'latestClientVersion',
  'lastDownloadedServerVersion',
  'pause',
  'uploadedBytes',
  'pendingBytes',
  'uploadBaselineBytes',
  'lastSyncedAt',
  'resetRequired',
  'closed',
  'updatedAt',
] as const satisfies readonly (keyof SessionRecord & keyof SessionDoc)[];

/**
 * The update writing the named, defined fields of `patch`, or null when there are none.
 * The download acknowledgement never moves back: `$max` keeps the larger value
 * (https://www.mongodb.com/docs/manual/reference/operator/update/max/).
 */
export function sessionUpdate(patch: Partial<SessionRecord>): UpdateFilter<SessionDoc> | null {
  const doc = sessionToDoc({ ...PATCH_BASE, ...patch });
  const keys = PATCHABLE.filter((key) => patch[key] !== undefined);
  if (keys.length === 0) return null;
  const set = Object.fromEntries(
    keys.filter((k) => k !== 'lastDownloadedServerVersion').map((k) => [k, doc[k]]),
  ) as Partial<SessionDoc>;
  const update: UpdateFilter<SessionDoc> = {};
  if (Object.keys(set).length > 0) update.$set = set;
  if (keys.includes('lastDownloadedServerVersion')) {
    update.$max = { lastDownloadedServerVersion: doc.lastDownloadedServerVersion };
  }
  return update;
}

/**
 * The filter of a conditional session update: queries and rescopeFrom are stored as JSON
 * text, compared as such; the pause's `until` by its dotted path.
 */
export function sessionFilter(expect: SessionExpectation): Filter<SessionDoc> {
  const filter: Filter<SessionDoc> = {};
  if (expect.queries !== undefined) filter.queries = JSON.stringify(expect.queries);
  if (expect.rescopeFrom !== undefined) {
    filter.rescopeFrom = jsonOrNull(expect.rescopeFrom);
  }
  if (expect.pauseUntil !== undefined) filter['pause.until'] = expect.pauseUntil;
  return filter;
}

export const toHistory = (d: HistoryDoc): HistoryEntry => ({
  version: d._id,
  collection: d.collection,
  id: d.id,
  clientId: d.clientId,
  clientVersion: d.clientVersion,
  before: d.before && toJson(d.before),
  after: d.after && toJson(d.after),
  committedAt: d.committedAt,
});

export const historyToDoc = (h: Omit<HistoryEntry, 'version'>, version: number): HistoryDoc => ({
  _id: version,
  collection: h.collection,
  id: h.id,
  clientId: h.clientId,
  clientVersion: h.clientVersion,
  before: h.before && toBson(h.before),
  after: h.after && toBson(h.after),
  committedAt: h.committedAt,
});

/** The state of a document no integration has written yet (e.g. inserted by another service). */
const NO_STATE: DocumentState = { fields: {}, ins: null, del: null };

/**
 * A stored document from its state and its plain copy; undefined when neither exists. A
 * plain document without state (written by another MongoDB client, not yet integrated)
 * shows with an empty state and version 0; a state without a plain document is deleted.
 * Both are read as JSON, with Extended JSON for values only BSON has (json-values.ts).
 */
export function toStored(
  key: DocumentKey,
  state: StateDoc | undefined,
  plain: PlainDoc | undefined,
): StoredDocument | undefined {
  if (!state && !plain) return undefined;
  return {
    collection: key.collection,
    id: key.id,
    state: state ? toJson(state.state) : structuredClone(NO_STATE),
    doc: plain ? toJson(plain) : null,
    version: state?.version ?? 0,
  };
}
