/**
 * Following the history, the part of a download stream (download.ts) after its bootstrap, one
 * turn at a time. Each turn reads the session if it was poked, waits while it is paused, sends
 * or finishes a re-scoping, or reads the next entries and makes the batch that sends what the
 * scope sees of them; a caught-up stream then waits for what can concern it.
 *
 * Most turns are of a stream in its steady state: caught up, woken by a version, its session
 * as it last read it, the entries held in memory (shared-history.ts). Such a turn runs
 * without an async step of its own (`steadyTurn`); any other takes the full one (`nextTurn`).
 */
import { makeBatch, type DownloadChange, type DownloadDeps } from './download-batch.js';
import type { DownloadBatch } from './download-batch.js';
import type { Selective, StreamWaiter } from './change-feed.js';
import type { HistoryRead } from './shared-history.js';
import { isPaused } from './pause.js';
import type { Interest } from './interest.js';
import type { HistoryEntry, SessionRecord } from './model.js';
import { rescopeBatches } from './rescope.js';
import { historyLost, routeEntry } from './route-entry.js';
import { scopeOf, type Scope } from './scope.js';
import { STOPPED } from '../streams/stopped.js';

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

export const waitForPoke = (
  deps: DownloadDeps,
  sessionId: string,
  pokes: number,
  signal: AbortSignal,
) => deps.feed.wait(Number.MAX_SAFE_INTEGER, sessionId, pokes, signal);

/** The scope version of a stream that does not bootstrap: a pending re-scoping is not synced yet. */
export const startScopeVersion = (s: SessionRecord) =>
  s.rescopeFrom ? s.queriesVersion - 1 : s.queriesVersion;

/** The session as the stream last read it; re-read only when the session is poked. */
interface Seen {
  pokes: number;
  session: SessionRecord;
  scope: Scope;
}

/** The session as of now: read again only when it was poked since `seen`; null: the end. */
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

/**
 * Waits for a version after the cursor, a poke, or the end of the stream; with history read
 * but not sent, no longer than until its refresh is due. With an interest, only versions that
 * can concern the stream wake it (or its refresh falling due). Resolves with the version up
 * to which no entry concerned it, if the wake index knows one (`skip`), else null.
 */
export function waitCaughtUp(
  deps: DownloadDeps,
  f: Following,
  signal: AbortSignal,
): Promise<number | null> {
  const { at, seen } = f;
  const interest = interestFor(f, seen!.scope);
  const refreshAt = at.sentAt + deps.cursorRefreshMs;
  // Nothing read and unsent: no refresh to fall due (the usual wait, through its waiter).
  if (at.cursor <= at.sentTo || signal.aborted) {
    return f.waiter.wait(at.cursor, seen!.pokes, interest, refreshAt);
  }
  const selective = interest ? { interest, refreshAt } : undefined;
  return waitUntilRefresh(deps, f, selective, signal);
}

/** The wait of a stream with history read and unsent: its refresh ends it when due. */
async function waitUntilRefresh(
  deps: DownloadDeps,
  { sessionId, seen, at }: Following,
  selective: Selective | undefined,
  signal: AbortSignal,
): Promise<number | null> {
  const woken = new AbortController();
  const stop = () => woken.abort(STOPPED);
  const dueInMs = at.sentAt + deps.cursorRefreshMs - deps.clock.now().getTime();
  const cancel = deps.clock.setTimer(dueInMs, stop);
  signal.addEventListener('abort', stop, { once: true });
  try {
    return await deps.feed.wait(at.cursor, sessionId, seen!.pokes, woken.signal, selective);
  } finally {
    cancel();
    signal.removeEventListener('abort', stop);
  }
}

