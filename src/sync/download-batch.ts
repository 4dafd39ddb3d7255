/** What the download stream sends, and what it needs to read it (the bootstrap's too). */
import type { Clock } from '../clock.js';
import type { SyncStore } from '../store/port.js';
import type { ChangeFeed } from './change-feed.js';
import type { HistoryEntry, JsonObject, SessionRecord, StoredDocument } from './model.js';
import type { UserPermissions } from './permissions.js';
import type { Scope } from './scope.js';
import type { SharedHistory } from './shared-history.js';

export interface DownloadChange {
  serverVersion: number;
  collection: string;
  id: string;
  op: 'UPSERT' | 'REMOVE';
  document: JsonObject | null;
}

export interface DownloadBatch {
  fromServerVersion: number;
  toServerVersion: number;
  changes: DownloadChange[];
  remainingChanges: number;
  latestServerVersion: number;
  /** On the batches of a bootstrap: the server version its snapshot is complete at. */
  bootstrapUntil: number | null;
  /** The version of the session's queries the client's data matches once it applied this. */
  queriesVersion: number;
}

export interface DownloadDeps {
  store: SyncStore;
  feed: ChangeFeed;
  /** The recent history, read once per gateway for every stream. */
  history: Pick<SharedHistory, 'read' | 'readHeld'>;
  /** Makes batches; live ones shared between the streams that send the same (batch-memo.ts). */
  batches: { make: typeof makeBatch };
  /** What a scope sees of an entry, shared by equal scopes (route-memo.ts). */
  routes: { routed: (scope: Scope, h: HistoryEntry) => DownloadChange | null };
  perms: UserPermissions;
  batchSize: number;
  clock: Clock;
  /** A stream that passed history without sending anything sends an empty batch this often. */
  cursorRefreshMs: number;
  loadSession: (id: string) => Promise<SessionRecord | undefined>;
  /** The client's cursor fell behind compacted history: it must reset; the stream ends. */
  onHistoryLost: (sessionId: string) => Promise<void>;
}

export const upsert = (d: StoredDocument): DownloadChange => ({
  serverVersion: d.version,
  collection: d.collection,
  id: d.id,
  op: 'UPSERT',
  document: d.doc,
});

/** A batch from `from` to `to`; `latest` bounds what remains. */
export function makeBatch(
  from: number,
  to: number,
  changes: DownloadChange[],
  latest: number,
  versions: { queriesVersion: number; bootstrapUntil?: number },
): DownloadBatch {
  return {
    fromServerVersion: from,
    toServerVersion: to,
    changes,
    remainingChanges: Math.max(0, latest - to),
    latestServerVersion: latest,
    bootstrapUntil: versions.bootstrapUntil ?? null,
    queriesVersion: versions.queriesVersion,
  };
}
