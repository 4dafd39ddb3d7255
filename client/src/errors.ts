/** Errors of the SDK: a `code` from the gateway's table (or the SDK's own CANCELLED). */
export class SyncClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SyncClientError';
  }
}

/** A wait ended by its CancellationToken. */
export class CancelledError extends SyncClientError {
  constructor(message = 'cancelled') {
    super('CANCELLED', message);
    this.name = 'CancelledError';
  }
}

interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: unknown };
}

/** The SDK error for a GraphQL error list (the first one's code and message). */
export function fromGraphQLErrors(errors: readonly GraphQLErrorLike[]): SyncClientError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'UNKNOWN';
  return new SyncClientError(code, first?.message ?? 'unknown error');
}
