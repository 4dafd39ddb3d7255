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
import { WebSocketServer } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import { SyncError } from '../errors.js';
import type { SessionService } from '../session/session-service.js';
import type { GatewayYoga, SocketInfo } from './yoga.js';

export interface SocketOptions {
  keepAliveMs: number;
  maxPayloadBytes: number;
}

type Enveloped = ReturnType<GatewayYoga['getEnveloped']>;
type Extra = { info?: SocketInfo; abort?: AbortController };
type Params = Record<string, unknown> | undefined;

async function authenticate(auth: Authenticator, params: Params, extra: Extra): Promise<boolean> {
  const token = params?.authToken;
  try {
    const viewer = await auth.viewer(typeof token === 'string' ? token : null);
    if (!viewer) return false;
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
        await declareSessions(services.sessions, ctx.connectionParams, ctx.extra.info!);
        return true;
      },
      onClose: (ctx) => {
        ctx.extra.abort?.abort();
        if (ctx.extra.info) services.sessions.connections.closed(ctx.extra.info.id);
      },
      onSubscribe: (ctx, _id, payload) => executionArgs(yoga, ctx.extra.info!, ctx, payload),
    },
    wss,
    options.keepAliveMs,
  );
  return { wss, dispose: () => disposable.dispose() };
}
