/**
 * Joins the domain's observer port to the gateway's metrics and logs: the sync core (and
 * through it the session service) and the store's group commit report to both, and
 * the errors Yoga answers are counted by code.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SessionService } from '../session/session-service.js';
import { combineObservers } from '../sync/observer.js';
import { GatewayMetrics } from './metrics.js';
import { syncLog } from './sync-log.js';

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
  sessions.core.store.observeGroupCommits(observer);
  return metrics;
}
