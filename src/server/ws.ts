/**
 * The graphql-ws server on the HTTP server's port and path. Every operation goes through
 * Yoga's envelop (same plugins, same parse/validate caches, same masking as HTTP), but the
 * gateway's own subscriptions are then subscribed without it (direct-subscriptions.ts).
 * Each socket gets an id and an abort signal; it may declare the sessions it is for in
 * `connectionParams.sessionIds`, and binds a session by subscribing to its streams.
 *
 * Close codes a client may see besides graphql-ws's own:
 * - 4403 Forbidden: the token was refused at `connection_init`, or it expired while the
 *   socket was open (a timer per socket, at the token's `exp`; reason "Forbidden: token
 *   expired"). A client reconnects with a fresh token.
 * - 4430 (SOCKET_LIMIT_CLOSE_CODE): the user already holds `maxSocketsPerUser` sockets.
 * - 4400: a malformed message (not JSON, a bad shape, or a type only a server sends); it is
 *   logged once per socket, at warn, without a stack trace.
 * A 4403 or a 4430 is one log line too: `auth.failed` (warn) for a refused token,
 * `socket.closed` for an expiry (info, with socket and user) or the cap (warn, with the user).
 *
 * Back-pressure, not refusal: a socket runs at most `limits.socketOperations.running`
 * operations (MAX_OPERATIONS_PER_SOCKET, 200); a further `subscribe` waits for a slot in
 * arrival order (socket-operations.ts), so a client's consecutive uploads start in the order
 * sent and none is refused for the socket's limit. The waiting ones are bounded by count
 * and by their messages' bytes; past that bound an operation is refused at once with
 * LIMIT_EXCEEDED and `extensions.retryable` (nothing of it done: the client sends it again,
 * an upload from that exact client version), and so is one that found no slot within
 * `maxSocketWaitMs` (5 s; a socket full of subscriptions that never end still answers). A client `complete` takes a waiting operation
 * out of the queue; a closing socket drops its queue before graphql-ws ends the running
 * ones (whose slots would start the waiting). The socket is not paused (ws `pause()`)
 * instead: its keep-alive pongs and `complete` messages must still be read, and a client
 * flooding subscribes is answered with refusals while the gateway holds at most the bound.
 *
 * The socket adapter is ours (graphql-ws's `makeServer` on `ws`, as graphql-ws/use/ws does)
 * so that malformed frames and client mistakes go to the gateway's logger as one line.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import {
  getOperationAST,
  GraphQLError,
  type ExecutionArgs,
  type FormattedExecutionResult,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import pino, { type Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Authenticated, Authenticator } from '../auth/authenticator.js';
import { bearer } from '../auth/jwt.js';
import { systemClock, type Clock } from '../clock.js';
import { SyncError } from '../errors.js';
import type { ChangesetLimitContext } from '../resolvers/upload.js';
import type { SessionService } from '../session/session-service.js';
import {
  callerKey,
  checkUploadSize,
  createGatewayLimits,
  SOCKET_LIMIT_CLOSE_CODE,
  socketFull,
  takeOperation,
  type GatewayLimits,
} from './limits.js';
import { SocketOperations } from './socket-operations.js';
import type { GatewayYoga, SocketInfo } from './yoga.js';
import type { GatewayContext } from '../schema/context.js';
import type { DocumentCursorContext } from '../schema/document-cursor.js';
import { withExtensions } from './error-codes.js';
import { SharedJson } from './shared-json.js';
import { directOperation } from './shared-execution.js';
import { DirectSubscriptions } from './direct-subscriptions.js';
import { syncErrorMasker, type ErrorSink } from './mask-errors.js';
import { STOPPED } from '../streams/stopped.js';

export interface SocketOptions {
  keepAliveMs: number;
  maxPayloadBytes: number;
  /** Shared with Yoga's limits plugin; default: the defaults of config.ts. */
  limits?: GatewayLimits;
  /** Times token expiry; default: the system clock. */
  clock?: Clock;
  /** Default: a pino logger at LOG_LEVEL (info). */
  logger?: Logger;
  /** True once the gateway shuts down: subscriptions not started yet are refused. */
  closing?: () => boolean;
  /** Told the code of every error the sockets' own subscriptions answer (as Yoga's is). */
  errorSink?: ErrorSink;
}

