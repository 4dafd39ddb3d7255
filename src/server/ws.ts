/**
 * The graphql-ws server on the HTTP server's port and path. Every operation goes through
 * Yoga's envelop (same plugins, same parse/validate caches, same masking as HTTP).
 */
import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';
import type { GatewayYoga } from './yoga.js';

export interface SocketOptions {
  keepAliveMs: number;
  maxPayloadBytes: number;
}

type Enveloped = ReturnType<GatewayYoga['getEnveloped']>;
type Extra = { viewer?: Viewer | null };

export function attachGraphqlWs(
  server: Server,
  yoga: GatewayYoga,
  auth: Authenticator,
  options: SocketOptions,
) {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: options.maxPayloadBytes,
  });
  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onConnect: async (ctx) => {
        const token = ctx.connectionParams?.authToken;
        try {
          ctx.extra.viewer = await auth.viewer(typeof token === 'string' ? token : null);
        } catch (error) {
          if (error instanceof SyncError) return false;
          throw error;
        }
        return ctx.extra.viewer !== null;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          socketViewer: ctx.extra.viewer ?? null,
        });
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
      },
    },
    wss,
    options.keepAliveMs,
  );
  return { wss, dispose: () => disposable.dispose() };
}
