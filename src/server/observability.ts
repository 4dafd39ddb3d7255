/**
 * Joins the domain's observer port to the gateway's metrics and logs: the sync core (and
 * through it the session service) and the SQLite store's group commit report to both, and
 * the errors Yoga answers are counted by code.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SessionService } from '../session/session-service.js';
import type { SyncStore } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { combineObservers, type GroupCommitObserver } from '../sync/observer.js';
import { GatewayMetrics } from './metrics.js';
import { syncLog } from './sync-log.js';

/**
 * SqliteStore keeps its GroupCommit private; until it offers a way to observe it, the
 * observer is set on it by name. Other stores commit one integration at a time.
 */
function observeGroupCommits(store: SyncStore, observer: GroupCommitObserver): void {
  if (store instanceof SqliteStore) store['commits'].observer = observer;
}

export interface ObservabilityDeps {
  sessions: SessionService;
  clock: Clock;
  /** Monotonic milliseconds for durations (default: performance.now). */
  now?: () => number;
}

/** Starts observing the deployment; returns its metrics. */
export function observeDeployment(deps: ObservabilityDeps, logger: Logger): GatewayMetrics {
  const { sessions, clock, now } = deps;
  const metrics = new GatewayMetrics({ sessions, clock, now });
  const failed = (error: unknown) => logger.warn({ err: error }, 'an observer failed; carrying on');
  const observer = combineObservers([metrics, syncLog(logger)], failed);
  sessions.core.observer = observer;
  observeGroupCommits(sessions.core.store, observer);
  return metrics;
}
