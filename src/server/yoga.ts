/** The Yoga server: HTTP GraphQL and GraphiQL, with the plugins every transport shares. */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import type { Logger } from 'pino';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';
import { schema } from './schema.js';
import { createLoaders, type ContextServices, type GatewayContext } from '../schema/context.js';
import { DocumentCursors, type DocumentCursorContext } from '../schema/document-cursor.js';
import { useCompiledCoercion } from './compiled-coercion.js';
import { useErrorCodes } from './error-codes.js';
import { MASKED_MESSAGE, syncErrorMasker, type ErrorSink } from './mask-errors.js';
import { requestViewer } from './request-viewer.js';
import { useGraphiQLPage } from './graphiql.js';
import { GRAPHIQL_EXAMPLES } from './graphiql-tabs.js';
import type { GatewayLimits } from './limits.js';
import { useGatewayLimits } from './limits-plugin.js';
import {
  useCsrfPrevention,
  useNoIntrospection,
  useRefuseWhenClosing,
  useRepeatLimit,
} from './request-guards.js';

/** Set by the graphql-ws server for operations on a socket. */
export interface SocketInitialContext {
  socket?: SocketInfo;
}

export interface SocketInfo {
  id: string;
  /** Authenticated when the connection was initialised. */
  viewer: Viewer | null;
  /** Aborts when the socket closes (in an operation's view: when the operation ends). */
  signal: AbortSignal;
  /** In an operation's view: the operation's own controller, whose signal `signal` is. */
  controller?: AbortController;
}

/** The viewer of an HTTP request; a bad token answers 401 with code UNAUTHENTICATED. */
async function httpViewer(services: ContextServices, request: Request): Promise<Viewer | null> {
  try {
    return await requestViewer(services.auth, request);
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    throw new GraphQLError(error.message, {
      extensions: { code: error.code, http: { status: 401 } },
    });
  }
}

/** The largest HTTP request body, as the largest graphql-ws message. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export interface YogaOptions {
  /** GraphiQL at the GraphQL path for a browser's GET (off: such a GET is refused like any). */
  graphiql: boolean;
  /** `__schema` and `__type` answered (off: refused in validation). */
  introspection: boolean;
  /** True once the gateway is shutting down: operations not yet executing are refused. */
  closing: () => boolean;
  /** Rate limits and the changesets cap, shared with the sockets (none: not limited). */
  limits?: GatewayLimits;
  /** Told the code of every error answered (the gateway's metrics); none: not counted. */
  errorSink?: ErrorSink;
}

/**
 * The limits on an operation's shape. A page of 500 sessions (the most `sessions(first:)`
 * gives) with every field of SyncSession fits the cost limit: graphql-armor multiplies a
 * field's cost by its literal `first`, so 5000 refused anything past about 100 sessions.
 */
export const OPERATION_LIMITS = {
  maxDepth: 12,
  maxCost: 100_000,
  maxAliases: 30,
  maxDirectives: 8,
  maxTokens: 1000,
  /** Times one field (or fragment) may be selected in one selection set. */
  maxRepeats: 10,
};

/**
 * graphql-armor throws on a refusal by default, which graphql-ws takes for an internal
 * error and closes the socket (4500); reported as validation errors, a refusal answers the
 * operation alone, over HTTP and sockets alike.
 */
const reportRefusal = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(
        new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
          extensions: { code: 'BAD_USER_INPUT' },
        }),
      ),
  ],
};

function armor() {
  const limits = OPERATION_LIMITS;
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ...reportRefusal },
    costLimit: { maxCost: limits.maxCost, ...reportRefusal },
    // __typename counts too (graphql-armor allows any number of its aliases by default).
    maxAliases: { n: limits.maxAliases, allowList: [], ...reportRefusal },
    maxDirectives: { n: limits.maxDirectives, ...reportRefusal },
    // Checked while parsing, where a throw is how a refusal is made.
    maxTokens: { n: limits.maxTokens },
    blockFieldSuggestion: { enabled: true },
  });
}

function guardPlugins(options: YogaOptions, services: ContextServices) {
  return [
    ...(options.limits ? [useGatewayLimits(options.limits, services.auth)] : []),
    useCsrfPrevention(),
    useRefuseWhenClosing(options.closing),
    useRepeatLimit(OPERATION_LIMITS.maxRepeats),
    ...(options.introspection ? [] : [useNoIntrospection()]),
    armor(),
  ];
}

const GRAPHQL_PATH = '/graphql';

/**
 * GraphiQL at the GraphQL path, with the example tabs: compressed, with an ETag
 * (graphiql.ts). Queries and mutations go over HTTP, subscriptions over graphql-ws on this
 * same path.
 */
function graphiqlPlugins(options: YogaOptions, logger: Logger): Plugin[] {
  if (!options.graphiql) return [];
  return [
    useGraphiQLPage({
      endpoint: GRAPHQL_PATH,
      options: { ...GRAPHIQL_EXAMPLES, subscriptionsProtocol: 'WS', title: 'GraphQL sync gateway' },
      onError: (error) => logger.error({ err: error }, 'GraphiQL could not be rendered'),
    }),
  ];
}

/** The cursors of `documents`, sealed with a key from the JWT secret (document-cursor.ts). */
function useDocumentCursors(secret: string): Plugin {
  const context: DocumentCursorContext = { documentCursors: new DocumentCursors(secret) };
  return {
    onContextBuilding({ extendContext }) {
      extendContext(context as Record<string, unknown>);
    },
  };
}

/** Without options: as in development (GraphiQL and introspection on), never closing. */
const DEVELOPMENT: YogaOptions = { graphiql: true, introspection: true, closing: () => false };

export function createGatewayYoga(
  services: ContextServices,
  logger: Logger,
  given: Partial<YogaOptions> = {},
) {
  const options = { ...DEVELOPMENT, ...given };
  return createYoga<SocketInitialContext, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    healthCheckEndpoint: '/yoga-health',
    // GraphiQL is served by graphiqlPlugins (Yoga's own would send it uncompressed).
    graphiql: false,
    maskedErrors: {
      maskError: syncErrorMasker(logger, options.errorSink),
      errorMessage: MASKED_MESSAGE,
    },
    logging: false,
    plugins: [
      ...graphiqlPlugins(options, logger),
      useDocumentCursors(services.auth.secret),
      ...guardPlugins(options, services),
      // Variable-coercion refusals get BAD_USER_INPUT (graphql-js gives them no code).
      useErrorCodes(),
      // Last: uploads' variables coerced by a compiled coercer (compiled-coercion.ts).
      useCompiledCoercion(schema),
    ],
    // Yoga's default is 25 MB; this matches the sockets' maxPayload.
    maxRequestBodySize: MAX_REQUEST_BYTES,
    // A socket operation's initial context declares these fields (ws.ts, OperationContext).
    context: async (initial: YogaInitialContext & SocketInitialContext) => {
      const socket = initial.socket;
      const viewer = socket ? socket.viewer : await httpViewer(services, initial.request);
      return {
        viewer,
        core: services.core,
        sessions: services.sessions,
        loaders: createLoaders(services.core),
        signal: socket ? socket.signal : initial.request.signal,
        operation: socket?.controller ?? null,
        socketId: socket?.id ?? null,
      };
    },
  });
}

export type GatewayYoga = ReturnType<typeof createGatewayYoga>;
