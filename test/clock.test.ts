import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('systemClock.setTimer', () => {
  it('waits the whole delay even past setTimeout’s 24.8-day limit', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const day = 24 * 60 * 60 * 1000;
    systemClock.setTimer(30 * day, fired);
    vi.advanceTimersByTime(29 * day);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(day);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled in any step', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancel = systemClock.setTimer(60 * 24 * 60 * 60 * 1000, fired);
    vi.advanceTimersByTime(2 ** 31);
    cancel();
    vi.runAllTimers();
    expect(fired).not.toHaveBeenCalled();
  });
});
