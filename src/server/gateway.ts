/**
 * The gateway: one HTTP server for Yoga, health, metrics and graphql-ws, over one store.
 * `close()` shuts down gracefully and within `shutdownTimeoutMs`: refuse what is new, let
 * uploads in flight commit and answer, close sockets, close the store (see shutdown.ts).
 * It logs its start, readiness and shutdown (with the reason) as one line each.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { WebSocketServer } from 'ws';
import { Authenticator } from '../auth/authenticator.js';
import { systemClock, type Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import type { SyncStore } from '../store/port.js';
import type { RulesConfig } from '../sync/permissions.js';
import type { SessionService } from '../session/session-service.js';
import type { SyncCore } from '../sync/sync-core.js';
import type { ContextServices } from '../schema/context.js';
import { openDeployment, type Deployment } from './deployment.js';
import { loadOrCreateDevSecret } from './dev-secret.js';
import { handleAdmin } from './admin-page.js';
import { capConnections } from './connection-cap.js';
import { handleHealth } from './health.js';
import { createLogger, inRequestContext } from './logging.js';
import type { GatewayMetrics } from './metrics.js';
import { handleMetrics } from './metrics-route.js';
import { observeDeployment } from './observability.js';
import { Readiness } from './readiness.js';
import { HttpShutdown } from './shutdown.js';
import { attachGraphqlWs } from './ws.js';
import { createGatewayLimits } from './limits.js';
import { createGatewayYoga, MAX_REQUEST_BYTES } from './yoga.js';

export interface GatewayDeps {
  clock?: Clock;
  /** Default: LOG_LEVEL and LOG_FORMAT from the environment (see logging.ts). */
  logger?: Logger;
  store?: SyncStore;
  /** Monotonic milliseconds for the metrics' durations (default: performance.now). */
  metricsNow?: () => number;
  /** The rules, read already (default: read from `config.rulesFile`). */
  rules?: RulesConfig;
}

