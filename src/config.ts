/**
 * Configuration from CLI flags, then environment variables, then defaults; every value
 * is validated at start with a message that names the flag and the variable. SETTINGS is
 * the one table of them: the start command's options (and their --help) come from it.
 */
import { Command } from 'commander';
import { EnvOption, optionValue, parseQuietly } from './cli-options.js';

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
  /** SQLite: every write, and its fsync, on a thread of its own (store/sqlite/writer-thread.ts). */
  writerThread: boolean;
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
  /** Operations one graphql-ws socket runs at once; more wait for a slot (a bounded queue). */
  maxOperationsPerSocket: number;
  /** After SIGTERM, how long in-flight work may take before connections are cut. */
  shutdownTimeoutMs: number;
  /** `GET /metrics` requires `Authorization: Bearer <token>`; null: open. */
  metricsToken: string | null;
}

export class ConfigError extends Error {}

const DAY_MS = 24 * 60 * 60 * 1000;

interface Setting {
  flag: string;
  env: string;
  /** What it is, for --help. */
  help: string;
  /** The value's name in --help (`--port <n>`); none: a switch, `--multi-gateway [bool]`. */
  arg?: string;
  /** A whole number: its default and bounds. */
  int?: { default: number; min: number; max: number; unit?: string };
  /** The default as --help shows it, when it is not a plain number. */
  shown?: string;
}

const ms = (min: number, max: number, fallback: number, unit?: string) => ({
  default: fallback,
  min,
  max,
  ...(unit ? { unit } : {}),
});

