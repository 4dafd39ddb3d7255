/**
 * Everything behind the HTTP server: the store, the signals to the other gateways, the
 * sync core and the session service, built from the configuration.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { ClusterLink } from '../cluster/cluster-link.js';
import { LocalSignals, type SignalBus } from '../cluster/signals.js';
import { SqliteSignals } from '../cluster/sqlite-signals.js';
import type { GatewayConfig } from '../config.js';
import { SessionService } from '../session/session-service.js';
import type { SyncStore } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { loadRules } from '../sync/permissions.js';
import { SyncCore } from '../sync/sync-core.js';

export interface Deployment {
  gatewayId: string;
  core: SyncCore;
  sessions: SessionService;
  /** Stops the timers and the signals; the store closes after the server (see shutdown). */
  stop(): Promise<void>;
}

const sqlitePath = (config: GatewayConfig) =>
  config.sqliteFile ?? join(config.dataDir, 'gateway.sqlite');

function openSignals(config: GatewayConfig, gatewayId: string): SignalBus {
  if (!config.multiGateway) return new LocalSignals(gatewayId);
  return SqliteSignals.open(sqlitePath(config), gatewayId);
}

export async function openDeployment(
  config: GatewayConfig,
  deps: { clock: Clock; store?: SyncStore; tokenSecret: string },
): Promise<Deployment> {
  const gatewayId = randomUUID();
  const signals = openSignals(config, gatewayId);
  const core = new SyncCore({
    store: deps.store ?? new SqliteStore(sqlitePath(config)),
    rules: loadRules(config.rulesFile ?? undefined),
    clock: deps.clock,
    limits: {
      maxDocumentBytes: config.maxDocumentBytes,
      maxChangesPerUpload: config.maxChangesPerUpload,
    },
    downloadBatchSize: config.downloadBatchSize,
    maxOfflineMs: config.maxOfflineMs,
    signals,
  });
  await core.start();
  const sessions = new SessionService(core, deps.clock, deps.tokenSecret);
  const link = new ClusterLink(signals, sessions);
  await link.start();
  await sessions.start(config.compactIntervalMs);
  const stop = async () => {
    sessions.stop();
    await link.stop();
  };
  return { gatewayId, core, sessions, stop };
}
