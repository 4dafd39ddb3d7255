/**
 * Everything behind the HTTP server: the store, the signals to the other gateways, the
 * sync core and the session service, built from the configuration. On MongoDB, also the
 * watch that brings other services' writes to the synced collections into the history.
 */
import type { Db } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { ClusterLink } from '../cluster/cluster-link.js';
import { LocalSignals, type SignalBus } from '../cluster/signals.js';
import { MongoSignals } from '../cluster/mongo-signals.js';
import { SqliteSignals } from '../cluster/sqlite-signals.js';
import { BackendWatch } from '../store/mongodb/backend-watch.js';
import { MongoStore } from '../store/mongodb/mongo-store.js';
import { ConfigError, type GatewayConfig } from '../config.js';
import { SessionService } from '../session/session-service.js';
import type { SyncStore } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { loadRules, type RulesConfig } from '../sync/permissions.js';
import type { DocumentKey } from '../sync/model.js';
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
  /** The MongoDB database, whose plain collections other services may write. */
  mongo?: Db;
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
  onError?: (error: unknown) => void,
): Promise<Backend> {
  if (config.store === 'mongodb' && !store) {
    const mongo = await MongoStore.connect(config.mongodbUri!, { dbName: config.mongodbDb });
    return {
      store: mongo,
      signals: new MongoSignals(mongo.db, gatewayId, onError),
      mongo: mongo.db,
    };
  }
  const signals = config.multiGateway
    ? SqliteSignals.open(sqlitePath(config), gatewayId)
    : new LocalSignals(gatewayId);
  return { store: store ?? new SqliteStore(sqlitePath(config)), signals };
}

/** The rules file, read before anything opens: a bad one stops the start in one line. */
function rulesOf(config: GatewayConfig): RulesConfig {
  try {
    return loadRules(config.rulesFile ?? undefined);
  } catch (error) {
    throw new ConfigError(`--rules / RULES_FILE: ${(error as Error).message}`);
  }
}

export async function openDeployment(
  config: GatewayConfig,
  deps: {
    clock: Clock;
    store?: SyncStore;
    tokenSecret: string;
    /** Errors of the background work (change streams), which carries on after them. */
    onError?: (error: unknown) => void;
  },
): Promise<Deployment> {
  const rules = rulesOf(config);
  const gatewayId = randomUUID();
  const { store, signals, mongo } = await openBackend(config, gatewayId, deps.store, deps.onError);
  const core = new SyncCore({
    store,
    rules,
    clock: deps.clock,
    limits: {
      maxDocumentBytes: config.maxDocumentBytes,
      maxChangesPerUpload: config.maxChangesPerUpload,
    },
    downloadBatchSize: config.downloadBatchSize,
    maxOfflineMs: config.maxOfflineMs,
    cursorRefreshMs: config.cursorRefreshMs,
    signals,
  });
  await core.start();
  const sessions = new SessionService(core, deps.clock, deps.tokenSecret);
  const link = new ClusterLink(signals, sessions);
  await link.start();
  await sessions.start(config.compactIntervalMs);
  const ingest = (keys: readonly DocumentKey[]) => core.integrateBackendWrites(keys);
  const watch = mongo && new BackendWatch(mongo, ingest, deps.onError);
  watch?.start();
  const stop = async () => {
    sessions.stop();
    await watch?.stop();
    await link.stop();
  };
  return { gatewayId, core, sessions, stop };
}