/** Every setting: its flag, its variable, its default. Exported for the CLI's help and tests. */
export const SETTINGS = {
  port: {
    flag: 'port',
    env: 'PORT',
    arg: 'n',
    help: 'HTTP and graphql-ws port (/graphql); 0 picks a free one',
    int: { default: 4000, min: 0, max: 65535 },
  },
  host: {
    flag: 'host',
    env: 'HOST',
    arg: 'address',
    help: 'interface to listen on',
    shown: '0.0.0.0',
  },
  jwtSecret: {
    flag: 'jwt-secret',
    env: 'JWT_SECRET',
    arg: 'secret',
    help: 'HS256 secret of the tokens, 32+ characters',
    shown: 'none: development mode',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'DATA_DIR',
    arg: 'dir',
    help: "the SQLite store's directory (and development mode's secret)",
    shown: './data',
  },
  store: {
    flag: 'store',
    env: 'STORE',
    arg: 'name',
    help: 'sqlite or mongodb',
    shown: 'sqlite; mongodb with a MongoDB URI',
  },
  mongodbUri: {
    flag: 'mongodb-uri',
    env: 'MONGODB_URI',
    arg: 'uri',
    help: 'a MongoDB replica set or Atlas URI',
    shown: 'none',
  },
  mongodbDb: {
    flag: 'mongodb-db',
    env: 'MONGODB_DB',
    arg: 'name',
    help: 'the MongoDB database the gateway uses',
    shown: 'sync_gateway',
  },
  sqliteFile: {
    flag: 'sqlite-file',
    env: 'SQLITE_FILE',
    arg: 'file',
    help: 'the SQLite file, or :memory:',
    shown: 'DATA_DIR/gateway.sqlite',
  },
  rulesFile: {
    flag: 'rules',
    env: 'RULES_FILE',
    arg: 'file',
    help: 'permission rules (JSON: collections, default)',
    shown: 'a user reads and writes the documents whose ownerId is theirs',
  },
  maxDocumentBytes: {
    flag: 'max-document-bytes',
    env: 'MAX_DOCUMENT_BYTES',
    arg: 'n',
    help: 'largest document or set, in bytes',
    int: { default: 256 * 1024, min: 64, max: 16 * 1024 * 1024 },
  },
  maxChangesPerUpload: {
    flag: 'max-changes-per-upload',
    env: 'MAX_CHANGES_PER_UPLOAD',
    arg: 'n',
    help: 'changes in one uploadChanges',
    int: { default: 1000, min: 1, max: 100_000 },
  },
  downloadBatchSize: {
    flag: 'download-batch-size',
    env: 'DOWNLOAD_BATCH_SIZE',
    arg: 'n',
    help: 'history entries read per download batch',
    int: { default: 200, min: 1, max: 10_000 },
  },
  keepAliveMs: {
    flag: 'keep-alive-ms',
    env: 'KEEP_ALIVE_MS',
    arg: 'ms',
    help: 'graphql-ws ping interval (a peer silent for two is dropped)',
    int: ms(50, 600_000, 10_000),
  },
  maxOfflineMs: {
    flag: 'max-offline-ms',
    env: 'MAX_OFFLINE_MS',
    arg: 'ms',
    help: 'clients offline longer must reset',
    int: ms(1000, 3650 * DAY_MS, 30 * DAY_MS, '30 days'),
  },
  compactIntervalMs: {
    flag: 'compact-interval-ms',
    env: 'COMPACT_INTERVAL_MS',
    arg: 'ms',
    help: 'how often expired sessions and history are swept',
    int: ms(1000, 30 * DAY_MS, 60 * 60 * 1000, '1 hour'),
  },
  cursorRefreshMs: {
    flag: 'cursor-refresh-ms',
    env: 'CURSOR_REFRESH_MS',
    arg: 'ms',
    help: "an idle stream's empty batch, to move its cursor",
    int: ms(10, 30 * DAY_MS, 30_000),
  },
  multiGateway: {
    flag: 'multi-gateway',
    env: 'MULTI_GATEWAY',
    help: 'several gateway processes share the SQLite file',
    shown: 'false',
  },
  writerThread: {
    flag: 'writer-thread',
    env: 'WRITER_THREAD',
    help: 'SQLite writes and their fsyncs on a thread of their own, off the event loop',
    shown: 'true',
  },
  graphiql: {
    flag: 'graphiql',
    env: 'GRAPHIQL',
    help: 'GraphiQL at /graphql',
    shown: 'true; false with NODE_ENV=production',
  },
  introspection: {
    flag: 'introspection',
    env: 'INTROSPECTION',
    help: 'introspection queries (__schema, __type)',
    shown: 'true; false with NODE_ENV=production',
  },
  maxClockSkewMs: {
    flag: 'max-clock-skew-ms',
    env: 'MAX_CLOCK_SKEW_MS',
    arg: 'ms',
    help: "how far ahead of the gateway's clock a changeset's timestamp may be",
    int: ms(0, DAY_MS, 5 * 60 * 1000, '5 minutes'),
  },
  userOpsPerSecond: {
    flag: 'user-ops-per-second',
    env: 'USER_OPS_PER_SECOND',
    arg: 'n',
    help: 'operations per second one user may start; 0: no limit',
    int: { default: 1000, min: 0, max: 1_000_000 },
  },
  clientChangesetsPerSecond: {
    flag: 'client-changesets-per-second',
    env: 'CLIENT_CHANGESETS_PER_SECOND',
    arg: 'n',
    help: 'changesets per second one client may upload; 0: no limit',
    int: { default: 1000, min: 0, max: 1_000_000 },
  },
  maxSocketsPerUser: {
    flag: 'max-sockets-per-user',
    env: 'MAX_SOCKETS_PER_USER',
    arg: 'n',
    help: 'graphql-ws sockets one user may hold open; 0: no limit',
    int: { default: 100, min: 0, max: 1_000_000 },
  },
  maxOperationsPerSocket: {
    flag: 'max-operations-per-socket',
    env: 'MAX_OPERATIONS_PER_SOCKET',
    arg: 'n',
    help: 'operations one graphql-ws socket runs at once; more wait for a slot',
    int: { default: 200, min: 1, max: 100_000 },
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout-ms',
    env: 'SHUTDOWN_TIMEOUT_MS',
    arg: 'ms',
    help: 'after SIGTERM, how long in-flight work may take before connections are cut',
    int: ms(0, 600_000, 10_000),
  },
  metricsToken: {
    flag: 'metrics-token',
    env: 'METRICS_TOKEN',
    arg: 'token',
    help: 'GET /metrics requires Authorization: Bearer <token>',
    shown: 'none: /metrics is open',
  },
} satisfies Record<string, Setting>;

type Key = keyof typeof SETTINGS;
type Raw = Partial<Record<Key, string>>;

const setting = (key: Key): Setting => SETTINGS[key];
const KEYS = Object.keys(SETTINGS) as Key[];

/** The setting's help default: `10000`, `2592000000 (30 days)`, or its text. */
function shownDefault(s: Setting): string | undefined {
  if (!s.int) return s.shown;
  return s.int.unit ? `${s.int.default} (${s.int.unit})` : String(s.int.default);
}

