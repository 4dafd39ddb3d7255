/**
 * A session's pause: which directions it stops, and until when. Beyond Realm, a pause may
 * name one direction and an `until` time after which it no longer holds.
 *
 *   ACTIVE ──pauseSession──▶ INACTIVE ──resumeSession, or `until` passes──▶ ACTIVE
 */
export type Direction = 'UPLOAD' | 'DOWNLOAD';
export const DIRECTIONS: readonly Direction[] = ['UPLOAD', 'DOWNLOAD'];

export interface PauseState {
  directions: Direction[];
  /** ISO time after which the pause no longer holds; null: until resumed. */
  until: string | null;
  since: string;
}

export type SessionState = 'ACTIVE' | 'INACTIVE';

/** The pause in force at `now`, or null. */
export function activePause(pause: PauseState | null, now: Date): PauseState | null {
  if (!pause) return null;
  if (pause.until !== null && Date.parse(pause.until) <= now.getTime()) return null;
  return pause;
}

export function isPaused(pause: PauseState | null, direction: Direction, now: Date): boolean {
  return activePause(pause, now)?.directions.includes(direction) ?? false;
}

/** INACTIVE while any direction is paused. */
export function sessionState(pause: PauseState | null, now: Date): SessionState {
  return activePause(pause, now) ? 'INACTIVE' : 'ACTIVE';
}

export function makePause(direction: Direction | null, until: Date | null, now: Date): PauseState {
  return {
    directions: direction ? [direction] : [...DIRECTIONS],
    until: until ? until.toISOString() : null,
    since: now.toISOString(),
  };
}