/** Moves the cursor past entries the wake index found of no concern to the stream. */
export function skip(at: Position, skipTo: number | null): void {
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
export interface Following {
  sessionId: string;
  /** The session as last read (null: read it next). */
  seen: Seen | null;
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
  /** Whether the last batch sent caught up: the stream waits before it reads again. */
  caughtUp: boolean;
  /** What the stream waits through, caught up. */
  waiter: StreamWaiter;
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
export async function* sendRescope(deps: DownloadDeps, f: Following) {
  const session = f.seen!.session;
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

/** A stream of `sessionId` that starts following the history at `from`. */
export function following(
  deps: DownloadDeps,
  sessionId: string,
  from: number,
  scopeVersion: number | null,
  signal: AbortSignal,
): Following {
  const at = { cursor: from, sentTo: from, sentAt: deps.clock.now().getTime() };
  return {
    sessionId,
    seen: null,
    at,
    scopeVersion,
    first: true,
    former: null,
    sent: null,
    integrated: null,
    caughtUp: false,
    waiter: deps.feed.waiter(sessionId, signal),
  };
}

/** The end of the stream; a re-scoping to send (`sendRescope`). */
export const END = Symbol('end');
export const RESCOPE = Symbol('rescope');

/** What a turn gives: a batch to send, nothing to send yet (null), a re-scoping, or the end. */
export type Turn = DownloadBatch | null | typeof END | typeof RESCOPE;

/**
 * Makes the batch that sends what the scope sees of `read` (entries after the cursor), if
 * anything, or an empty one when the cursor refresh is due; moves the cursor past them and
 * says whether the stream caught up (it waits before its next turn then).
 */
function historyTurn(deps: DownloadDeps, f: Following, read: HistoryRead): DownloadBatch | null {
  const { at, sent } = f;
  const { scope, session } = f.seen!;
  const { entries, latest } = read;
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
  let batch: DownloadBatch | null = null;
  if (changes.length > 0 || f.first || (sent && to > sent.past)) {
    batch = sending(deps, at, deps.batches.make(at.cursor, to, changes, latest, versions));
  } else if (caughtUp && to > at.sentTo && (owed || refreshDue(deps, at, to))) {
    batch = sending(deps, at, deps.batches.make(at.sentTo, to, [], latest, versions));
  }
  if (caughtUp) f.integrated = session.lastIntegratedClientVersion;
  f.first = false;
  f.caughtUp = caughtUp;
  at.cursor = to;
  return batch;
}

/**
 * The turn of a stream in its steady state, without an async step: its session not poked
 * since it read it, not paused, no re-scoping pending or waiting for its acknowledgement,
 * and the entries after its cursor held in memory. Undefined: take the full turn.
 */
export function steadyTurn(deps: DownloadDeps, f: Following): Turn | undefined {
  const seen = f.seen;
  if (seen === null || deps.feed.pokeCount(f.sessionId) !== seen.pokes) return undefined;
  const { session } = seen;
  if (session.rescopeFrom || f.sent || isPaused(session.pause, 'DOWNLOAD', deps.clock.now())) {
    return undefined;
  }
  const read = deps.history.readHeld(f.at.cursor, deps.batchSize);
  if (read === null || historyLost(f.at.cursor, read.entries, read.latest)) return undefined;
  f.scopeVersion = session.queriesVersion;
  return historyTurn(deps, f, read);
}

/**
 * One full turn: reads the session when it was poked, waits while it is paused, says a
 * re-scoping is to be sent, finishes an acknowledged one, or reads the next entries.
 */
export async function nextTurn(
  deps: DownloadDeps,
  f: Following,
  signal: AbortSignal,
): Promise<Turn> {
  const seen = (f.seen = await refresh(deps, f.sessionId, f.seen));
  if (!seen) return END;
  const { session, pokes } = seen;
  if (isPaused(session.pause, 'DOWNLOAD', deps.clock.now())) {
    await waitForPoke(deps, f.sessionId, pokes, signal);
    return null;
  }
  f.scopeVersion = scopeVersionOf(f, session);
  // A re-scoping finished (acknowledged): batches no longer all go out for it.
  if (f.sent && !session.rescopeFrom) f.sent = null;
  if (session.rescopeFrom && !(f.sent && sameRescope(f.sent.session, session))) return RESCOPE;
  if (f.sent && session.lastDownloadedServerVersion > f.sent.past) {
    await finishRescope(deps, f.sent.session);
    [f.sent, f.seen] = [null, null];
    return null;
  }
  const read = await deps.history.read(f.at.cursor, deps.batchSize);
  if (!historyLost(f.at.cursor, read.entries, read.latest)) return historyTurn(deps, f, read);
  await deps.onHistoryLost(f.sessionId);
  return END;
}
