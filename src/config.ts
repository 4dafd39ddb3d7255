/**
 * Configuration from CLI flags, then environment variables, then defaults; every value
 * is validated at start with a message that names the flag and the variable.
 */
import { parseArgs } from 'node:util';

export interface GatewayConfig {
  port: number;
  host: string;
  jwtSecret: string | null;
  dataDir: string;
  store: 'sqlite' | 'mongodb';
  /** With store mongodb: the replica set (or Atlas) URI, and the database in it. */
  mongodbUri: string | null;
  mongodbDb: string;
  sqliteFile: string | null;
  rulesFile: string | null;
  maxDocumentBytes: number;
  maxChangesPerUpload: number;
  downloadBatchSize: number;
  /** graphql-ws ping interval; a peer silent for two intervals is dropped. */
  keepAliveMs: number;
  /** A client that has not synced for this long must reset; older history may be compacted. */
  maxOfflineMs: number;
  /** How often expired sessions are marked and old history is compacted. */
  compactIntervalMs: number;
  /**
   * How often a download stream whose client's queries see nothing new sends an empty batch
   * anyway, so the client's acknowledged version keeps up with the history.
   */
  cursorRefreshMs: number;
  /** Several gateway processes share the SQLite file: signal each other through it. */
  multiGateway: boolean;
  /** GraphiQL at /graphql (default: on in development, off with NODE_ENV=production). */
  graphiql: boolean;
  /** Introspection queries (default: on in development, off with NODE_ENV=production). */
  introspection: boolean;
  /** How far ahead of the gateway's clock a changeset's timestamp may be. */
  maxClockSkewMs: number;
  /** Operations (HTTP requests and socket operations) per second one user may start; 0: no limit. */
  userOpsPerSecond: number;
  /** Changesets per second one client may upload; 0: no limit. */
  clientChangesetsPerSecond: number;
  /** graphql-ws sockets one user may hold open at once; 0: no limit. */
  maxSocketsPerUser: number;
  /** After SIGTERM, how long in-flight work may take before connections are cut. */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {}

const DAY_MS = 24 * 60 * 60 * 1000;

interface Setting {
  flag: string;
  env: string;
  type: 'string' | 'boolean';
}

const SETTINGS = {
  port: { flag: 'port', env: 'PORT', type: 'string' },
  host: { flag: 'host', env: 'HOST', type: 'string' },
  jwtSecret: { flag: 'jwt-secret', env: 'JWT_SECRET', type: 'string' },
  dataDir: { flag: 'data-dir', env: 'DATA_DIR', type: 'string' },
  store: { flag: 'store', env: 'STORE', type: 'string' },
  mongodbUri: { flag: 'mongodb-uri', env: 'MONGODB_URI', type: 'string' },
  mongodbDb: { flag: 'mongodb-db', env: 'MONGODB_DB', type: 'string' },
  sqliteFile: { flag: 'sqlite-file', env: 'SQLITE_FILE', type: 'string' },
  rulesFile: { flag: 'rules', env: 'RULES_FILE', type: 'string' },
  maxDocumentBytes: { flag: 'max-document-bytes', env: 'MAX_DOCUMENT_BYTES', type: 'string' },
  maxChangesPerUpload: {
    flag: 'max-changes-per-upload',
    env: 'MAX_CHANGES_PER_UPLOAD',
    type: 'string',
  },
  downloadBatchSize: { flag: 'download-batch-size', env: 'DOWNLOAD_BATCH_SIZE', type: 'string' },
  keepAliveMs: { flag: 'keep-alive-ms', env: 'KEEP_ALIVE_MS', type: 'string' },
  maxOfflineMs: { flag: 'max-offline-ms', env: 'MAX_OFFLINE_MS', type: 'string' },
  compactIntervalMs: { flag: 'compact-interval-ms', env: 'COMPACT_INTERVAL_MS', type: 'string' },
  cursorRefreshMs: { flag: 'cursor-refresh-ms', env: 'CURSOR_REFRESH_MS', type: 'string' },
  multiGateway: { flag: 'multi-gateway', env: 'MULTI_GATEWAY', type: 'string' },
  graphiql: { flag: 'graphiql', env: 'GRAPHIQL', type: 'string' },
  introspection: { flag: 'introspection', env: 'INTROSPECTION', type: 'string' },
  maxClockSkewMs: { flag: 'max-clock-skew-ms', env: 'MAX_CLOCK_SKEW_MS', type: 'string' },
  userOpsPerSecond: { flag: 'user-ops-per-second', env: 'USER_OPS_PER_SECOND', type: 'string' },
  clientChangesetsPerSecond: {
    flag: 'client-changesets-per-second',
    env: 'CLIENT_CHANGESETS_PER_SECOND',
    type: 'string',
  },
  maxSocketsPerUser: { flag: 'max-sockets-per-user', env: 'MAX_SOCKETS_PER_USER', type: 'string' },
  shutdownTimeoutMs: { flag: 'shutdown-timeout-ms', env: 'SHUTDOWN_TIMEOUT_MS', type: 'string' },
} satisfies Record<string, Setting>;

type Raw = Partial<Record<keyof typeof SETTINGS, string>>;

function intSetting(
  raw: Raw,
  key: keyof typeof SETTINGS,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = raw[key];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    const s = SETTINGS[key];
    throw new ConfigError(
      `--${s.flag} / ${s.env}: "${text}" is not a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

function boolSetting(raw: Raw, key: keyof typeof SETTINGS, fallback = false): boolean {
  const text = raw[key];
  if (text === undefined) return fallback;
  if (text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  const s = SETTINGS[key];
  throw new ConfigError(`--${s.flag} / ${s.env}: "${text}" is not true or false`);
}

function readRaw(argv: string[], env: NodeJS.ProcessEnv): Raw {
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.flag, { type: s.type }]),
  );
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const raw: Raw = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof typeof SETTINGS, Setting][]) {
    const value = (values[s.flag] as string | undefined) ?? env[s.env];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw;
}

function storeSetting(raw: Raw): 'sqlite' | 'mongodb' {
  const store = raw.store ?? (raw.mongodbUri ? 'mongodb' : 'sqlite');
  if (store !== 'sqlite' && store !== 'mongodb') {
    throw new ConfigError(`--store / STORE: "${store}" is not a store; use sqlite or mongodb`);
  }
  if (store === 'mongodb' && !raw.mongodbUri?.match(/^mongodb(\+srv)?:\/\//)) {
    throw new ConfigError(
      '--mongodb-uri / MONGODB_URI: a mongodb:// or mongodb+srv:// URI is required with store mongodb',
    );
  }
  return store;
}

/** Parses and validates the configuration; throws ConfigError naming the bad setting. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): GatewayConfig {
  const raw = readRaw(argv, env);
  const development = env.NODE_ENV !== 'production';
  if (raw.jwtSecret !== undefined && raw.jwtSecret.length < 32) {
    throw new ConfigError('--jwt-secret / JWT_SECRET: must be at least 32 characters for HS256');
  }
  return {
    port: intSetting(raw, 'port', 4000, 0, 65535),
    host: raw.host ?? '0.0.0.0',
    jwtSecret: raw.jwtSecret ?? null,
    dataDir: raw.dataDir ?? './data',
    store: storeSetting(raw),
    mongodbUri: raw.mongodbUri ?? null,
    mongodbDb: raw.mongodbDb ?? 'sync_gateway',
    sqliteFile: raw.sqliteFile ?? null,
    rulesFile: raw.rulesFile ?? null,
    maxDocumentBytes: intSetting(raw, 'maxDocumentBytes', 256 * 1024, 64, 16 * 1024 * 1024),
    maxChangesPerUpload: intSetting(raw, 'maxChangesPerUpload', 1000, 1, 100_000),
    downloadBatchSize: intSetting(raw, 'downloadBatchSize', 200, 1, 10_000),
    keepAliveMs: intSetting(raw, 'keepAliveMs', 10_000, 50, 600_000),
    maxOfflineMs: intSetting(raw, 'maxOfflineMs', 30 * DAY_MS, 1000, 3650 * DAY_MS),
    compactIntervalMs: intSetting(raw, 'compactIntervalMs', 60 * 60 * 1000, 1000, 30 * DAY_MS),
    cursorRefreshMs: intSetting(raw, 'cursorRefreshMs', 30_000, 10, 30 * DAY_MS),
    multiGateway: boolSetting(raw, 'multiGateway'),
    graphiql: boolSetting(raw, 'graphiql', development),
    introspection: boolSetting(raw, 'introspection', development),
    maxClockSkewMs: intSetting(raw, 'maxClockSkewMs', 5 * 60 * 1000, 0, DAY_MS),
    userOpsPerSecond: intSetting(raw, 'userOpsPerSecond', 1000, 0, 1_000_000),
    clientChangesetsPerSecond: intSetting(raw, 'clientChangesetsPerSecond', 1000, 0, 1_000_000),
    maxSocketsPerUser: intSetting(raw, 'maxSocketsPerUser', 100, 0, 1_000_000),
    shutdownTimeoutMs: intSetting(raw, 'shutdownTimeoutMs', 10_000, 0, 600_000),
  };
}
