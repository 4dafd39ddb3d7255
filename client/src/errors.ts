/**
 * Errors of the SDK. Each carries a `code`: the gateway's (`extensions.code`, DESIGN §4) or
 * one of the SDK's own (`CANCELLED`, `CONNECTION_LOST`, `APP_CLOSED`). Every failure that concerns a sync
 * session reaches the app through `syncSession.onError` as one of these classes.
 */
import type { PendingChangeset } from './storage.js';

export class SyncClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The input field the gateway named, when it named one. */
    readonly field: string | null = null,
    /** For LIMIT_EXCEEDED from a rate limit: when trying again may succeed. */
    readonly retryAfterMs: number | null = null,
    /**
     * The gateway did nothing of the operation and the same one may be sent again
     * (`extensions.retryable`: every LIMIT_EXCEEDED, a rate limit or a full socket).
     */
    readonly retryable = false,
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

/** The connection closed before the gateway answered; the SDK retries what it owns. */
export class ConnectionLostError extends SyncClientError {
  constructor(message = 'the connection to the gateway closed') {
    super('CONNECTION_LOST', message);
    this.name = 'ConnectionLostError';
  }
}

/** The app was closed (`app.close()`): nothing more is sent. */
export class AppClosedError extends SyncClientError {
  constructor(message = 'the app was closed') {
    super('APP_CLOSED', message);
    this.name = 'AppClosedError';
  }
}

/** The gateway refused the connection's credentials (it retries with a fresh token). */
export class AuthenticationError extends SyncClientError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
    this.name = 'AuthenticationError';
  }
}

/** One write the gateway refused by a permission rule, with its copy of the document. */
export interface CompensatingWrite {
  collection: string;
  id: string;
  reason: string;
  /** The server's copy, or null when it has none the caller may see. */
  document: unknown;
}

/**
 * Writes the gateway refused by its permission rules (code PERMISSION_DENIED): their local
 * effects are rolled back, the rest of their changesets was integrated.
 */
export class CompensatingWriteError extends SyncClientError {
  constructor(readonly writes: CompensatingWrite[]) {
    const first = writes[0];
    super('PERMISSION_DENIED', `${writes.length} write(s) refused: ${first?.reason ?? ''}`);
    this.name = 'CompensatingWriteError';
  }
}

/**
 * A changeset the gateway refused as bad input: it was taken out of the upload queue and its
 * local effects rolled back; the changesets after it went on. Listed in
 * `syncSession.refusedChangesets`.
 */
export class ChangesetRefusedError extends SyncClientError {
  constructor(
    readonly changeset: PendingChangeset,
    code: string,
    message: string,
    field: string | null,
  ) {
    super(code, message, field);
    this.name = 'ChangesetRefusedError';
  }
}

/** The gateway requires a client reset (code CLIENT_RESET_REQUIRED). */
export class ClientResetError extends SyncClientError {
  /** Set in the manual mode: performs the reset when the app is ready. */
  performReset: (mode?: 'recoverUnsyncedChanges' | 'discardUnsyncedChanges') => Promise<void> =
    async () => undefined;

  constructor(message: string) {
    super('CLIENT_RESET_REQUIRED', message);
    this.name = 'ClientResetError';
  }
}

/** The session was closed (by `closeSession`, here or elsewhere): it syncs no more. */
export class SessionClosedError extends SyncClientError {
  constructor(message = 'the session was closed') {
    super('NOT_FOUND', message);
    this.name = 'SessionClosedError';
  }
}

interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: unknown; field?: unknown; retryAfterMs?: unknown; retryable?: unknown };
}

/** The SDK error for a GraphQL error list (the first one's code, message and field). */
export function fromGraphQLErrors(errors: readonly GraphQLErrorLike[]): SyncClientError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'UNKNOWN';
  const field = typeof first?.extensions?.field === 'string' ? first.extensions.field : null;
  const message = first?.message ?? 'unknown error';
  if (code === 'CLIENT_RESET_REQUIRED') return new ClientResetError(message);
  const retryAfter = first?.extensions?.retryAfterMs;
  return new SyncClientError(
    code,
    message,
    field,
    typeof retryAfter === 'number' ? retryAfter : null,
    first?.extensions?.retryable === true,
  );
}

/** Whatever graphql-ws or the network threw, as an SDK error. */
export function toSyncError(error: unknown): SyncClientError {
  if (error instanceof SyncClientError) return error;
  if (Array.isArray(error)) return fromGraphQLErrors(error as GraphQLErrorLike[]);
  if (isCloseEvent(error)) return new ConnectionLostError(`closed: ${error.code} ${error.reason}`);
  return new SyncClientError('UNKNOWN', error instanceof Error ? error.message : String(error));
}

export function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}
