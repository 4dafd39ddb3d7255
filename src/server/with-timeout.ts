/** A store call that must answer soon (probes, scrapes): it fails after `ms` on the clock. */
import type { Clock } from '../clock.js';

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(work: () => Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(ms, () => reject(new TimeoutError(ms)));
    const settle =
      <V>(done: (v: V) => void) =>
      (v: V) => {
        cancel();
        done(v);
      };
    // A call that throws synchronously fails like one that rejects.
    Promise.resolve().then(work).then(settle(resolve), settle(reject));
  });
}
