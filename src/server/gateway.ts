/**
 * The gateway: one HTTP server for Yoga, health and graphql-ws, over one store.
 * `close()` shuts down gracefully: stop accepting, let uploads in flight commit and
 * answer, close sockets, close the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.js';
import { systemClock, type Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import type { SyncStore } from '../store/port.js';
import type { SessionService } from '../session/session-service.js';
import type { SyncCore } from '../sync/sync-core.js';
import { openDeployment, type Deployment } from './deployment.js';
import { loadOrCreateDevSecret } from './dev-secret.js';
import { handleHealth } from './health.js';
import { attachGraphqlWs } from './ws.js';
import { createGatewayYoga } from './yoga.js';

export interface GatewayDeps {
  clock?: Clock;
  logger?: Logger;
  store?: SyncStore;
}

export interface Gateway {
  url: string;
  wsUrl: string;
  port: number;
  devMode: boolean;
  auth: Authenticator;
  core: SyncCore;
  sessions: SessionService;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Stops accepting, lets uploads in flight commit and answer, closes sockets, then the store. */
async function shutdown(
  server: Server,
  ws: { dispose(): void | Promise<void> },
  core: SyncCore,
  deployment: Deployment,
) {
  const closed = new Promise<void>((r) => server.close(() => r()));
  await core.drain();
  // One macrotask turn lets the answers of those uploads reach their sockets first.
  await new Promise<void>((r) => setImmediate(r));
  await ws.dispose();
  server.closeIdleConnections();
  const forced = setTimeout(() => server.closeAllConnections(), 10_000);
  await closed;
  clearTimeout(forced);
  await deployment.stop();
  await core.store.close();
}

export async function startGateway(
  config: GatewayConfig,
  deps: GatewayDeps = {},
): Promise<Gateway> {
  const logger = deps.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const devMode = config.jwtSecret === null;
  const secret = config.jwtSecret ?? loadOrCreateDevSecret(config.dataDir);
  const auth = new Authenticator(secret, devMode);
  const deployment = await openDeployment(config, {
    clock: deps.clock ?? systemClock,
    store: deps.store,
    tokenSecret: secret,
    onError: (error) => logger.warn({ err: error }, 'background work failed; carrying on'),
  });
  const { core, sessions } = deployment;
  const yoga = createGatewayYoga({ core, auth, sessions }, logger);
  let ready = false;
  const server = createServer((req, res) => {
    if (!handleHealth(req, res, () => ready)) void yoga(req, res);
  });
  const ws = attachGraphqlWs(
    server,
    yoga,
    { auth, sessions },
    {
      keepAliveMs: config.keepAliveMs,
      maxPayloadBytes: 8 * 1024 * 1024,
    },
  );
  const port = await listen(server, config.port, config.host);
  ready = true;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const close = async () => {
    ready = false;
    await shutdown(server, ws, core, deployment);
  };
  const url = `http://${host}:${port}/graphql`;
  return { url, wsUrl: url.replace(/^http/, 'ws'), port, devMode, auth, core, sessions, close };
}
