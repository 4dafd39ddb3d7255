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
import { FileClaim, FileInUseError } from '../store/sqlite/file-mode.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { RulesConfig } from '../sync/permissions.js';
import { rulesOf } from '../rules-file.js';
import type { DocumentKey } from '../sync/model.js';
import { ruleIndexes } from '../sync/scope-pushdown.js';
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
  const sqlite = () =>
    new SqliteStore(sqlitePath(config), { writerThread: config.writerThread, onError });
  return { store: store ?? sqlite(), signals };
}

/**
 * The gateway's hold on its SQLite file in its mode (none on MongoDB, in memory, or on a
 * store given by a test): a second gateway on the file in a mode that would run apart from
 * this one (single beside anything, multi beside single) stops the start in one line.
 */
function claimFile(
  config: GatewayConfig,
  gatewayId: string,
  onError?: (error: unknown) => void,
): FileClaim | null {
  const path = sqlitePath(config);
  if (config.store !== 'sqlite' || path === ':memory:') return null;
  const lost = () =>
    onError?.(new Error(`${path}: another gateway took this one for dead and removed its record`));
  try {
    const mode = config.multiGateway ? 'multi' : 'single';
    return FileClaim.claim(path, gatewayId, mode, { onLost: lost, onError });
  } catch (error) {
    if (error instanceof FileInUseError) throw new ConfigError(error.message);
    throw error;
  }
}

interface DeploymentDeps {
  clock: Clock;
  store?: SyncStore;
  tokenSecret: string;
  /** Errors of the background work (change streams), which carries on after them. */
  onError?: (error: unknown) => void;
  /** The rules, when the caller read them already (else read from the configuration). */
  rules?: RulesConfig;
}

export async function openDeployment(
  config: GatewayConfig,
  deps: DeploymentDeps,
): Promise<Deployment> {
  const rules = deps.rules ?? rulesOf(config);
  const gatewayId = randomUUID();
  const claim = deps.store ? null : claimFile(config, gatewayId, deps.onError);
  try {
    const deployment = await openServices(config, deps, rules, gatewayId);
    const stop = async () => {
      await deployment.stop();
      claim?.release();
    };
    return { ...deployment, stop };
  } catch (error) {
    claim?.release();
    throw error;
  }
}

async function openServices(
  config: GatewayConfig,
  deps: DeploymentDeps,
  rules: RulesConfig,
  gatewayId: string,
): Promise<Deployment> {
  const { store, signals, mongo } = await openBackend(config, gatewayId, deps.store, deps.onError);
  await store.ensureScopeIndexes(ruleIndexes(rules));
  const core = new SyncCore({
    store,
    rules,
    clock: deps.clock,
    limits: {
      maxDocumentBytes: config.maxDocumentBytes,
      maxChangesPerUpload: config.maxChangesPerUpload,
      maxClockSkewMs: config.maxClockSkewMs,
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