type Enveloped = ReturnType<GatewayYoga['getEnveloped']>;
type Extra = {
  socket: WebSocket;
  /** The client's address at the upgrade (the request itself is not kept). */
  remoteAddress: string | undefined;
  info?: SocketInfo;
  abort?: AbortController;
  /** The socket's running and waiting operations (from its acknowledgement on). */
  operations?: SocketOperations;
  /**
   * The length of the message being handled, while it is: graphql-ws calls onSubscribe
   * synchronously within its handling of the subscribe message.
   */
  messageBytes?: number;
  /** When the connection's token expires (ms since the epoch), if it does. */
  expiresAt?: number | null;
  cancelExpiry?: () => void;
  /** The key the socket is counted under in the sockets per user. */
  counted?: string;
  closed?: boolean;
  /** A malformed message has been logged for this socket. */
  warned?: boolean;
};
type Params = Record<string, unknown> | undefined;

interface Deps {
  yoga: GatewayYoga;
  direct: DirectSubscriptions;
  auth: Authenticator;
  sessions: SessionService;
  limits: GatewayLimits;
  clock: Clock;
  logger: Logger;
}

/** Message types only a server sends: graphql-ws throws on them (we close with 4400). */
const SERVER_MESSAGE_TYPES = new Set(['connection_ack', 'next', 'error']);
const CLIENT_MESSAGE_TYPES = new Set(['connection_init', 'ping', 'pong', 'subscribe', 'complete']);

type Payload = {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
};

/** The `Authorization` header an operation carries in `extensions.headers`, if any. */
function operationToken(payload: Payload): string | null | undefined {
  const headers = payload.extensions?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization');
  return entry && typeof entry[1] === 'string' ? bearer(entry[1]) : undefined;
}

/**
 * Ends an operation's waits and streams and frees its slot, or takes it out of the queue
 * (only the one of `payload`, when given; again: nothing happens).
 */
function release(extra: Extra, id: string, payload?: object): void {
  extra.operations?.release(id, payload);
}

/**
 * graphql-ws does not tell the server when a client completes an operation still being
 * executed (a wait sent as a mutation), so the socket's `complete` messages, which are
 * tiny, are read here too and end that operation.
 */
function watchClientCompletes(socket: WebSocket, extra: Extra): void {
  socket.on('message', (data: Buffer) => {
    if (data.length > 256) return;
    try {
      const message = JSON.parse(String(data)) as { type?: unknown; id?: unknown };
      if (message.type !== 'complete' || typeof message.id !== 'string') return;
      release(extra, message.id);
    } catch {
      // not JSON: the adapter closes the socket with 4400
    }
  });
}

const refuse = (code: string, message: string) => [
  new GraphQLError(message, { extensions: { code } }),
];

/**
 * An operation's abort controller, aborted by its end (the client's `complete`, its result,
 * a refusal) or its socket's close. A class that is its own abort listener: no closures
 * per operation.
 */
class OperationAbort {
  readonly controller = new AbortController();

  constructor(private readonly socket: AbortSignal) {
    socket.addEventListener('abort', this, { once: true });
  }

  /** The socket closed. */
  handleEvent(): void {
    this.controller.abort(STOPPED);
  }

  cancel(): void {
    this.socket.removeEventListener('abort', this);
    this.controller.abort(STOPPED);
  }
}

/** An operation's view of its socket: its own viewer and its own abort controller. */
class OperationView implements SocketInfo {
  readonly signal: AbortSignal;

  constructor(
    readonly id: string,
    readonly viewer: SocketInfo['viewer'],
    readonly controller: AbortController,
  ) {
    this.signal = controller.signal;
  }
}

/**
 * The operation's view of its socket: its own viewer and an abort signal of its own. Every
 * subscribe message admitted to a slot, valid or not, takes one operation from its user's
 * budget first.
 */
async function operationInfo(deps: Deps, extra: Extra, id: string, payload: Payload) {
  const socket = extra.info!;
  let viewer = socket.viewer;
  let refusal: GraphQLError[] | null = null;
  const token = operationToken(payload);
  if (token) {
    try {
      viewer = await deps.auth.viewer(token);
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      refusal = refuse(error.code, error.message);
    }
  }
  const limited = takeOperation(deps.limits, callerKey(viewer, extra.remoteAddress));
  if (limited) return [limited];
  if (refusal) return refusal;
  if (extra.expiresAt != null && extra.expiresAt <= deps.clock.now().getTime()) {
    return refuse(
      'UNAUTHENTICATED',
      "the connection's token has expired: reconnect with a new one",
    );
  }
  const operation = new OperationAbort(socket.signal);
  // Completed by the client while its token was checked: it does not start (nor answer).
  if (!extra.operations!.started(id, payload, operation)) {
    operation.cancel();
    return refuse('CANCELLED', 'completed');
  }
  const { controller } = operation;
  return new OperationView(socket.id, viewer, controller);
}

