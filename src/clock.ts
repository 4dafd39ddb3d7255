/**
 * Time, injected so that tests of time-based behaviour (timeouts, `until`, max offline
 * time) never sleep: they advance a ManualClock instead.
 */
export interface Clock {
  now(): Date;
  /** Calls `fn` once after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** setTimeout's longest delay; longer timers are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function longTimer(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    const step = Math.min(left, MAX_TIMEOUT_MS);
    timer = setTimeout(() => (left > step ? arm(left - step) : fn()), step);
    timer.unref?.();
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(timer);
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer: longTimer,
};

interface ManualTimer {
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to; due timers fire in time order. */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Set<ManualTimer>();

  // Starts at the real time, so that clients' real clocks are not "in the future".
  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): Date {
    return new Date(this.time);
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + Math.max(0, ms), fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers not yet fired or cancelled (to prove that nothing leaks). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = next.at;
      next.fn();
    }
    this.time = target;
  }
}
