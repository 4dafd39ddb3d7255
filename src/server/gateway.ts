/**
 * The gateway: one HTTP server for Yoga, health and graphql-ws, over one store.
 * `close()` shuts down gracefully: stop accepting, let uploads in flight commit and
 * answer, close sockets, close the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.js';
import { systemClock, type Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import type { SyncStore } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { loadRules } from '../sync/permissions.js';
import { SyncCore } from '../sync/sync-core.js';
import { SessionService } from '../session/session-service.js';
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

function openStore(config: GatewayConfig): SyncStore {
  return new SqliteStore(config.sqliteFile ?? join(config.dataDir, 'gateway.sqlite'));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function createCore(config: GatewayConfig, deps: GatewayDeps): SyncCore {
  return new SyncCore({
    store: deps.store ?? openStore(config),
    rules: loadRules(config.rulesFile ?? undefined),
    clock: deps.clock ?? systemClock,
    limits: {
      maxDocumentBytes: config.maxDocumentBytes,
      maxChangesPerUpload: config.maxChangesPerUpload,
    },
    downloadBatchSize: config.downloadBatchSize,
    maxOfflineMs: config.maxOfflineMs,
  });
}

/** Stops accepting, lets uploads in flight commit and answer, closes sockets, then the store. */
async function shutdown(server: Server, ws: { dispose(): void | Promise<void> }, core: SyncCore) {
  const closed = new Promise<void>((r) => server.close(() => r()));
  await core.drain();
  // One macrotask turn lets the answers of those uploads reach their sockets first.
  await new Promise<void>((r) => setImmediate(r));
  await ws.dispose();
  server.closeIdleConnections();
  const forced = setTimeout(() => server.closeAllConnections(), 10_000);
  await closed;
  clearTimeout(forced);
  await core.store.close();
}

export async function startGateway(
  config: GatewayConfig,
  deps: GatewayDeps = {},
): Promise<Gateway> {
  const logger = deps.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const clock = deps.clock ?? systemClock;
  const core = createCore(config, { ...deps, clock });
  await core.start();
  const sessions = new SessionService(core, clock);
  await sessions.start(config.compactIntervalMs);
  const devMode = config.jwtSecret === null;
  const auth = new Authenticator(
    config.jwtSecret ?? loadOrCreateDevSecret(config.dataDir),
    devMode,
  );
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
    sessions.stop();
    await shutdown(server, ws, core);
  };
  const url = `http://${host}:${port}/graphql`;
  return { url, wsUrl: url.replace(/^http/, 'ws'), port, devMode, auth, core, sessions, close };
}
