/**
 * Reconnect backoff: capped exponential with full jitter, as a pure function of the
 * attempt, with randomness injected.
 *
 *   connected ──drop──▶ wait(attempt 0) ──fail──▶ wait(attempt 1) ──fail──▶ … (capped)
 *   any wait ──reconnect()──▶ connect now, attempt count reset
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The delay before sending again an operation the gateway refused as retryable: the wait
 * it named (a rate limit's `retryAfterMs`), else the backoff of retry number `attempt`.
 */
export function retryDelay(
  refusal: { retryAfterMs: number | null },
  attempt: number,
  options: BackoffOptions,
): number {
  if (refusal.retryAfterMs !== null) return Math.max(refusal.retryAfterMs, 10);
  return backoffDelay(attempt, options);
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap * (options.random ?? Math.random)());
}