/**
 * Waits for the operation's slot on its socket (see socket-operations.ts): true once it has
 * one; else the refusal (the queue is full, or no slot came within the wait: LIMIT_EXCEEDED,
 * retryable), or, for an operation completed by the client or closed with its socket while
 * it waited, an error nobody gets.
 * Runs synchronously up to its first await, while graphql-ws handles the message.
 */
async function takeSlot(deps: Deps, extra: Extra, id: string, payload: Payload) {
  const bytes = extra.messageBytes ?? Number.MAX_SAFE_INTEGER;
  const turn = extra.operations!.enter(id, payload, bytes);
  if (turn === false) return [socketFull(deps.limits.socketOperations)];
  const admission = await turn;
  if (admission === 'started') return true;
  if (admission === 'expired') return [socketFull(deps.limits.socketOperations, true)];
  return refuse('CANCELLED', 'completed before it started');
}

/**
 * Authenticates the connection: a bad `authToken` closes it (4403); none leaves it
 * anonymous, and each operation may then bring its own token (GraphiQL sends its headers
 * in the subscribe message's `extensions.headers`).
 */
async function authenticate(auth: Authenticator, params: Params): Promise<Authenticated | null> {
  const token = params?.authToken;
  try {
    return await auth.authenticate(typeof token === 'string' ? token : null);
  } catch (error) {
    if (error instanceof SyncError) return null;
    throw error;
  }
}

/** The line of a socket refused at the user's cap of sockets (closed with 4430). */
function logSocketLimit(deps: Deps, who: Authenticated, extra: Extra): void {
  const userId = who.viewer?.id ?? null;
  const { remoteAddress } = extra;
  const max = deps.limits.maxSocketsPerUser;
  const line = { event: 'socket.closed', code: SOCKET_LIMIT_CLOSE_CODE, userId, max };
  deps.logger.warn({ ...line, remoteAddress }, 'socket refused: too many sockets for this user');
}

/** The line of a socket closed at its token's expiry (4403). */
function logExpiry(deps: Deps, info: SocketInfo): void {
  const line = { event: 'socket.closed', code: CloseCode.Forbidden, socketId: info.id };
  deps.logger.info(
    { ...line, userId: info.viewer?.id ?? null },
    'socket closed: its token expired',
  );
}

/** The line of a socket whose `connection_init` token was refused (graphql-ws closes it, 4403). */
function logAuthFailure(deps: Deps, extra: Extra): false {
  const { remoteAddress } = extra;
  const line = { event: 'auth.failed', transport: 'socket', code: CloseCode.Forbidden };
  deps.logger.warn({ ...line, remoteAddress }, 'authentication failed at connection_init');
  return false;
}

/** Sockets open per caller key, against the cap. */
class SocketCounts {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}

  /** Counts one more socket for `key`, or false at the cap. */
  open(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (this.max > 0 && count >= this.max) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  close(key: string): void {
    const count = (this.counts.get(key) ?? 1) - 1;
    if (count > 0) this.counts.set(key, count);
    else this.counts.delete(key);
  }
}

/**
 * Accepts a connection (true), or refuses it: a bad token (false: graphql-ws closes with
 * 4403), or the user's cap of sockets (closed here with SOCKET_LIMIT_CLOSE_CODE). Arms the
 * timer that closes the socket when its token expires.
 */
async function connect(deps: Deps, counts: SocketCounts, params: Params, extra: Extra) {
  const who = await authenticate(deps.auth, params);
  if (extra.closed) return false;
  if (!who) return logAuthFailure(deps, extra);
  const key = callerKey(who.viewer, extra.remoteAddress);
  if (!counts.open(key)) {
    const max = deps.limits.maxSocketsPerUser;
    logSocketLimit(deps, who, extra);
    extra.socket.close(SOCKET_LIMIT_CLOSE_CODE, `Too many sockets: at most ${max} per user`);
    return false;
  }
  extra.counted = key;
  extra.abort = new AbortController();
  raiseListenerLimit(extra.abort.signal, deps.limits.socketOperations.running);
  extra.operations = new SocketOperations(deps.limits.socketOperations, deps.clock);
  extra.info = { id: randomUUID(), viewer: who.viewer, signal: extra.abort.signal };
  extra.expiresAt = who.expiresAt?.getTime() ?? null;
  if (extra.expiresAt !== null) {
    extra.cancelExpiry = deps.clock.setTimer(extra.expiresAt - deps.clock.now().getTime(), () => {
      logExpiry(deps, extra.info!);
      extra.socket.close(CloseCode.Forbidden, 'Forbidden: token expired');
    });
  }
  return true;
}

