/**
 * The gateway's abuse limits, shared by both transports (HTTP through Yoga's plugin in
 * limits-plugin.ts, graphql-ws in ws.ts), so a user's HTTP and socket operations draw on
 * one budget:
 *
 * - operations per second per user (`USER_OPS_PER_SECOND`): every HTTP GraphQL request and
 *   every graphql-ws `subscribe` message, valid or not, when it starts (after its wait for a
 *   slot of its socket; one refused for the socket's full queue is not counted); refused
 *   with LIMIT_EXCEEDED, `extensions.retryAfterMs` and `extensions.retryable` (HTTP: status
 *   429 and a `Retry-After` header);
 * - changesets per second per client (`CLIENT_CHANGESETS_PER_SECOND`), taken in the
 *   `uploadChanges` resolver (resolvers/upload.ts), refused the same way;
 * - graphql-ws sockets open at once per user (`MAX_SOCKETS_PER_USER`): the socket past the
 *   cap is closed at `connection_init` with SOCKET_LIMIT_CLOSE_CODE;
 * - operations running at once per graphql-ws socket (`MAX_OPERATIONS_PER_SOCKET`): past it
 *   an operation waits for a slot, in arrival order (socket-operations.ts), within a bound
 *   on the waiting ones (count and message bytes) and in time (5 s); past that bound, or
 *   without a slot by then, it is refused with LIMIT_EXCEEDED and `extensions.retryable`
 *   (socketFull), nothing of it done;
 * - changesets per upload (`MAX_CHANGES_PER_UPLOAD`), counted in the raw variables and in
 *   the query's list literal before GraphQL coerces them: BAD_USER_INPUT naming `changesets`.
 *
 * Anonymous callers (no token, outside development mode) are counted by their address.
 */
