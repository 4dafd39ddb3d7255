import type { PauseState } from './pause.js';

/** A JSON value as stored and synced. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ChangeOp = 'INSERT' | 'UPDATE' | 'DELETE';

/** One change of a changeset, already validated. */
export interface Change {
  collection: string;
  id: string;
  op: ChangeOp;
  document?: JsonObject;
  set?: JsonObject;
  unset?: string[];
}

/** What a client uploads: its changes in order, stamped with its hybrid logical clock. */
export interface Changeset {
  clientVersion: number;
  timestamp: string;
  changes: Change[];
}

/** One subscription query of flexible sync: a collection and a MongoDB filter. */
export interface SyncQuery {
  collection: string;
  filter: JsonObject | null;
}

/** A field's last write: its value (absent when unset) and the stamp that wrote it. */
export interface FieldEntry {
  v?: Json;
  s: string;
}

/**
 * The mergeable state of one document: per-field last writes, the newest insert stamp and
 * the newest delete stamp. Merging is a join, so the result does not depend on order.
 */
export interface DocumentState {
  fields: Record<string, FieldEntry>;
  ins: string | null;
  del: string | null;
}

export interface DocumentKey {
  collection: string;
  id: string;
}

/** A document as the store holds it: mergeable state, visible value, last server version. */
export interface StoredDocument extends DocumentKey {
  state: DocumentState;
  doc: JsonObject | null;
  version: number;
}

/** One integrated change in the history, with the document before and after it. */
export interface HistoryEntry extends DocumentKey {
  version: number;
  clientId: string;
  clientVersion: number;
  before: JsonObject | null;
  after: JsonObject | null;
  committedAt: string;
}

/** A client's sync session: one per client, bound to one user for good. */
export interface SessionRecord {
  id: string;
  clientId: string;
  userId: string;
  queries: SyncQuery[];
  /** The queries before an `updateQueries` whose re-scoping has not been streamed yet. */
  rescopeFrom: SyncQuery[] | null;
  /** Counts the changes of `queries` (0 at creation); download batches say which one they match. */
  queriesVersion: number;
  lastIntegratedClientVersion: number;
  /** The newest changeset the client reported making, sent or not. */
  latestClientVersion: number;
  lastDownloadedServerVersion: number;
  /** The pause in force, if any (it may have expired: see session/pause.ts). */
  pause: PauseState | null;
  /** Bytes of all changesets integrated for this client. */
  uploadedBytes: number;
  /** Bytes the client reported still to send, less what was integrated since. */
  pendingBytes: number;
  /** `uploadedBytes` when the client last had nothing outstanding (upload progress starts here). */
  uploadBaselineBytes: number;
  /** When the client last synced (uploaded, acknowledged or opened a stream). */
  lastSyncedAt: string;
  /** Offline past the max offline time: every sync call fails until the client resets. */
  resetRequired: boolean;
  closed: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The authenticated caller. */
export interface Viewer {
  id: string;
  roles: string[];
}

export const isAdmin = (viewer: Viewer): boolean => viewer.roles.includes('admin');

/**
 * The gateway's own user, e.g. for writes that other services made to the synced
 * collections: not bound by the permission rules. No token can name it (ids starting with
 * "__" are refused at authentication).
 */
export const SYSTEM_USER = '__system';