function settingOption(key: Key): EnvOption {
  const s = setting(key);
  const flags = s.arg ? `--${s.flag} <${s.arg}>` : `--${s.flag} [bool]`;
  return new EnvOption(flags, s.help, { env: s.env, default: shownDefault(s) });
}

/** Adds an option per setting (`--port <n>`; a switch takes an optional true or false). */
export function addSettingOptions(command: Command): Command {
  for (const key of KEYS) command.addOption(settingOption(key));
  return command;
}

function intSetting(raw: Raw, key: Key): number {
  const { int, flag, env } = setting(key);
  const text = raw[key];
  if (text === undefined) return int!.default;
  const value = Number(text);
  if (!Number.isInteger(value) || value < int!.min || value > int!.max) {
    throw new ConfigError(
      `--${flag} / ${env}: "${text}" is not a whole number from ${int!.min} to ${int!.max}`,
    );
  }
  return value;
}

function boolSetting(raw: Raw, key: Key, fallback = false): boolean {
  const text = raw[key];
  if (text === undefined) return fallback;
  if (text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  const s = setting(key);
  throw new ConfigError(`--${s.flag} / ${s.env}: "${text}" is not true or false`);
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

/** Validates the settings of a parsed start command (flags, else `env`); throws ConfigError. */
export function configFromOptions(command: Command, env: NodeJS.ProcessEnv): GatewayConfig {
  const raw: Raw = {};
  for (const key of KEYS) {
    const value = optionValue(command, settingOption(key).attributeName(), env);
    if (value !== undefined) raw[key] = String(value); // a bare switch is `true`
  }
  return validate(raw, env);
}

function validate(raw: Raw, env: NodeJS.ProcessEnv): GatewayConfig {
  const development = env.NODE_ENV !== 'production';
  if (raw.jwtSecret !== undefined && raw.jwtSecret.length < 32) {
    throw new ConfigError('--jwt-secret / JWT_SECRET: must be at least 32 characters for HS256');
  }
  return {
    port: intSetting(raw, 'port'),
    host: raw.host ?? '0.0.0.0',
    jwtSecret: raw.jwtSecret ?? null,
    dataDir: raw.dataDir ?? './data',
    store: storeSetting(raw),
    mongodbUri: raw.mongodbUri ?? null,
    mongodbDb: raw.mongodbDb ?? 'sync_gateway',
    sqliteFile: raw.sqliteFile ?? null,
    rulesFile: raw.rulesFile ?? null,
    maxDocumentBytes: intSetting(raw, 'maxDocumentBytes'),
    maxChangesPerUpload: intSetting(raw, 'maxChangesPerUpload'),
    downloadBatchSize: intSetting(raw, 'downloadBatchSize'),
    keepAliveMs: intSetting(raw, 'keepAliveMs'),
    maxOfflineMs: intSetting(raw, 'maxOfflineMs'),
    compactIntervalMs: intSetting(raw, 'compactIntervalMs'),
    cursorRefreshMs: intSetting(raw, 'cursorRefreshMs'),
    multiGateway: boolSetting(raw, 'multiGateway'),
    writerThread: boolSetting(raw, 'writerThread', true),
    graphiql: boolSetting(raw, 'graphiql', development),
    introspection: boolSetting(raw, 'introspection', development),
    maxClockSkewMs: intSetting(raw, 'maxClockSkewMs'),
    userOpsPerSecond: intSetting(raw, 'userOpsPerSecond'),
    clientChangesetsPerSecond: intSetting(raw, 'clientChangesetsPerSecond'),
    maxSocketsPerUser: intSetting(raw, 'maxSocketsPerUser'),
    maxOperationsPerSocket: intSetting(raw, 'maxOperationsPerSocket'),
    shutdownTimeoutMs: intSetting(raw, 'shutdownTimeoutMs'),
    metricsToken: raw.metricsToken ?? null,
  };
}

/**
 * Parses the start command's arguments (`--port 5000 ...`, no command name) over `env`
 * and validates them; throws ConfigError naming the bad setting (or commander's reason).
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): GatewayConfig {
  const command = addSettingOptions(new Command('start'));
  parseQuietly(command, argv, (message) => new ConfigError(message));
  return configFromOptions(command, env);
}

/** The environment variables the gateway reads its settings from. */
export const SETTING_VARIABLES: readonly string[] = KEYS.map((key) => setting(key).env);