export interface Gateway {
  url: string;
  wsUrl: string;
  port: number;
  devMode: boolean;
  auth: Authenticator;
  core: SyncCore;
  sessions: SessionService;
  /** Shuts down; `reason` (a signal's name, say) is logged. */
  close(reason?: string): Promise<void>;
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
 * cut. Then the deployment stops and the store closes. Resolves whether connections were cut.
 */
async function shutdown(run: Running, clock: Clock, timeoutMs: number): Promise<boolean> {
  run.http.begin();
  let disposing: Promise<void> | undefined;
  const disposeWs = () => (disposing ??= Promise.resolve(run.ws.dispose()).catch(() => {}));
  let cut = false;
  const limit = deadline(clock, timeoutMs, () => {
    cut = true;
    for (const socket of run.ws.wss.clients) socket.terminate();
    run.http.destroyAll();
    void disposeWs();
    void run.http.close();
  });
  await Promise.race([settle(run, disposeWs), limit.reached]);
  limit.cancel();
  await run.deployment.stop();
  await run.core.store.close();
  return cut;
}

interface Observed {
  metrics: GatewayMetrics;
  metricsToken: string | null;
  /** The readiness of a gateway that shuts down when `stopping` says so. */
  readiness: (stopping: () => boolean) => Readiness;
}

/**
 * The HTTP server with the probes, metrics, Yoga and graphql-ws, not yet listening. The
 * probes answer even while shutting down; everything else is refused then (shutdown.ts).
 */
function serve(
  config: GatewayConfig,
  services: ContextServices,
  logger: Logger,
  observed: Observed,
) {
  const server = createServer();
  capConnections(server, logger);
  const http = new HttpShutdown(server);
  const limits = createGatewayLimits({
    userOpsPerSecond: config.userOpsPerSecond,
    clientChangesetsPerSecond: config.clientChangesetsPerSecond,
    maxSocketsPerUser: config.maxSocketsPerUser,
    maxChangesPerUpload: config.maxChangesPerUpload,
    maxOperationsPerSocket: config.maxOperationsPerSocket,
  });
  const yoga = createGatewayYoga(services, logger, {
    errorSink: observed.metrics,
    graphiql: config.graphiql,
    introspection: config.introspection,
    closing: () => http.stopping,
    limits,
  });
  const { metrics, metricsToken } = observed;
  const rest = http.handle((req, res) => {
    if (!handleMetrics(req, res, metrics, metricsToken) && !handleAdmin(req, res))
      void yoga(req, res);
  });
  const readiness = observed.readiness(() => http.stopping);
  server.on('request', (req, res) =>
    inRequestContext(req, res, () => {
      if (!handleHealth(req, res, readiness)) rest(req, res);
    }),
  );
  const ws = attachGraphqlWs(server, yoga, services, {
    keepAliveMs: config.keepAliveMs,
    maxPayloadBytes: MAX_REQUEST_BYTES,
    limits,
    logger,
    closing: () => http.stopping,
    errorSink: observed.metrics,
  });
  http.guardUpgrades();
  return { server, http, ws };
}

function startingLine(config: GatewayConfig, devMode: boolean) {
  const { store, multiGateway, port, host } = config;
  return { event: 'gateway.starting', store, multiGateway, devMode, port, host, pid: process.pid };
}

/** The deployment, or one line saying why it did not open (and the error, thrown on). */
async function openLogged(
  config: GatewayConfig,
  deps: Parameters<typeof openDeployment>[1],
  logger: Logger,
) {
  try {
    return await openDeployment(config, deps);
  } catch (error) {
    logger.error({ event: 'gateway.start_failed', err: error }, 'gateway failed to start');
    throw error;
  }
}

/** Metrics and logs of the deployment's work, and its readiness. */
function observe(
  config: GatewayConfig,
  deployment: Deployment,
  deps: { clock: Clock; logger: Logger; metricsNow?: () => number },
): Observed {
  const { core, sessions } = deployment;
  const { clock, logger } = deps;
  const metrics = observeDeployment({ sessions, clock, now: deps.metricsNow }, logger);
  const readiness = (stopping: () => boolean) =>
    new Readiness({
      store: core.store,
      knownVersion: () => core.feed.latest,
      clock,
      multiGateway: config.multiGateway || config.store === 'mongodb',
      stopping,
    });
  return { metrics, metricsToken: config.metricsToken, readiness };
}

export async function startGateway(
  config: GatewayConfig,
  deps: GatewayDeps = {},
): Promise<Gateway> {
  const logger = deps.logger ?? createLogger();
  const clock = deps.clock ?? systemClock;
  const devMode = config.jwtSecret === null;
  logger.info(startingLine(config, devMode), 'gateway starting');
  const secret = config.jwtSecret ?? loadOrCreateDevSecret(config.dataDir);
  const auth = new Authenticator(secret, devMode, clock);
  const onError = (error: unknown) =>
    logger.warn({ err: error }, 'background work failed; carrying on');
  const deploymentDeps = {
    clock,
    store: deps.store,
    tokenSecret: secret,
    onError,
    rules: deps.rules,
  };
  const deployment = await openLogged(config, deploymentDeps, logger);
  const { core, sessions, gatewayId } = deployment;
  const observed = observe(config, deployment, { clock, logger, metricsNow: deps.metricsNow });
  const { server, http, ws } = serve(config, { core, auth, sessions }, logger, observed);
  const port = await listen(server, config.port, config.host);
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const url = `http://${host}:${port}/graphql`;
  logger.info({ event: 'gateway.ready', url, port, gatewayId }, 'gateway ready');
  let closing: Promise<void> | undefined;
  const close = (reason = 'close() called') => {
    const run = { http, ws, core, deployment };
    return (closing ??= stop(run, clock, config.shutdownTimeoutMs, logger, reason));
  };
  return { url, wsUrl: url.replace(/^http/, 'ws'), port, devMode, auth, core, sessions, close };
}

/** The shutdown, between its two lines. */
async function stop(run: Running, clock: Clock, timeoutMs: number, logger: Logger, reason: string) {
  const started = clock.now().getTime();
  logger.info({ event: 'gateway.shutting_down', reason, timeoutMs }, 'gateway shutting down');
  const cut = await shutdown(run, clock, timeoutMs);
  const durationMs = clock.now().getTime() - started;
  logger.info({ event: 'gateway.stopped', reason, durationMs, cut }, 'gateway stopped');
}
