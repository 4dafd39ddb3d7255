/**
 * A gateway whose socket server (and, with `http`, whose Yoga) get the abuse limits, the
 * clock and a logger that the tests choose, built from the parts startGateway uses: the
 * deployment of a real test gateway, Yoga, attachGraphqlWs, and the limits plugin. It serves
 * on a port of its own. (Until gateway.ts passes these options itself, this is how tests
 * reach them; with a ManualClock, token expiry and rate budgets need no sleeping.)
 *
 * With `http`, Yoga is built as yoga.ts builds it, plus useGatewayLimits: the state once
 * the plugin is wired in yoga.ts, for both transports.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaInitialContext } from 'graphql-yoga';
import pino from 'pino';
import WebSocket from 'ws';
import { Authenticator } from '../../src/auth/authenticator.js';
import { bearer, mintToken } from '../../src/auth/jwt.js';
import type { ManualClock } from '../../src/clock.js';
import { SyncError } from '../../src/errors.js';
import { createLoaders, type GatewayContext } from '../../src/schema/context.js';
import { createGatewayLimits, type LimitOptions } from '../../src/server/limits.js';
import { useGatewayLimits } from '../../src/server/limits-plugin.js';
import { syncErrorMasker } from '../../src/server/mask-errors.js';
import { schema } from '../../src/server/schema.js';
import { attachGraphqlWs } from '../../src/server/ws.js';
import {
  createGatewayYoga,
  type GatewayYoga,
  type SocketInitialContext,
} from '../../src/server/yoga.js';
import { startTestGateway, TEST_SECRET, type GqlResult, type TestGateway } from './gateway.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface LimitedGateway {
  base: TestGateway;
  url: string;
  wsUrl: string;
  clock: ManualClock | undefined;
  auth: Authenticator;
  /** What the socket server logged (pino's JSON lines, parsed). */
  logs: LogLine[];
  /** A token for `sub`, expiring at `expiresAt` (default: in 30 days of real time). */
  token(sub: string, expiresAt?: Date): Promise<string>;
  ws(token: string | null): Client;
  http(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<{ status: number; headers: Headers; body: GqlResult }>;
  close(): Promise<void>;
}

export interface LimitedGatewayOptions {
  clock?: ManualClock;
  limits?: Partial<LimitOptions>;
  /** Yoga as yoga.ts builds it plus the limits plugin (else createGatewayYoga as it is). */
  http?: boolean;
  keepAliveMs?: number;
  maxPayloadBytes?: number;
}

/** yoga.ts's Yoga with the limits plugin added (its context, masking, endpoint). */
function yogaWithPlugin(
  services: { core: TestGateway['gateway']['core']; sessions: TestGateway['gateway']['sessions'] },
  auth: Authenticator,
  plugin: ReturnType<typeof useGatewayLimits>,
  logger: pino.Logger,
): GatewayYoga {
  const httpViewer = async (request: Request) => {
    try {
      return await auth.viewer(bearer(request.headers.get('authorization')));
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      throw new GraphQLError(error.message, {
        extensions: { code: error.code, http: { status: 401 } },
      });
    }
  };
  return createYoga<SocketInitialContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    maskedErrors: { maskError: syncErrorMasker(logger) },
    logging: false,
    plugins: [plugin],
    context: async (initial: YogaInitialContext & SocketInitialContext) => {
      const socket = initial.socket;
      return {
        viewer: socket ? socket.viewer : await httpViewer(initial.request),
        core: services.core,
        sessions: services.sessions,
        loaders: createLoaders(services.core),
        signal: socket ? socket.signal : initial.request.signal,
        operation: socket?.controller ?? null,
        socketId: socket?.id ?? null,
      };
    },
  }) as unknown as GatewayYoga;
}

export async function startLimitedGateway(
  options: LimitedGatewayOptions = {},
): Promise<LimitedGateway> {
  const { clock } = options;
  const base = await startTestGateway(clock ? { clock } : {});
  const logs: LogLine[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const auth = new Authenticator(TEST_SECRET, false, clock);
  const limits = createGatewayLimits({ ...options.limits, clock });
  const { core, sessions } = base.gateway;
  const yoga = options.http
    ? yogaWithPlugin({ core, sessions }, auth, useGatewayLimits(limits, auth), logger)
    : createGatewayYoga({ core, sessions, auth }, logger);
  const server: Server = createServer((req, res) => void yoga(req, res));
  const ws = attachGraphqlWs(
    server,
    yoga,
    { auth, sessions },
    {
      keepAliveMs: options.keepAliveMs ?? 10_000,
      maxPayloadBytes: options.maxPayloadBytes ?? 8 * 1024 * 1024,
      limits,
      clock,
      logger,
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const wsUrl = url.replace(/^http/, 'ws');
  const clients: Client[] = [];
  return {
    base,
    url,
    wsUrl,
    clock,
    auth,
    logs,
    token: (sub, expiresAt) => mintToken(TEST_SECRET, sub, [], expiresAt),
    ws: (token) => {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token ? { authToken: token } : {},
      });
      clients.push(client);
      return client;
    },
    http: async (query, variables = {}, token = null) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as GqlResult,
      };
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      await ws.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await base.close();
    },
  };
}
