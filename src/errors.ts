/**
 * The one table of error codes. Every expected failure is a `SyncError` with one of
 * these codes; the GraphQL layer exposes it as `extensions.code`, anything else is masked.
 */
export const ErrorCodes = {
  /** No valid credentials were presented. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The caller is known but may not do this. */
  FORBIDDEN: 'FORBIDDEN',
  /** The entity does not exist, or the caller may not know that it does. */
  NOT_FOUND: 'NOT_FOUND',
  /** The input is malformed; the message names the field. Nothing was written. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The session is paused in the direction asked for. */
  SESSION_PAUSED: 'SESSION_PAUSED',
  /** A wait was cancelled through its cancellation token. */
  CANCELLED: 'CANCELLED',
  /** A wait ran past its `timeoutMs`. */
  TIMEOUT: 'TIMEOUT',
  /** The client was offline past the max offline time and must reset. */
  CLIENT_RESET_REQUIRED: 'CLIENT_RESET_REQUIRED',
  /** A write was refused by a permission rule; a compensating write was sent. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** A configured limit was exceeded (rate limits also say `retryAfterMs`). */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** The gateway is shutting down: try again, on another gateway or after its restart. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** A GET or form-like POST without a preflight header (`x-graphql-csrf`): see README. */
  CSRF_PREVENTED: 'CSRF_PREVENTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** An expected failure with a stable, public code. */
export class SyncError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

/** Bad input: the message always names the offending field. */
export function badInput(field: string, problem: string): SyncError {
  return new SyncError('BAD_USER_INPUT', `${field}: ${problem}`, field);
}
