/**
 * The download stream of one session. It pulls: every batch is read from the store
 * when the consumer asks for it, so a slow consumer holds at most one batch in memory.
 *
 *   start ──since=0──▶ bootstrap (documents in scope, paged) ──▶ history
 *   start ──since=N──▶ history ◀──▶ wait (new version, scope change, or abort)
 *   scope change ──▶ rescope (REMOVE what left, UPSERT what entered) ──▶ history
 *   paused for downloads ──▶ wait for a poke (resume, or `until` passed) ──▶ history
 */
import type { Clock } from '../clock.js';
import { isPaused } from './pause.js';
import type { SyncStore } from '../store/port.js';
import type { ChangeFeed } from './change-feed.js';
import type {
  HistoryEntry,
  JsonObject,
  SessionRecord,
  StoredDocument,
  SyncQuery,
} from './model.js';
import type { UserPermissions } from './permissions.js';
import { Scope } from './scope.js';

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
}

export interface DownloadDeps {
  store: SyncStore;
  feed: ChangeFeed;
  perms: UserPermissions;
  batchSize: number;
  clock: Clock;
  loadSession: (id: string) => Promise<SessionRecord | undefined>;
  /** The client's cursor fell behind compacted history: it must reset; the stream ends. */
  onHistoryLost: (sessionId: string) => Promise<void>;
}

const upsert = (d: StoredDocument): DownloadChange => ({
  serverVersion: d.version,
  collection: d.collection,
  id: d.id,
  op: 'UPSERT',
  document: d.doc,
});

/**
 * Maps one history entry to what this scope's client must see of it, if anything. `former`
 * is the scope before an `updateQueries`, for entries the client may have missed under it:
 * a document that left the former scope then must be removed too.
 */
export function routeEntry(scope: Scope, h: HistoryEntry, former?: Scope): DownloadChange | null {
  const base = { serverVersion: h.version, collection: h.collection, id: h.id };
  if (scope.includes(h.collection, h.after)) return { ...base, op: 'UPSERT', document: h.after };
  const held = scope.includes(h.collection, h.before) || former?.includes(h.collection, h.before);
  return held ? { ...base, op: 'REMOVE', document: null } : null;
}

/**
 * The scope before the last re-scoping, up to the version that re-scoping was computed at:
 * entries up to there changed documents the client may hold under the former scope.
 */
interface Former {
  scope: Scope;
  until: number;
}

const formerFor = (former: Former | null, h: HistoryEntry) =>
  former && h.version <= former.until ? former.scope : undefined;

/** Pages through the current documents of the scope's collections, keeping those `pick` returns. */
async function* pageDocuments(
  deps: DownloadDeps,
  collections: string[],
  pick: (d: StoredDocument) => DownloadChange | null,
): AsyncGenerator<DownloadChange[]> {
  for (const collection of collections) {
    let after = '';
    for (;;) {
      const page = await deps.store.scanDocuments(collection, after, deps.batchSize);
      const changes = page.map(pick).filter((c): c is DownloadChange => c !== null);
      if (changes.length > 0) yield changes;
      if (page.length < deps.batchSize) break;
      after = page[page.length - 1]!.id;
    }
  }
}

function batch(from: number, to: number, changes: DownloadChange[], latest: number): DownloadBatch {
  return {
    fromServerVersion: from,
    toServerVersion: to,
    changes,
    remainingChanges: Math.max(0, latest - to),
    latestServerVersion: latest,
  };
}

/** Documents that left or entered the scope between `from` and `to` queries. */
async function* rescope(deps: DownloadDeps, from: SyncQuery[], to: SyncQuery[], cursor: number) {
  const before = new Scope(from, deps.perms);
  const after = new Scope(to, deps.perms);
  const collections = [...new Set([...before.collections, ...after.collections])];
  const pick = (d: StoredDocument): DownloadChange | null => {
    const was = before.includes(d.collection, d.doc);
    const is = after.includes(d.collection, d.doc);
    if (is && !was) return upsert(d);
    if (was && !is) return { ...upsert(d), op: 'REMOVE', document: null };
    return null;
  };
  for await (const changes of pageDocuments(deps, collections, pick)) {
    yield batch(cursor, cursor, changes, deps.feed.latest);
  }
}

const waitForPoke = (deps: DownloadDeps, sessionId: string, pokes: number, signal: AbortSignal) =>
  deps.feed.wait(Number.MAX_SAFE_INTEGER, sessionId, pokes, signal);

/** Waits while the session is paused for downloads; false when it closed or the stream ended. */
async function untilDownloadsAllowed(deps: DownloadDeps, sessionId: string, signal: AbortSignal) {
  while (!signal.aborted) {
    const pokes = deps.feed.pokeCount(sessionId);
    const current = await deps.loadSession(sessionId);
    if (!current || current.closed) return false;
    if (!isPaused(current.pause, 'DOWNLOAD', deps.clock.now())) return true;
    await waitForPoke(deps, sessionId, pokes, signal);
  }
  return false;
}

