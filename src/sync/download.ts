/**
 * The download stream of one session. It pulls: every batch is read from the store
 * when the consumer asks for it, so a slow consumer holds at most one batch in memory.
 *
 *   start ──cursor 0──▶ bootstrap (bootstrap.ts: pages up to L, the latest) ──▶ history from L
 *   start ──since=c, bootstrapUntil=L──▶ the pages left, (c, L] ──▶ history from L
 *   start ──since=N──▶ history ◀──▶ wait (new version, scope change, refresh due, or abort)
 *   scope change ──▶ rescope (REMOVE what left, UPSERT what entered) ──▶ queries batch ──▶ history
 *   paused for downloads ──▶ wait for a poke (resume, or `until` passed) ──▶ history
 *   history passed unsent for cursorRefreshMs ──▶ an empty batch, to move the client's cursor
 *
 * Every batch says which version of the session's queries the client's data matches once
 * applied (`queriesVersion`): the stream's scope version, which moves to the new queries'
 * version with the batch that follows a re-scoping.
 */
import { bootstrapPages, type BootstrapRange } from './bootstrap.js';
import { makeBatch, type DownloadChange, type DownloadDeps } from './download-batch.js';
import type { DownloadBatch } from './download-batch.js';
import { isPaused } from './pause.js';
import type { Interest } from './interest.js';
import type { HistoryEntry, SessionRecord } from './model.js';
import { rescopeBatches } from './rescope.js';
import { scopeOf, type Scope } from './scope.js';
import { STOPPED } from '../streams/stopped.js';

export type { DownloadBatch, DownloadChange, DownloadDeps } from './download-batch.js';

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

const waitForPoke = (deps: DownloadDeps, sessionId: string, pokes: number, signal: AbortSignal) =>
  deps.feed.wait(Number.MAX_SAFE_INTEGER, sessionId, pokes, signal);

/**
 * Waits while the session is paused for downloads; returns the session then, or null when
 * it closed or the stream ended.
 */
async function untilDownloadsAllowed(deps: DownloadDeps, sessionId: string, signal: AbortSignal) {
  while (!signal.aborted) {
    const pokes = deps.feed.pokeCount(sessionId);
    const current = await deps.loadSession(sessionId);
    if (!current || current.closed) return null;
    if (!isPaused(current.pause, 'DOWNLOAD', deps.clock.now())) return current;
    await waitForPoke(deps, sessionId, pokes, signal);
  }
  return null;
}

/** Where the stream starts: `since` (null: the acknowledged version), and a bootstrap to resume. */
export interface StreamStart {
  since: number | null;
  bootstrapUntil: number | null;
}

/** The scope version of a stream that does not bootstrap: a pending re-scoping is not synced yet. */
const startScopeVersion = (s: SessionRecord) =>
  s.rescopeFrom ? s.queriesVersion - 1 : s.queriesVersion;

/**
 * The bootstrap a stream starts with, if any: a fresh one at cursor 0, over the current
 * queries, up to the latest version (read first); or the pages left of an interrupted one.
 */
async function bootstrapOf(
  deps: DownloadDeps,
  session: SessionRecord,
  cursor: number,
  until: number | null,
): Promise<BootstrapRange | null> {
  if (cursor === 0) {
    const latest = await deps.store.latestVersion();
    return { from: 0, until: latest, queriesVersion: session.queriesVersion };
  }
  if (until === null || until <= cursor) return null;
  return { from: cursor, until, queriesVersion: startScopeVersion(session) };
}

