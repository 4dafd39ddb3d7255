/**
 * The gateway: one HTTP server for Yoga, health and graphql-ws, over one store.
 * `close()` shuts down gracefully and within `shutdownTimeoutMs`: refuse what is new, let
 * uploads in flight commit and answer, close sockets, close the store (see shutdown.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { WebSocketServer } from 'ws';
import { Authenticator } from '../auth/authenticator.js';
import { systemClock, type Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import type { SyncStore } from '../store/port.js';
import type { SessionService } from '../session/session-service.js';
import type { SyncCore } from '../sync/sync-core.js';
import type { ContextServices } from '../schema/context.js';
import { openDeployment, type Deployment } from './deployment.js';
import { loadOrCreateDevSecret } from './dev-secret.js';
import { handleHealth } from './health.js';
import { HttpShutdown } from './shutdown.js';
import { attachGraphqlWs } from './ws.js';
import { createGatewayLimits } from './limits.js';
import { createGatewayYoga, MAX_REQUEST_BYTES } from './yoga.js';

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

interface Running {
  http: HttpShutdown;
  ws: { wss: WebSocketServer; dispose(): void | Promise<void> };
  core: SyncCore;
  deployment: Deployment;
}

/** Calls `cut` after `ms` on the clock; `reached` resolves then. */
function deadline(clock: Clock, ms: number, cut: () => void) {
  let cancel = () => {};
  const reached = new Promise<void>((resolve) => {
    cancel = clock.setTimer(ms, () => {
      cut();
      resolve();
    });
  });
  return { reached, cancel: () => cancel() };
}

/** Lets uploads in flight commit and answer, then closes the sockets and the server. */
async function settle(run: Running, disposeWs: () => Promise<void>) {
  await run.core.drain();
  // One macrotask turn lets the answers of those uploads reach their sockets first.
  await new Promise<void>((r) => setImmediate(r));
  await disposeWs();
  await run.http.close();
}

/**
 * Refuses new requests, upgrades and operations; lets uploads in flight finish and answer;
 * closes sockets and keep-alive connections. After `timeoutMs` every connection left is
 * cut. Then the deployment stops and the store closes.
 */
async function shutdown(run: Running, clock: Clock, timeoutMs: number): Promise<void> {
  run.http.begin();
  let disposing: Promise<void> | undefined;
  const disposeWs = () => (disposing ??= Promise.resolve(run.ws.dispose()).catch(() => {}));
  const limit = deadline(clock, timeoutMs, () => {
    for (const socket of run.ws.wss.clients) socket.terminate();
    run.http.destroyAll();
    void disposeWs();
    void run.http.close();
  });
  await Promise.race([settle(run, disposeWs), limit.reached]);
  limit.cancel();
  await run.deployment.stop();
  await run.core.store.close();
}

/** The HTTP server with Yoga, health and graphql-ws, not yet listening. */
function serve(config: GatewayConfig, services: ContextServices, logger: Logger) {
  const server = createServer();
  const http = new HttpShutdown(server);
  const limits = createGatewayLimits({
    userOpsPerSecond: config.userOpsPerSecond,
    clientChangesetsPerSecond: config.clientChangesetsPerSecond,
    maxSocketsPerUser: config.maxSocketsPerUser,
    maxChangesPerUpload: config.maxChangesPerUpload,
  });
  const yoga = createGatewayYoga(services, logger, {
    graphiql: config.graphiql,
    introspection: config.introspection,
    closing: () => http.stopping,
    limits,
  });
  const health = { ready: false };
  server.on(
    'request',
    http.handle((req, res) => {
      if (!handleHealth(req, res, () => health.ready)) void yoga(req, res);
    }),
  );
  const ws = attachGraphqlWs(server, yoga, services, {
    keepAliveMs: config.keepAliveMs,
    maxPayloadBytes: MAX_REQUEST_BYTES,
    limits,
    logger,
  });
  http.guardUpgrades();
  return { server, http, ws, health };
}

export async function startGateway(
  config: GatewayConfig,
  deps: GatewayDeps = {},
): Promise<Gateway> {
  const logger = deps.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const clock = deps.clock ?? systemClock;
  const devMode = config.jwtSecret === null;
  const secret = config.jwtSecret ?? loadOrCreateDevSecret(config.dataDir);
  const auth = new Authenticator(secret, devMode, clock);
  const deployment = await openDeployment(config, {
    clock,
    store: deps.store,
    tokenSecret: secret,
    onError: (error) => logger.warn({ err: error }, 'background work failed; carrying on'),
  });
  const { core, sessions } = deployment;
  const { server, http, ws, health } = serve(config, { core, auth, sessions }, logger);
  const port = await listen(server, config.port, config.host);
  health.ready = true;
  let closing: Promise<void> | undefined;
  const close = () => {
    health.ready = false;
    const run = { http, ws, core, deployment };
    return (closing ??= shutdown(run, clock, config.shutdownTimeoutMs));
  };
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const url = `http://${host}:${port}/graphql`;
  return { url, wsUrl: url.replace(/^http/, 'ws'), port, devMode, auth, core, sessions, close };
}
