/** The Yoga server: HTTP GraphQL and GraphiQL, with the plugins every transport shares. */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaInitialContext } from 'graphql-yoga';
import type { Logger } from 'pino';
import { bearer } from '../auth/jwt.js';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';
import { schema } from '../schema/index.js';
import { createLoaders, type ContextServices, type GatewayContext } from './context.js';
import { syncErrorMasker } from './mask-errors.js';

/** Set by the graphql-ws server for operations on a socket. */
export interface SocketInitialContext {
  socket?: SocketInfo;
}

export interface SocketInfo {
  id: string;
  /** Authenticated when the connection was initialised. */
  viewer: Viewer | null;
  /** Aborts when the socket closes. */
  signal: AbortSignal;
}

/** The viewer of an HTTP request; a bad token answers 401 with code UNAUTHENTICATED. */
async function httpViewer(services: ContextServices, request: Request): Promise<Viewer | null> {
  try {
    return await services.auth.viewer(bearer(request.headers.get('authorization')));
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    throw new GraphQLError(error.message, {
      extensions: { code: error.code, http: { status: 401 } },
    });
  }
}

export function createGatewayYoga(services: ContextServices, logger: Logger) {
  return createYoga<SocketInitialContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/yoga-health',
    graphiql: { subscriptionsProtocol: 'WS', title: 'GraphQL sync gateway' },
    maskedErrors: { maskError: syncErrorMasker(logger) },
    logging: false,
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 12 },
        costLimit: { maxCost: 5000 },
        maxAliases: { n: 30 },
      }),
    ],
    context: async (initial: YogaInitialContext & SocketInitialContext) => {
      const socket = initial.socket;
      const viewer = socket ? socket.viewer : await httpViewer(services, initial.request);
      return {
        viewer,
        core: services.core,
        sessions: services.sessions,
        loaders: createLoaders(services.core),
        signal: socket ? socket.signal : initial.request.signal,
        socketId: socket?.id ?? null,
      };
    },
  });
}

export type GatewayYoga = ReturnType<typeof createGatewayYoga>;