/**
 * Each operation listens on its socket's signal: up to the per-socket limit, which is not a
 * leak, so Node's warning past 10 listeners is raised to it. A signal that is not Node's
 * (a DOM environment in tests) has no such warning to raise.
 */
function raiseListenerLimit(signal: AbortSignal, max: number): void {
  try {
    setMaxListeners(max + 10, signal);
  } catch {
    // not a Node EventTarget
  }
}

/** Marks the sessions a socket says it is for (only the viewer's own) as CONNECTING. */
async function declareSessions(sessions: SessionService, params: Params, info: SocketInfo) {
  if (!info.viewer) return;
  const ids = Array.isArray(params?.sessionIds) ? params.sessionIds : [];
  const visible: string[] = [];
  for (const id of ids.filter((x): x is string => typeof x === 'string').slice(0, 100)) {
    // Only the viewer's own: an admin's socket does not make another's client CONNECTING.
    const ok = await sessions.core.getSession(info.viewer!, id).then(
      (session) => session.userId === info.viewer!.id,
      () => false,
    );
    if (ok) visible.push(id);
  }
  if (!info.signal.aborted) sessions.connections.declare(info.id, visible);
}

/**
 * A refusal as HTTP codes it: its own code, else `code`; a new error without Yoga's `http`
 * extension (which is for HTTP, and would be sent over the socket as is). The errors of
 * parse and validate may be cached and shared with HTTP: they are not changed.
 */
function coded(error: GraphQLError, code: string): GraphQLError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return withExtensions(error, { ...extensions, code: extensions.code ?? code });
}

/** The operation, once it holds a slot: its socket view, then its execution arguments. */
async function startOperation(deps: Deps, ctx: { extra: Extra }, id: string, payload: Payload) {
  const info = await operationInfo(deps, ctx.extra, id, payload);
  return Array.isArray(info) ? info : executionArgs(deps, info, payload);
}

/**
 * An operation's initial context, with every field Yoga's context building then assigns
 * (yoga.ts's context, the plugins' extensions) declared from the start: contexts made by
 * adding them one by one each got a hidden class of their own (hundreds of bytes each, for
 * as long as a subscription lives).
 */
class OperationContext implements ChangesetLimitContext {
  viewer: GatewayContext['viewer'] = null;
  core: GatewayContext['core'] | null = null;
  sessions: GatewayContext['sessions'] | null = null;
  loaders: GatewayContext['loaders'] | null = null;
  signal: GatewayContext['signal'] = undefined;
  operation: GatewayContext['operation'] = null;
  socketId: GatewayContext['socketId'] = null;
  documentCursors: DocumentCursorContext['documentCursors'] | null = null;

  constructor(
    readonly changesetLimiter: ChangesetLimitContext['changesetLimiter'],
    readonly params: Payload,
    readonly socket: SocketInfo,
  ) {}
}

async function executionArgs(deps: Deps, info: SocketInfo, payload: Payload) {
  // Not graphql-ws's whole context: an operation's context lives as long as it does, and
  // nothing reads graphql-ws's (the socket's viewer and signal are in `socket`).
  const context = new OperationContext(deps.limits.changesets, payload, info);
  const enveloped = deps.yoga.getEnveloped(context);
  let document;
  try {
    document = enveloped.parse(payload.query);
  } catch (error) {
    if (error instanceof GraphQLError) return [coded(error, 'GRAPHQL_PARSE_FAILED')];
    throw error;
  }
  // As Yoga does over HTTP (before validation); graphql-ws would refuse it with no code.
  if (!getOperationAST(document, payload.operationName)) {
    return refuse('OPERATION_RESOLUTION_FAILURE', 'Could not determine what operation to execute.');
  }
  const errors = enveloped.validate(enveloped.schema, document);
  if (errors.length > 0) {
    return errors.map((e: GraphQLError) => coded(e, 'GRAPHQL_VALIDATION_FAILED'));
  }
  const max = deps.limits.maxChangesPerUpload;
  const tooMany = checkUploadSize(document, payload.operationName, payload.variables, max);
  if (tooMany) return [tooMany];
  const args: ExecutionArgs = {
    schema: enveloped.schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables,
    contextValue: await enveloped.contextFactory(),
  };
  // The gateway's own subscriptions are subscribed without envelop (and do not keep it).
  if (!directOperation(args)) args.rootValue = enveloped;
  return args;
}

