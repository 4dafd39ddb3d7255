/**
 * The real gateway, started in-process on a file store in a fresh temp dir (WAL,
 * synchronous=FULL, real fsync), with a count of its group commits. It is the build in dist/
 * that `npm start` runs (gateway-modules.ts; BENCH_GATEWAY=src for the sources under tsx). Its
 * writes run on the writer thread, as by default; BENCH_WRITER_THREAD=false runs them on the
 * event loop, and BENCH_DEFERRED_SYNC=1 then gives it a store whose group commits are
 * fsync'd off the event loop (SqliteStore's `deferredSync`, which the deployment does not
 * turn on by itself).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import type { Gateway } from '../src/server/gateway.js';
import { loadConfig, mintToken, SqliteStore, startGateway } from './gateway-modules.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123';

/** Commits the store ran, the integrations they carried, and the ms spent in them. */
export interface GroupStats {
  groups: number;
  jobs: number;
  commitMs: number;
}

export interface BenchGateway {
  gateway: Gateway;
  dataDir: string;
  /** Null when the store has no writer's `integrateGroup` to observe (then the group size is unknown). */
  groups: GroupStats | null;
  token(userId: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Counts the SQLite store's group commits by wrapping its writer's `integrateGroup(jobs)`
 * on this instance (the store calls it as `this.writer.integrateGroup`, so the wrapper sees
 * every group), timing each until its outcomes are back: on the writer thread, the time a
 * group is in flight.
 */
function watchGroups(store: unknown): GroupStats | null {
  const writer = (store as { writer?: { integrateGroup?: (jobs: unknown[]) => unknown } }).writer;
  const original = writer?.integrateGroup;
  if (!writer || typeof original !== 'function') return null;
  const stats: GroupStats = { groups: 0, jobs: 0, commitMs: 0 };
  writer.integrateGroup = async (jobs) => {
    const start = performance.now();
    try {
      return await original.call(writer, jobs);
    } finally {
      stats.groups += 1;
      stats.jobs += jobs.length;
      stats.commitMs += performance.now() - start;
    }
  };
  return stats;
}

/** A bench token, valid for every bench gateway (they share the secret). */
export const benchToken = (userId: string): Promise<string> => mintToken(SECRET, userId);

export interface BenchGatewayOptions {
  /** Rules (the rules file's JSON), written to the temp dir as RULES_FILE; none: ownership. */
  rules?: object;
}

/** RULES_FILE's variable for `rules`, written into the data dir. */
function rulesEnv(dataDir: string, rules?: object): Record<string, string> {
  if (!rules) return {};
  const file = join(dataDir, 'rules.json');
  writeFileSync(file, JSON.stringify(rules));
  return { RULES_FILE: file };
}

export async function startBenchGateway(options: BenchGatewayOptions = {}): Promise<BenchGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-gw-bench-'));
  // A benchmark is one client (or user) at full speed, not abuse: no rate limits.
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: SECRET,
    DATA_DIR: dataDir,
    USER_OPS_PER_SECOND: '0',
    CLIENT_CHANGESETS_PER_SECOND: '0',
    MAX_SOCKETS_PER_USER: '0',
    WRITER_THREAD: process.env.BENCH_WRITER_THREAD ?? 'true',
    ...rulesEnv(dataDir, options.rules),
  };
  const deferredSync = process.env.BENCH_DEFERRED_SYNC === '1';
  const store = deferredSync
    ? new SqliteStore(join(dataDir, 'gateway.sqlite'), { deferredSync })
    : undefined;
  const logger = pino({ level: 'silent' });
  const gateway = await startGateway(loadConfig([], env), { logger, store });
  const groups = watchGroups(gateway.core.store);
  if (!groups)
    console.warn('bench: store has no writer to watch; group size taken as the client count');
  return {
    gateway,
    dataDir,
    groups,
    token: benchToken,
    close: async () => {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