/** The `changes` subscription of one session, until `signal` aborts or the session closes. */
export async function* downloadStream(
  deps: DownloadDeps,
  session: SessionRecord,
  start: StreamStart,
  signal: AbortSignal,
): AsyncGenerator<DownloadBatch> {
  const cursor = start.since ?? session.lastDownloadedServerVersion;
  const current = await untilDownloadsAllowed(deps, session.id, signal);
  if (!current) return;
  const bootstrap = await bootstrapOf(deps, current, cursor, start.bootstrapUntil);
  if (!bootstrap) return yield* followHistory(deps, session.id, cursor, null, signal);
  yield* bootstrapPages(deps, scopeOf(current.queries, deps.perms), bootstrap);
  yield* followHistory(deps, session.id, bootstrap.until, bootstrap.queriesVersion, signal);
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
  // The same queries: the same scope (and its interest, already computed).
  const same = seen && sameJson(seen.session.queries, session.queries);
  return { pokes, session, scope: same ? seen.scope : scopeOf(session.queries, deps.perms) };
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
 * until the client acknowledges a version past `past` (batches are acknowledged in order,
 * and only batches sent after the re-scoping go past it), or acknowledges the queries
 * version it was sent for.
 */
interface Sent {
  session: SessionRecord;
  past: number;
}

/** How far the stream has read the history, and how far and when it last sent a batch. */
interface Position {
  cursor: number;
  sentTo: number;
  sentAt: number;
}

/** Records that `batch` goes out, and returns it. */
function sending(deps: DownloadDeps, at: Position, batch: DownloadBatch): DownloadBatch {
  at.sentTo = Math.max(at.sentTo, batch.toServerVersion);
  at.sentAt = deps.clock.now().getTime();
  return batch;
}

/** The history read up to `to` went unsent for long enough: the client's cursor must move. */
const refreshDue = (deps: DownloadDeps, at: Position, to: number) =>
  to > at.sentTo && deps.clock.now().getTime() - at.sentAt >= deps.cursorRefreshMs;

/** How a caught-up stream waits: its session, the pokes it saw, and its interest if selective. */
interface Wake {
  sessionId: string;
  pokes: number;
  interest: Interest | null;
}

/**
 * Waits for a version after the cursor, a poke, or the end of the stream; with history read
 * but not sent, no longer than until its refresh is due. With an interest, only versions that
 * can concern the stream wake it (or its refresh falling due), and the cursor moves past
 * those that cannot, unread.
 */
async function waitForHistory(
  deps: DownloadDeps,
  at: Position,
  wake: Wake,
  signal: AbortSignal,
): Promise<void> {
  const selective = wake.interest
    ? { interest: wake.interest, refreshAt: at.sentAt + deps.cursorRefreshMs }
    : undefined;
  const waitIn = (s: AbortSignal) =>
    deps.feed.wait(at.cursor, wake.sessionId, wake.pokes, s, selective);
  if (at.cursor <= at.sentTo || signal.aborted) return skip(at, await waitIn(signal));
  const woken = new AbortController();
  const stop = () => woken.abort(STOPPED);
  const dueInMs = at.sentAt + deps.cursorRefreshMs - deps.clock.now().getTime();
  const cancel = deps.clock.setTimer(dueInMs, stop);
  signal.addEventListener('abort', stop, { once: true });
  try {
    skip(at, await waitIn(woken.signal));
  } finally {
    cancel();
    signal.removeEventListener('abort', stop);
  }
}

/** Moves the cursor past entries the wake index found of no concern to the stream. */
function skip(at: Position, skipTo: number | null): void {
  if (skipTo !== null) at.cursor = Math.max(at.cursor, skipTo);
}

/**
 * The interest to wait with, or null to be woken by every version: while a re-scoping waits
 * for its acknowledgement every batch goes out, and entries up to the former scope's end are
 * routed with that scope too.
 */
const interestFor = (f: Following, scope: Scope): Interest | null =>
  f.sent || (f.former && f.at.cursor < f.former.until) ? null : scope.interest;

/** What a stream following the history keeps from one batch to the next. */
interface Following {
  at: Position;
  /** The version of the queries the client's data matches; null until the session is read. */
  scopeVersion: number | null;
  /** Whether no history batch went out yet: the first always does. */
  first: boolean;
  former: Former | null;
  sent: Sent | null;
  /**
   * The client's uploads integrated as of the last batch sent. A batch past newer ones goes
   * out even when the scope sees nothing of them: the client shows its own writes until its
   * download passes them (a write outside its queries, or one the merge made a no-op).
   */
  integrated: number | null;
}

/** The stream's scope version, as of the session read now. */
function scopeVersionOf(f: Following, session: SessionRecord): number {
  // No re-scoping pending: the client's data matches the session's queries.
  if (!session.rescopeFrom) return session.queriesVersion;
  return f.scopeVersion ?? startScopeVersion(session);
}

/**
 * Sends what left or entered the scope, then an empty batch that says the client's data
 * matches the new queries once it has applied the re-scoping.
 */
async function* sendRescope(deps: DownloadDeps, f: Following, session: SessionRecord) {
  const rescopeFrom = session.rescopeFrom!;
  const queries = { from: rescopeFrom, to: session.queries };
  for await (const b of rescopeBatches(deps, queries, f.at.cursor, f.scopeVersion!)) {
    yield sending(deps, f.at, b);
  }
  // Read after the scan: later entries changed documents the scan saw as they are now.
  const until = await deps.store.latestVersion();
  f.former = { scope: scopeOf(rescopeFrom, deps.perms), until };
  f.sent = { session, past: Math.max(f.at.cursor, session.lastDownloadedServerVersion) };
  f.scopeVersion = session.queriesVersion;
  const versions = { queriesVersion: f.scopeVersion };
  yield sending(deps, f.at, makeBatch(f.at.cursor, f.at.cursor, [], deps.feed.latest, versions));
}

/**
 * Reads the next entries of the history and sends what the scope sees of them, if
 * anything (or an empty batch when the cursor refresh is due); returns whether the stream
 * caught up, or null when the history after the cursor is lost.
 */
async function* sendHistory(
  deps: DownloadDeps,
  f: Following,
  { scope, session }: Pick<Seen, 'scope' | 'session'>,
): AsyncGenerator<DownloadBatch, boolean | null> {
  const { at, sent } = f;
  const { entries, latest } = await deps.history.read(at.cursor, deps.batchSize);
  if (historyLost(at.cursor, entries, latest)) return null;
  deps.feed.advance(latest);
  const changes: DownloadChange[] = [];
  for (const h of entries) {
    const former = formerFor(f.former, h);
    const change = former ? routeEntry(scope, h, former) : deps.routes.routed(scope, h);
    if (change !== null) changes.push(change);
  }
  const to = entries.length > 0 ? entries[entries.length - 1]!.version : at.cursor;
  const caughtUp = entries.length < deps.batchSize;
  const versions = { queriesVersion: f.scopeVersion! };
  // While a re-scoping waits for its acknowledgement, every batch goes out, so the client
  // can acknowledge past it even when nothing in its scope changes.
  const owed = session.lastIntegratedClientVersion !== f.integrated;
  if (changes.length > 0 || f.first || (sent && to > sent.past)) {
    yield sending(deps, at, deps.batches.make(at.cursor, to, changes, latest, versions));
  } else if (caughtUp && to > at.sentTo && (owed || refreshDue(deps, at, to))) {
    yield sending(deps, at, deps.batches.make(at.sentTo, to, [], latest, versions));
  }
  if (caughtUp) f.integrated = session.lastIntegratedClientVersion;
  f.first = false;
  at.cursor = to;
  return caughtUp;
}

async function* followHistory(
  deps: DownloadDeps,
  sessionId: string,
  from: number,
  scopeVersion: number | null,
  signal: AbortSignal,
): AsyncGenerator<DownloadBatch> {
  const at = { cursor: from, sentTo: from, sentAt: deps.clock.now().getTime() };
  const f: Following = {
    at,
    scopeVersion,
    first: true,
    former: null,
    sent: null,
    integrated: null,
  };
  let seen: Seen | null = null;
  while (!signal.aborted) {
    seen = await refresh(deps, sessionId, seen);
    if (!seen) return;
    const { session, pokes } = seen;
    if (isPaused(session.pause, 'DOWNLOAD', deps.clock.now())) {
      await waitForPoke(deps, sessionId, pokes, signal);
      continue;
    }
    f.scopeVersion = scopeVersionOf(f, session);
    // A re-scoping finished (acknowledged): batches no longer all go out for it.
    if (f.sent && !session.rescopeFrom) f.sent = null;
    if (session.rescopeFrom && !(f.sent && sameRescope(f.sent.session, session))) {
      yield* sendRescope(deps, f, session);
      continue;
    }
    if (f.sent && session.lastDownloadedServerVersion > f.sent.past) {
      await finishRescope(deps, f.sent.session);
      [f.sent, seen] = [null, null];
      continue;
    }
    const caughtUp = yield* sendHistory(deps, f, seen);
    if (caughtUp === null) return deps.onHistoryLost(sessionId);
    if (!caughtUp) continue;
    const interest = interestFor(f, seen.scope);
    await waitForHistory(deps, at, { sessionId, pokes, interest }, signal);
  }
}