/** What a malformed message is, for the log (never its content: it may hold a token). */
function describeMessage(data: string): string {
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return 'not JSON';
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return 'not a JSON object';
  }
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string') return "no string 'type'";
  if (SERVER_MESSAGE_TYPES.has(type)) return `a "${type}" message, which only a server sends`;
  if (!CLIENT_MESSAGE_TYPES.has(type)) return 'a message of an unknown type';
  return `a "${type}" message of the wrong shape`;
}

function messageType(data: string): string | null {
  try {
    const type = (JSON.parse(data) as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? type : null;
  } catch {
    return null;
  }
}

/** The most bytes a close frame's reason holds (RFC 6455 5.5: 125 bytes less the code). */
const MAX_CLOSE_REASON_BYTES = 123;

/** `reason` cut to what a close frame holds, in UTF-8, without splitting a character. */
export function closeReason(reason: string | undefined, max = MAX_CLOSE_REASON_BYTES) {
  if (reason === undefined || Buffer.byteLength(reason) <= max) return reason;
  let cut = '';
  let bytes = 0;
  for (const char of reason) {
    bytes += Buffer.byteLength(char);
    if (bytes > max) break;
    cut += char;
  }
  return cut;
}

/** The length of a message as `ws` received it. */
function rawBytes(raw: RawData): number {
  if (Array.isArray(raw)) return raw.reduce((n, b) => n + b.length, 0);
  return raw.byteLength;
}

/**
 * graphql-ws's server on one `ws` socket, as graphql-ws/use/ws does it (keep-alive pings,
 * dropped when a pong is late), with client mistakes logged once per socket at warn and
 * closed with 4400, and internal errors logged (with their stack) and closed with 4500.
 */
function serveSocket(
  server: ReturnType<typeof makeServer<Params, Extra>>,
  socket: WebSocket,
  request: IncomingMessage,
  keepAliveMs: number,
  logger: Logger,
  json: SharedJson,
) {
  const extra: Extra = { socket, remoteAddress: request.socket.remoteAddress };
  const warn = (problem: string) => {
    if (extra.warned) return;
    extra.warned = true;
    const socketId = extra.info?.id ?? null;
    logger.warn({ socketId, problem }, 'graphql-ws: malformed message; closing the socket');
  };
  // ws reports bad frames (invalid UTF-8, too large, bad opcodes) and closes the socket itself.
  socket.on('error', (error: Error & { code?: string }) =>
    warn(`invalid WebSocket frame: ${error.message}${error.code ? ` (${error.code})` : ''}`),
  );
  let pongWait: ReturnType<typeof setTimeout> | null = null;
  const pingInterval =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          if (socket.readyState !== socket.OPEN) return;
          pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
          socket.once('pong', () => {
            if (pongWait) clearTimeout(pongWait);
            pongWait = null;
          });
          socket.ping();
        }, keepAliveMs)
      : null;
  let current = '';
  const closed = server.opened(
    {
      protocol: socket.protocol,
      send: (message) => {
        // First, synchronously after graphql-ws stringified it: the payload's shared bytes.
        const data = json.encoded(message);
        return new Promise<void>((resolve, reject) => {
          if (socket.readyState !== socket.OPEN) return resolve();
          // A text frame, whether the message is a string or its UTF-8 bytes.
          socket.send(data, { binary: false }, (error) => (error ? reject(error) : resolve()));
        });
      },
      close: (code, reason) => {
        // graphql-ws closes with 4400 synchronously, while handling the message it cannot parse.
        if (code === CloseCode.BadRequest) warn(describeMessage(current));
        // Its reasons may name a client's id ("Subscriber for <id> already exists"): too long
        // for a close frame, ws would throw and the socket close with 4500 instead.
        socket.close(code, closeReason(reason));
      },
      onMessage: (handle) =>
        socket.on('message', async (raw: RawData) => {
          const data = String(raw);
          current = data;
          extra.messageBytes = rawBytes(raw);
          const handled = handle(data); // runs synchronously up to its first await
          extra.messageBytes = undefined;
          current = '';
          try {
            await handled;
          } catch (error) {
            const type = messageType(data);
            if (type !== null && SERVER_MESSAGE_TYPES.has(type)) {
              warn(describeMessage(data));
              socket.close(CloseCode.BadRequest, 'Invalid message received');
              return;
            }
            logger.error({ err: error }, 'graphql-ws: internal error while handling a message');
            socket.close(CloseCode.InternalServerError, 'Internal server error');
          }
        }),
    },
    extra,
  );
  socket.once('close', (code: number, reason: Buffer) => {
    // Before graphql-ws ends the running ones: their slots must not start the waiting ones.
    extra.operations?.close();
    if (pongWait) clearTimeout(pongWait);
    if (pingInterval) clearInterval(pingInterval);
    void closed(code, String(reason));
  });
}

