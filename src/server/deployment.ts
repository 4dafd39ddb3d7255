/**
 * Everything behind the HTTP server: the store, the signals to the other gateways, the
 * sync core and the session service, built from the configuration.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { ClusterLink } from '../cluster/cluster-link.js';
import { LocalSignals, type SignalBus } from '../cluster/signals.js';
import { MongoSignals } from '../cluster/mongo-signals.js';
import { SqliteSignals } from '../cluster/sqlite-signals.js';
import { MongoStore } from '../store/mongodb/mongo-store.js';
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

interface Backend {
  store: SyncStore;
  signals: SignalBus;
}

/**
 * The store and the signals that go with it: MongoDB (a replica set, many gateways through
 * change streams), or the SQLite file (signalling through a file beside it when several
 * processes share it).
 */
async function openBackend(
  config: GatewayConfig,
  gatewayId: string,
  store?: SyncStore,
): Promise<Backend> {
  if (config.store === 'mongodb' && !store) {
    const mongo = await MongoStore.connect(config.mongodbUri!, { dbName: config.mongodbDb });
    return { store: mongo, signals: new MongoSignals(mongo.db, gatewayId) };
  }
  const signals = config.multiGateway
    ? SqliteSignals.open(sqlitePath(config), gatewayId)
    : new LocalSignals(gatewayId);
  return { store: store ?? new SqliteStore(sqlitePath(config)), signals };
}

export async function openDeployment(
  config: GatewayConfig,
  deps: { clock: Clock; store?: SyncStore; tokenSecret: string },
): Promise<Deployment> {
  const gatewayId = randomUUID();
  const { store, signals } = await openBackend(config, gatewayId, deps.store);
  const core = new SyncCore({
    store,
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