/** The `changes` subscription of one session, until `signal` aborts or the session closes. */
export async function* downloadStream(
  deps: DownloadDeps,
  session: SessionRecord,
  since: number | null,
  signal: AbortSignal,
): AsyncGenerator<DownloadBatch> {
  let cursor = since ?? session.lastDownloadedServerVersion;
  if (!(await untilDownloadsAllowed(deps, session.id, signal))) return;
  if (cursor === 0) {
    const snapshot = await deps.store.latestVersion();
    const scope = new Scope(session.queries, deps.perms);
    const pick = (d: StoredDocument) => (scope.includes(d.collection, d.doc) ? upsert(d) : null);
    for await (const changes of pageDocuments(deps, scope.collections, pick)) {
      yield batch(0, 0, changes, snapshot);
    }
    yield batch(0, snapshot, [], snapshot);
    cursor = snapshot;
  }
  yield* followHistory(deps, session.id, cursor, signal);
}

/**
 * Whether history after `cursor` was compacted away: versions are contiguous, so the
 * first entry after the cursor must be the next version (`latest` was read first).
 */
export function historyLost(
  cursor: number,
  entries: readonly HistoryEntry[],
  latest: number,
): boolean {
  const first = entries[0];
  return first ? first.version !== cursor + 1 : latest > cursor;
}

/** The session as the stream last read it; re-read only when the session is poked. */
interface Seen {
  pokes: number;
  session: SessionRecord;
  scope: Scope;
}

async function refresh(
  deps: DownloadDeps,
  sessionId: string,
  seen: Seen | null,
): Promise<Seen | null> {
  const pokes = deps.feed.pokeCount(sessionId);
  if (seen && seen.pokes === pokes) return seen;
  const session = await deps.loadSession(sessionId);
  // A closed session, or one that must reset, has nothing more to stream.
  if (!session || session.closed || session.resetRequired) return null;
  return { pokes, session, scope: new Scope(session.queries, deps.perms) };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Clears the re-scoping streamed, unless the queries changed again meanwhile (atomically). */
async function finishRescope(deps: DownloadDeps, streamed: SessionRecord): Promise<void> {
  const { queries, rescopeFrom } = streamed;
  await deps.store.updateSession(streamed.id, { rescopeFrom: null }, { queries, rescopeFrom });
}

const sameRescope = (a: SessionRecord, b: SessionRecord) =>
  sameJson(a.queries, b.queries) && sameJson(a.rescopeFrom, b.rescopeFrom);

/**
 * A re-scoping this stream sent. It stays stored (and is sent again by the next stream)
 * until the client acknowledges a version past `past`: batches are acknowledged in order,
 * and only batches sent after the re-scoping go past it.
 */
interface Sent {
  session: SessionRecord;
  past: number;
}

async function* followHistory(
  deps: DownloadDeps,
  sessionId: string,
  from: number,
  signal: AbortSignal,
): AsyncGenerator<DownloadBatch> {
  let cursor = from;
  let first = true;
  let seen: Seen | null = null;
  let former: Former | null = null;
  let sent: Sent | null = null;
  while (!signal.aborted) {
    seen = await refresh(deps, sessionId, seen);
    if (!seen) return;
    const { session, scope, pokes } = seen;
    if (isPaused(session.pause, 'DOWNLOAD', deps.clock.now())) {
      await waitForPoke(deps, sessionId, pokes, signal);
      continue;
    }
    if (session.rescopeFrom && !(sent && sameRescope(sent.session, session))) {
      yield* rescope(deps, session.rescopeFrom, session.queries, cursor);
      // Read after the scan: later entries changed documents the scan saw as they are now.
      const until = await deps.store.latestVersion();
      former = { scope: new Scope(session.rescopeFrom, deps.perms), until };
      sent = { session, past: Math.max(cursor, session.lastDownloadedServerVersion) };
      continue;
    }
    if (sent && session.lastDownloadedServerVersion > sent.past) {
      await finishRescope(deps, sent.session);
      [sent, seen] = [null, null];
      continue;
    }
    const latest = await deps.store.latestVersion();
    const entries = await deps.store.readHistory(cursor, deps.batchSize);
    if (historyLost(cursor, entries, latest)) return deps.onHistoryLost(sessionId);
    deps.feed.advance(latest);
    const changes = entries
      .map((h) => routeEntry(scope, h, formerFor(former, h)))
      .filter((c): c is DownloadChange => c !== null);
    const to = entries.length > 0 ? entries[entries.length - 1]!.version : cursor;
    // While a re-scoping waits for its acknowledgement, every batch goes out, so the client
    // can acknowledge past it even when nothing in its scope changes.
    if (changes.length > 0 || first || (sent && to > sent.past)) {
      yield batch(cursor, to, changes, latest);
    }
    first = false;
    cursor = to;
    if (entries.length < deps.batchSize) await deps.feed.wait(cursor, sessionId, pokes, signal);
  }
}
