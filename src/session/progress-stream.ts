/**
 * The `progress` subscription. The first value comes at once; after that a value is
 * computed only when the consumer is ready and something changed, so a slow subscriber
 * gets the latest value, never a backlog.
 *
 *   REPORT_INDEFINITELY: follows new work until the subscriber leaves.
 *   FOR_CURRENTLY_OUTSTANDING_WORK: target fixed at subscription, never decreases,
 *     emits 1.0 once and completes.
 */
import type { SessionRecord } from '../sync/model.js';
import { scopeOf } from '../sync/scope.js';
import type { SyncCore } from '../sync/sync-core.js';
import { DownloadMeter } from './download-meter.js';
import type { Direction } from '../sync/pause.js';
import {
  sameProgress,
  uploadSnapshot,
  uploadTarget,
  uploadTowards,
  type ProgressMode,
  type SyncProgress,
} from './progress.js';
import { slidingQueue } from '../streams/sliding-queue.js';

/** Progress given the session as it is now. */
type Measure = (session: SessionRecord) => Promise<SyncProgress>;

async function load(core: SyncCore, id: string): Promise<SessionRecord> {
  const [session] = await core.store.getSessions([id]);
  if (!session) throw new Error(`session ${id} vanished`);
  return session;
}

function uploadMeasure(start: SessionRecord, mode: ProgressMode): Measure {
  const target = uploadTarget(start);
  return async (s) =>
    mode === 'REPORT_INDEFINITELY' ? uploadSnapshot(s) : uploadTowards(s, target);
}

async function downloadMeasure(
  core: SyncCore,
  start: SessionRecord,
  mode: ProgressMode,
  batch: number,
): Promise<Measure> {
  const scope = scopeOf(start.queries, core.permissions({ id: start.userId, roles: [] }));
  // The history from the gateway's shared copy: a version costs each meter no store read.
  const meter = new DownloadMeter(core, scope, start.lastDownloadedServerVersion, batch);
  const fixedTop =
    mode === 'FOR_CURRENTLY_OUTSTANDING_WORK' ? await core.store.latestVersion() : null;
  return async (s) => {
    const value = await meter.measure(
      s.lastDownloadedServerVersion,
      fixedTop ?? (await core.latestVersion()),
    );
    if (fixedTop === null && value.progressEstimate === 1)
      meter.rebase(s.lastDownloadedServerVersion);
    return value;
  };
}

/** In the fixed mode nothing goes down. */
const atLeast = (value: SyncProgress, last: SyncProgress | null): SyncProgress =>
  last === null
    ? value
    : {
        ...value,
        progressEstimate: Math.max(value.progressEstimate, last.progressEstimate),
        transferredBytes: Math.max(value.transferredBytes, last.transferredBytes),
      };

/**
 * Wake-ups on the session's updates (`updated` is told of each) and, for downloads, on
 * every new server version: a queue of one, so any number of them between two
 * measurements count as one. Listeners, not streams: nothing per subscription but the queue.
 */
function wakeOn(
  core: SyncCore,
  sessionId: string,
  direction: Direction,
  signal: AbortSignal,
  updated: () => void,
) {
  const wakes = slidingQueue<void>(1, () => {
    stopFeed();
    stopUpdates();
    signal.removeEventListener('abort', wakes.stop);
  });
  const stopFeed = direction === 'DOWNLOAD' ? core.feed.onAdvance(() => wakes.push()) : () => {};
  const stopUpdates = core.sessionUpdates.listen(sessionId, () => {
    updated();
    wakes.push();
  });
  signal.addEventListener('abort', wakes.stop, { once: true });
  return wakes;
}

export async function* progressStream(
  core: SyncCore,
  start: SessionRecord,
  direction: Direction,
  mode: ProgressMode,
  signal: AbortSignal,
): AsyncGenerator<SyncProgress> {
  // The session is read again only after an update of it (every write of a session is
  // announced on sessionUpdates, as the waits rely on too), not at every new version.
  let stale = true;
  const wakes = wakeOn(core, start.id, direction, signal, () => (stale = true));
  try {
    const measure =
      direction === 'UPLOAD'
        ? uploadMeasure(start, mode)
        : await downloadMeasure(core, start, mode, 500);
    const fixed = mode === 'FOR_CURRENTLY_OUTSTANDING_WORK';
    let last: SyncProgress | null = null;
    let session = start;
    while (!signal.aborted) {
      if (stale) {
        stale = false;
        session = await load(core, start.id);
      }
      const measured: SyncProgress = await measure(session);
      const value: SyncProgress = fixed ? atLeast(measured, last) : measured;
      if (!sameProgress(last, value)) {
        last = value;
        yield value;
      }
      if (fixed && value.progressEstimate === 1) return;
      await wakes.stream.next();
    }
  } finally {
    wakes.stop();
  }
}
