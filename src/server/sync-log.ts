/**
 * The domain's events as log lines: one structured line per thing an operator asks about
 * (a session opened, paused, resumed, made to reset, closed; a write refused). Every line
 * has `event`, and `requestId`, `sessionId` and `userId` where they exist. A refused write
 * names its collection, id and reason, never its document.
 */
import type { Logger } from 'pino';
import {
  NO_OBSERVER,
  type SessionChange,
  type SyncObserver,
  type UploadOutcome,
} from '../sync/observer.js';
import { withRequest } from './logging.js';

/** Refused writes logged one per line in one upload; the rest are one line with their count. */
export const REFUSALS_LOGGED_PER_UPLOAD = 10;

const MESSAGES: Record<SessionChange['type'], string> = {
  opened: 'session opened',
  reopened: 'session reopened',
  paused: 'session paused',
  resumed: 'session resumed',
  resetRequired: 'session must reset',
  closed: 'session closed',
};

const EVENTS: Record<SessionChange['type'], string> = {
  opened: 'session.opened',
  reopened: 'session.reopened',
  paused: 'session.paused',
  resumed: 'session.resumed',
  resetRequired: 'session.reset_required',
  closed: 'session.closed',
};

function logSession(logger: Logger, change: SessionChange): void {
  const { type, ...fields } = change;
  const by = change.type === 'resumed' ? { by: change.userId === null ? 'until' : 'user' } : {};
  logger.info(withRequest({ event: EVENTS[type], ...fields, ...by }), MESSAGES[type]);
}

function logRefusals(logger: Logger, outcome: UploadOutcome): void {
  if (!outcome.ok || outcome.refused.length === 0) return;
  const { sessionId, userId, refused } = outcome;
  for (const { collection, id, reason } of refused.slice(0, REFUSALS_LOGGED_PER_UPLOAD)) {
    const code = /^([A-Z_]+):/.exec(reason)?.[1] ?? null;
    const line = { event: 'write.refused', sessionId, userId, collection, id, code, reason };
    logger.info(withRequest(line), 'write refused');
  }
  const more = refused.length - REFUSALS_LOGGED_PER_UPLOAD;
  if (more > 0) {
    const line = { event: 'write.refused', sessionId, userId, more };
    logger.info(withRequest(line), `${more} more writes refused in this upload`);
  }
}

/** The observer that writes the lines (it measures nothing: that is GatewayMetrics). */
export function syncLog(logger: Logger): SyncObserver {
  return {
    ...NO_OBSERVER,
    uploadStarted: () => (outcome) => logRefusals(logger, outcome),
    sessionChanged: (change) => logSession(logger, change),
  };
}
