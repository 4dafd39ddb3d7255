/**
 * The graphql-ws server on the HTTP server's port and path. Every operation goes through
 * Yoga's envelop (same plugins, same parse/validate caches, same masking as HTTP).
 * Each socket gets an id and an abort signal; it may declare the sessions it is for in
 * `connectionParams.sessionIds`, and binds a session by subscribing to its streams.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import { bearer } from '../auth/jwt.js';
import { SyncError } from '../errors.js';
import type { SessionService } from '../session/session-service.js';
import type { GatewayYoga, SocketInfo } from './yoga.js';

export interface SocketOptions {
  keepAliveMs: number;
  maxPayloadBytes: number;
}

type Enveloped = ReturnType<GatewayYoga['getEnveloped']>;
type Extra = { info?: SocketInfo; abort?: AbortController; ops?: Map<string, () => void> };

/** Operations one socket may have running at once. */
const MAX_OPERATIONS_PER_SOCKET = 200;

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
      extra.ops?.get(message.id)?.();
      extra.ops?.delete(message.id);
    } catch {
      // not JSON: graphql-ws itself answers malformed messages
    }
  });
}

const refuse = (code: string, message: string) => [
  new GraphQLError(message, { extensions: { code } }),
];

/** The operation's view of its socket: its own viewer and an abort signal of its own. */
async function operationInfo(auth: Authenticator, extra: Extra, id: string, payload: Payload) {
  const socket = extra.info!;
  const ops = (extra.ops ??= new Map());
  if (ops.size >= MAX_OPERATIONS_PER_SOCKET) {
    return refuse('LIMIT_EXCEEDED', `at most ${MAX_OPERATIONS_PER_SOCKET} operations per socket`);
  }
  let viewer = socket.viewer;
  const token = operationToken(payload);
  if (token) {
    try {
      viewer = await auth.viewer(token);
    } catch (error) {
      if (error instanceof SyncError) return refuse(error.code, error.message);
      throw error;
    }
  }
  const controller = new AbortController();
  const abort = () => controller.abort();
  socket.signal.addEventListener('abort', abort, { once: true });
  ops.set(id, () => {
    socket.signal.removeEventListener('abort', abort);
    abort();
  });
  return { ...socket, viewer, signal: controller.signal };
}
type Params = Record<string, unknown> | undefined;

/**
 * Authenticates the connection: a bad `authToken` closes it (4403); none leaves it
 * anonymous, and each operation may then bring its own token (GraphiQL sends its headers
 * in the subscribe message's `extensions.headers`).
 */
async function authenticate(auth: Authenticator, params: Params, extra: Extra): Promise<boolean> {
  const token = params?.authToken;
  try {
    const viewer = await auth.viewer(typeof token === 'string' ? token : null);
    extra.abort = new AbortController();
    extra.info = { id: randomUUID(), viewer, signal: extra.abort.signal };
    return true;
  } catch (error) {
    if (error instanceof SyncError) return false;
    throw error;
  }
}

/** Marks the sessions a socket says it is for (only the viewer's own) as CONNECTING. */
async function declareSessions(sessions: SessionService, params: Params, info: SocketInfo) {
  if (!info.viewer) return;
  const ids = Array.isArray(params?.sessionIds) ? params.sessionIds : [];
  const visible: string[] = [];
  for (const id of ids.filter((x): x is string => typeof x === 'string').slice(0, 100)) {
    const ok = await sessions.core.getSession(info.viewer!, id).then(
      () => true,
      () => false,
    );
    if (ok) visible.push(id);
  }
  if (!info.signal.aborted) sessions.connections.declare(info.id, visible);
}

async function executionArgs(
  yoga: GatewayYoga,
  info: SocketInfo,
  ctx: object,
  payload: {
    query: string;
    operationName?: string | null;
    variables?: Record<string, unknown> | null;
  },
) {
  const enveloped = yoga.getEnveloped({ ...ctx, params: payload, socket: info });
  let document;
  try {
    document = enveloped.parse(payload.query);
  } catch (error) {
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
  const errors = enveloped.validate(enveloped.schema, document);
  if (errors.length > 0) return errors;
  const args: ExecutionArgs = {
    schema: enveloped.schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables,
    contextValue: await enveloped.contextFactory(),
    rootValue: enveloped,
  };
  return args;
}

export function attachGraphqlWs(
  server: Server,
  yoga: GatewayYoga,
  services: { auth: Authenticator; sessions: SessionService },
  options: SocketOptions,
) {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: options.maxPayloadBytes,
  });
  const disposable = useServer<Params, Extra>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onConnect: async (ctx) => {
        if (!(await authenticate(services.auth, ctx.connectionParams, ctx.extra))) return false;
        watchClientCompletes(ctx.extra.socket, ctx.extra);
        await declareSessions(services.sessions, ctx.connectionParams, ctx.extra.info!);
        return true;
      },
      onClose: (ctx) => {
        ctx.extra.abort?.abort();
        // A failed write leaves the offline time counting from the session's last sync.
        if (ctx.extra.info) void services.sessions.socketClosed(ctx.extra.info.id).catch(() => {});
      },
      onSubscribe: async (ctx, id, payload) => {
        const info = await operationInfo(services.auth, ctx.extra, id, payload);
        return Array.isArray(info) ? info : executionArgs(yoga, info, ctx, payload);
      },
      // A finished or client-completed operation ends its waits and streams.
      onComplete: (ctx, id) => {
        ctx.extra.ops?.get(id)?.();
        ctx.extra.ops?.delete(id);
      },
    },
    wss,
    options.keepAliveMs,
  );
  return { wss, dispose: () => disposable.dispose() };
}