export function attachGraphqlWs(
  server: Server,
  yoga: GatewayYoga,
  services: { auth: Authenticator; sessions: SessionService },
  options: SocketOptions,
) {
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const limits = options.limits ?? createGatewayLimits({ clock: options.clock });
  const closing = options.closing ?? (() => false);
  const direct = new DirectSubscriptions(closing, syncErrorMasker(logger, options.errorSink));
  const clock = options.clock ?? systemClock;
  const deps: Deps = { yoga, direct, ...services, limits, clock, logger };
  const counts = new SocketCounts(limits.maxSocketsPerUser);
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: options.maxPayloadBytes,
    handleProtocols: (protocols) => handleProtocols(protocols) || false,
  });
  // A result many sockets share is serialized once (shared-execution.ts, shared-json.ts).
  const json = new SharedJson();
  const serverOptions: ServerOptions<Params, Extra> = {
    jsonMessageReplacer: json.replacer,
    onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
    execute: (args) => (args.rootValue as Enveloped).execute(args),
    subscribe: (args) => {
      const operation = directOperation(args);
      if (operation) return deps.direct.subscribe(args, operation);
      return (args.rootValue as Enveloped).subscribe(args);
    },
    onConnect: async (ctx) => {
      if (!(await connect(deps, counts, ctx.connectionParams, ctx.extra))) return false;
      watchClientCompletes(ctx.extra.socket, ctx.extra);
      await declareSessions(services.sessions, ctx.connectionParams, ctx.extra.info!);
      // graphql-ws keeps the params for the socket's life: not the token, checked now.
      if (ctx.connectionParams) delete (ctx.connectionParams as Record<string, unknown>).authToken;
      return true;
    },
    onClose: (ctx) => {
      const extra = ctx.extra;
      extra.closed = true;
      extra.cancelExpiry?.();
      if (extra.counted !== undefined) counts.close(extra.counted);
      extra.counted = undefined;
      extra.operations?.close();
      extra.abort?.abort();
      // A failed write leaves the offline time counting from the session's last sync.
      if (extra.info) void services.sessions.socketClosed(extra.info.id).catch(() => {});
    },
    onSubscribe: async (ctx, id, payload) => {
      const slot = await takeSlot(deps, ctx.extra, id, payload);
      if (slot !== true) return slot;
      try {
        const args = await startOperation(deps, ctx, id, payload);
        // graphql-ws completes nothing it did not start: an operation refused here frees its slot.
        if (Array.isArray(args)) release(ctx.extra, id, payload);
        return args;
      } catch (error) {
        release(ctx.extra, id, payload);
        throw error;
      }
    },
    // An operation graphql-ws refuses after onSubscribe (none: executionArgs resolves the
    // operation first) is never completed either; one that fails while streaming is
    // completed after this.
    onError: (ctx, id, payload) => release(ctx.extra, id, payload),
    // A finished or client-completed operation ends its waits and streams.
    onComplete: (ctx, id, payload) => release(ctx.extra, id, payload),
  };
  const graphqlWs = makeServer<Params, Extra>(serverOptions);
  wss.on('error', (error) => logger.error({ err: error }, 'graphql-ws: WebSocket server error'));
  wss.on('connection', (socket, request) =>
    serveSocket(graphqlWs, socket, request, options.keepAliveMs, logger, json),
  );
  const dispose = async () => {
    for (const client of wss.clients) client.close(1001, 'Going away');
    wss.removeAllListeners();
    await new Promise<void>((resolve, reject) => wss.close((e) => (e ? reject(e) : resolve())));
  };
  return { wss, dispose };
}
