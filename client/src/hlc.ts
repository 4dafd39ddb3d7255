/**
 * The client's hybrid logical clock, in the gateway's text form
 * (`2026-11-26T19:55:08.123Z-0001`): physical time in milliseconds and a counter, never
 * going backwards even when the wall clock does.
 */
export class HybridLogicalClock {
  private lastMs = 0;
  private counter = 0;
  /** Added to the device's time: the gateway's clock minus the device's, once learnt. */
  private offsetMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Follows the gateway's clock from now on (`gatewayNowMs` read at the device's `now()`)
   * and goes back to just after `floor`, the newest timestamp the gateway accepted (or the
   * start), so timestamps of a fast device's clock that the gateway refused are not kept.
   */
  follow(gatewayNowMs: number, floor: string | null): void {
    this.offsetMs = gatewayNowMs - this.now();
    [this.lastMs, this.counter] = [0, 0];
    if (floor) this.observe(floor);
  }

  /** The offset learnt by `follow` (kept in the database's metadata across restarts). */
  get offset(): number {
    return this.offsetMs;
  }

  set offset(ms: number) {
    this.offsetMs = ms;
  }

  /** Restores the clock past a timestamp already issued (after a restart). */
  observe(timestamp: string): void {
    const ms = Date.parse(timestamp.slice(0, 24));
    const counter = Number(timestamp.slice(25));
    if (ms > this.lastMs || (ms === this.lastMs && counter > this.counter)) {
      this.lastMs = ms;
      this.counter = counter;
    }
  }

  next(): string {
    const ms = this.now() + this.offsetMs;
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.counter = 0;
    } else if (this.counter < 9999) {
      this.counter += 1;
    } else {
      this.lastMs += 1;
      this.counter = 0;
    }
    return `${new Date(this.lastMs).toISOString()}-${String(this.counter).padStart(4, '0')}`;
  }
}
