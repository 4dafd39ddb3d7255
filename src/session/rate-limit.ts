/**
 * Token buckets, one per key (a user, a client): each holds up to `burst` tokens and refills
 * at `ratePerSecond`; taking more than it holds is refused with the time until it would hold
 * enough. Time comes from the injected clock. Memory is bounded: a bucket untouched for
 * as long as it takes to refill from empty is full, the same as no bucket, and is dropped
 * (buckets are kept in the order of their last use, so dropping them costs only the dropped
 * ones); past `maxKeys` the least recently used is dropped too.
 */
import type { Clock } from '../clock.js';

export interface RateLimitOptions {
  /** Tokens added per second; must be above 0 (a limit of 0 means no limiter at all). */
  ratePerSecond: number;
  /** The most a bucket holds (what an idle key may spend at once); default 2 × the rate. */
  burst?: number;
  clock: Clock;
  /** The most buckets kept at once (default 100,000). */
  maxKeys?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

const ALLOWED: RateDecision = { ok: true };

export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private readonly maxKeys: number;
  /** Milliseconds for an empty bucket to fill. */
  private readonly fillMs: number;
  /** In the order of their last use, oldest first. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0');
    this.ratePerSecond = options.ratePerSecond;
    this.burst = Math.max(1, options.burst ?? 2 * options.ratePerSecond);
    this.clock = options.clock;
    this.maxKeys = Math.max(1, options.maxKeys ?? 100_000);
    this.fillMs = (this.burst / this.ratePerSecond) * 1000;
  }

  /** Buckets held right now (to prove that idle ones are dropped). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket, or refuses (taking nothing). A cost above the
   * burst is allowed from a full bucket and leaves it in debt, so it is never refused forever.
   */
  take(key: string, cost = 1): RateDecision {
    if (cost <= 0) return ALLOWED;
    const now = this.clock.now().getTime();
    this.dropIdle(now);
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.refilled(bucket, now) : this.burst;
    const needed = Math.min(cost, this.burst);
    if (tokens < needed) {
      const retryAfterMs = Math.max(1, Math.ceil(((needed - tokens) / this.ratePerSecond) * 1000));
      return { ok: false, retryAfterMs };
    }
    if (bucket) this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - cost, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return ALLOWED;
  }

  private refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.at);
    return Math.min(this.burst, bucket.tokens + (elapsed / 1000) * this.ratePerSecond);
  }

  /** Drops the buckets, oldest first, that have had time to fill (debt included). */
  private dropIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      const refillMs = ((this.burst - bucket.tokens) / this.ratePerSecond) * 1000;
      if (now - bucket.at < Math.max(refillMs, this.fillMs)) return;
      this.buckets.delete(key);
    }
  }
}
