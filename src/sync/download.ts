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
import type { DownloadBatch, DownloadDeps } from './download-batch.js';
import {
  END,
  following,
  nextTurn,
  RESCOPE,
  sendRescope,
  skip,
  startScopeVersion,
  steadyTurn,
  waitCaughtUp,
  waitForPoke,
} from './follow-history.js';
import { isPaused } from './pause.js';
import type { SessionRecord } from './model.js';
import { scopeOf } from './scope.js';

export type { DownloadBatch, DownloadChange, DownloadDeps } from './download-batch.js';
export { historyLost, routeEntry } from './route-entry.js';

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

/**
 * The `changes` subscription of one session, until `signal` aborts or the session closes.
 * One generator for the stream's whole life: a bootstrap's pages (and a re-scoping's) are
 * delegated to, they end; the history is followed here, one turn at a time
 * (follow-history.ts), so a batch of the history passes through no generator but this one.
 */
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
  if (bootstrap) yield* bootstrapPages(deps, scopeOf(current.queries, deps.perms), bootstrap);
  const from = bootstrap?.until ?? cursor;
  const f = following(deps, session.id, from, bootstrap?.queriesVersion ?? null, signal);
  try {
    while (!signal.aborted) {
      // Caught up: waits, now that the consumer asks for the next batch.
      if (f.caughtUp) {
        f.caughtUp = false;
        skip(f.at, await waitCaughtUp(deps, f, signal));
        continue;
      }
      const turn = steadyTurn(deps, f) ?? (await nextTurn(deps, f, signal));
      if (turn === END) return;
      if (turn === RESCOPE) yield* sendRescope(deps, f);
      else if (turn !== null) yield turn;
    }
  } finally {
    f.waiter.end();
  }
}
