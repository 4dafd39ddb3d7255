/** The GraphQL error of a rate limit, shared by the HTTP and socket limits and the upload. */
import { GraphQLError } from 'graphql';

/**
 * LIMIT_EXCEEDED with the wait, and `retryable` (as every LIMIT_EXCEEDED: nothing of the
 * operation was done); `http` adds status 429 and `Retry-After` (whole seconds).
 */
export function limitExceeded(message: string, retryAfterMs: number, http = false): GraphQLError {
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return new GraphQLError(`${message}; retry in ${retryAfterMs} ms`, {
    extensions: {
      code: 'LIMIT_EXCEEDED',
      retryAfterMs,
      retryable: true,
      ...(http ? { http: { status: 429, headers: { 'Retry-After': retryAfter } } } : {}),
    },
  });
}