import {
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import { systemClock, type Clock } from '../clock.js';
import { RateLimiter } from '../session/rate-limit.js';
import type { Viewer } from '../sync/model.js';
import { limitExceeded } from '../schema/limit-exceeded.js';
import type { SocketOperationLimits } from './socket-operations.js';

/** Close code of a graphql-ws socket past the user's cap (4429 is graphql-ws's own, taken). */
export const SOCKET_LIMIT_CLOSE_CODE = 4430;

export interface LimitOptions {
  /** Operations one user may start per second; 0: no limit. */
  userOpsPerSecond: number;
  /** Changesets one client may upload per second; 0: no limit. */
  clientChangesetsPerSecond: number;
  /** graphql-ws sockets one user may hold open; 0: no limit. */
  maxSocketsPerUser: number;
  /** Changesets one `uploadChanges` may carry. */
  maxChangesPerUpload: number;
  /** Operations one graphql-ws socket may run at once; more wait for a slot. */
  maxOperationsPerSocket: number;
  /** Operations one socket may have waiting for a slot; more are refused. */
  maxWaitingOperationsPerSocket: number;
  /** Bytes of the messages of one socket's waiting operations; more are refused. */
  maxWaitingBytesPerSocket: number;
  /** How long an operation may wait for a slot of its socket; then it is refused. */
  maxSocketWaitMs: number;
  clock?: Clock;
}

/** The defaults of config.ts. */
export const DEFAULT_LIMITS: LimitOptions = {
  userOpsPerSecond: 1000,
  clientChangesetsPerSecond: 1000,
  maxSocketsPerUser: 100,
  maxChangesPerUpload: 1000,
  maxOperationsPerSocket: 200,
  maxWaitingOperationsPerSocket: 1000,
  /** Two messages of the largest size (8 MiB, MAX_REQUEST_BYTES). */
  maxWaitingBytesPerSocket: 16 * 1024 * 1024,
  maxSocketWaitMs: 5000,
};

export interface GatewayLimits {
  /** Per user (or anonymous address); null: no limit. */
  ops: RateLimiter | null;
  /** Per client id; null: no limit. */
  changesets: RateLimiter | null;
  /** 0: no limit. */
  maxSocketsPerUser: number;
  maxChangesPerUpload: number;
  /** Per graphql-ws socket: running, waiting, and the waiting ones' message bytes. */
  socketOperations: SocketOperationLimits;
}

export function createGatewayLimits(options: Partial<LimitOptions> = {}): GatewayLimits {
  const o = { ...DEFAULT_LIMITS, ...options };
  const clock = o.clock ?? systemClock;
  const limiter = (ratePerSecond: number) =>
    ratePerSecond > 0 ? new RateLimiter({ ratePerSecond, clock }) : null;
  return {
    ops: limiter(o.userOpsPerSecond),
    changesets: limiter(o.clientChangesetsPerSecond),
    maxSocketsPerUser: o.maxSocketsPerUser,
    maxChangesPerUpload: o.maxChangesPerUpload,
    socketOperations: {
      running: o.maxOperationsPerSocket,
      waiting: o.maxWaitingOperationsPerSocket,
      waitingBytes: o.maxWaitingBytesPerSocket,
      waitMs: o.maxSocketWaitMs,
    },
  };
}

/** The key a caller's operations and sockets are counted under. */
export function callerKey(viewer: Viewer | null, address: string | undefined): string {
  return viewer ? `user:${viewer.id}` : `anonymous:${address ?? 'unknown'}`;
}

/** Takes one operation from the caller's budget; the refusal, if any. */
export function takeOperation(
  limits: GatewayLimits,
  key: string,
  http = false,
): GraphQLError | null {
  const decision = limits.ops?.take(key) ?? { ok: true };
  if (decision.ok) return null;
  const rate = limits.ops!.ratePerSecond;
  return limitExceeded(
    `at most ${rate} operations per second per user`,
    decision.retryAfterMs,
    http,
  );
}

/**
 * The refusal of an operation past its socket's bound on waiting operations, or that found
 * no slot within the wait: nothing of it was done, and the same operation may be sent again
 * once some of the socket's have ended (`extensions.retryable`; no `retryAfterMs`: the wait
 * depends on the client's own operations).
 */
export function socketFull(limits: SocketOperationLimits, expired = false): GraphQLError {
  const { running, waiting, waitingBytes, waitMs } = limits;
  const why = expired
    ? `no slot within ${waitMs} ms: at most ${running} operations per socket run at once`
    : `at most ${running} operations per socket run at once and ${waiting} (${waitingBytes} bytes) wait`;
  return new GraphQLError(
    `${why}; nothing of this one was done: send it again once some have finished`,
    { extensions: { code: 'LIMIT_EXCEEDED', retryable: true } },
  );
}

/**
 * Where a `changesets` argument's items come from: a list literal of a known length, or a
 * variable (its length is read from each request's raw variables); null for anything else.
 */
type ListSource = number | string | null;

function listSource(value: ValueNode): ListSource {
  if (value.kind === Kind.LIST) return value.values.length;
  return value.kind === Kind.VARIABLE ? value.name.value : null;
}

/** How many items a list argument will hold once coerced (0 when not a list). */
function listLength(source: ListSource, variables: Record<string, unknown> | null | undefined) {
  if (typeof source === 'number') return source;
  if (source === null) return 0;
  const raw = variables?.[source];
  return Array.isArray(raw) ? raw.length : 0;
}

/**
 * The sources of every `changesets` argument of the operation and of the fragments (which
 * validation has ensured are all used); null when the operation cannot be determined.
 */
function changesetsSources(
  document: DocumentNode,
  operationName: string | null | undefined,
): ListSource[] | null {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation) return null; // graphql-js refuses the document itself
  const sources: ListSource[] = [];
  const search = (node: OperationDefinitionNode | DocumentNode['definitions'][number]) =>
    visit(node, {
      [Kind.ARGUMENT]: (argument) => {
        if (argument.name.value === 'changesets') sources.push(listSource(argument.value));
      },
    });
  search(operation);
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) search(d);
  return sources;
}

/**
 * The sources per document and operation name: a document's AST never changes, and the
 * parser's cache hands out the same one for the same text, so each is searched once. Only
 * names of the document's operations are kept (any other name finds none), so a client
 * cannot grow the cache by naming operations that are not there.
 */
const sourcesCache = new WeakMap<DocumentNode, Map<string | null, ListSource[] | null>>();

function cachedSources(document: DocumentNode, operationName: string | null | undefined) {
  let byName = sourcesCache.get(document);
  if (!byName) {
    byName = new Map();
    sourcesCache.set(document, byName);
  }
  const key = operationName || null;
  let sources = byName.get(key);
  if (sources === undefined) {
    sources = changesetsSources(document, operationName);
    if (sources) byName.set(key, sources);
  }
  return sources;
}

/**
 * BAD_USER_INPUT when a `changesets` argument of the operation holds more than `max` items,
 * read from the raw variables and the literal before any coercion; else null. Fragments
 * are searched too (validation has ensured every one of them is used).
 */
export function checkUploadSize(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  max: number,
): GraphQLError | null {
  const sources = cachedSources(document, operationName);
  if (!sources) return null;
  let count = 0;
  for (const source of sources) count = Math.max(count, listLength(source, variables));
  if (count <= max) return null;
  return new GraphQLError(
    `changesets: ${count} changesets exceed the limit of ${max} per upload; send fewer at once`,
    { extensions: { code: 'BAD_USER_INPUT', field: 'changesets' } },
  );
}
