/** The Yoga server: HTTP GraphQL and GraphiQL, with the plugins every transport shares. */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, type GraphiQLOptions, type YogaInitialContext } from 'graphql-yoga';
import type { Logger } from 'pino';
import { bearer } from '../auth/jwt.js';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';
import { schema } from './schema.js';
import { createLoaders, type ContextServices, type GatewayContext } from '../schema/context.js';
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

/**
 * GraphiQL from the bundle in @graphql-yoga/render-graphiql: its JS, CSS, editor workers and
 * favicon are inlined in the page, so nothing is fetched from a CDN (Yoga's default page loads
 * them from unpkg). The bundle (about 9 MB) is loaded on the first GraphiQL request, not at
 * startup, and the page, which depends only on the options, is rendered once and reused.
 */
function localGraphiQL(): (options: GraphiQLOptions) => Promise<string> {
  let cached: { key: string; html: Promise<string> } | undefined;
  return (options) => {
    const key = JSON.stringify(options);
    if (cached?.key !== key) {
      const html = import('@graphql-yoga/render-graphiql').then((m) => m.renderGraphiQL(options));
      cached = { key, html };
      // A failed load is not cached: the next request tries again.
      html.catch(() => {
        if (cached?.html === html) cached = undefined;
      });
    }
    return cached.html;
  };
}

export function createGatewayYoga(services: ContextServices, logger: Logger) {
  return createYoga<SocketInitialContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/yoga-health',
    // Queries and mutations go over HTTP, subscriptions over graphql-ws on this same path.
    graphiql: { subscriptionsProtocol: 'WS', title: 'GraphQL sync gateway' },
    renderGraphiQL: localGraphiQL(),
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
