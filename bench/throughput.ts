/**
 * Scenario 1, sustained upload throughput: N clients (one user each) upload sequential
 * one-insert changesets over graphql-ws, each waiting for its ack before the next. Counted
 * on the server over a window after a warm-up; floor: the same number of small rows
 * inserted directly with better-sqlite3 in transactions of the gateway's mean group size.
 * The batched variant (scenario 1b) uploads changesets of `changes` inserts each and counts
 * changes; its floor inserts the same rows in transactions of as many rows as its groups.
 *
 * BENCH_PROFILE=1 profiles the gateway over the first measured window (in this process):
 * the top self time, and the inclusive time of the upload path per changeset.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { ClientProcess } from './client-driver.js';
import { batchedInsertRate } from './floor.js';
import { startUploadFloor } from './floor-upload.js';
import { startBenchGateway, type BenchGateway, type GroupStats } from './gateway.js';
import { inclusiveTable, type FramePattern } from './profile-inclusive.js';
import { topOfProfile } from './profile-top.js';
import { PROFILE_EXT, startProfile, stopProfile } from './profiler.js';

export interface ThroughputSettings {
  clients: number;
  warmupMs: number;
  windowMs: number;
  /** Inserts per changeset; 1 unless given. */
  changes?: number;
}

export interface ThroughputRep {
  /** Changes (history entries) per second; changesets per second when each holds one. */
  gatewayPerSec: number;
  changesetsPerSec: number;
  floorPerSec: number;
  ratio: number;
  /** The same load's changes per second against the GraphQL floor (floor-upload.ts). */
  graphqlFloorPerSec: number;
  /** gatewayPerSec / graphqlFloorPerSec. */
  graphqlRatio: number;
  /** The GraphQL floor's event-loop utilisation, and the clients' CPU, over its window. */
  graphqlFloorElu: number;
  graphqlFloorClientCpu: number;
  changesets: number;
  groupSize: number;
  /** Share of the window the gateway's thread spent inside group commits (SQL + fsync). */
  commitShare: number;
  /** Event-loop utilisation of the gateway's thread (busy, including blocking fsync). */
  gatewayElu: number;
  /** CPU time of the gateway's process over the window, per second (1 = one core). */
  gatewayCpu: number;
  clientCpu: number;
}

interface Mark {
  at: number;
  version: number;
  groups: GroupStats;
  cpu: NodeJS.CpuUsage;
  elu: EventLoopUtilization;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mark(gw: BenchGateway): Promise<Mark> {
  return {
    at: performance.now(),
    version: await gw.gateway.core.store.latestVersion(),
    groups: { groups: 0, jobs: 0, commitMs: 0, ...gw.groups },
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
  };
}

async function connectClients(
  proc: ClientProcess,
  wsUrl: string,
  token: (userId: string) => Promise<string>,
  count: number,
  changes: number,
) {
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const userId = `user-${i}`;
      return { userId, clientId: `load-${i}`, token: await token(userId) };
    }),
  );
  const setup = { type: 'load-setup', wsUrl, clients, changes } as const;
  await proc.call(setup, 'load-ready');
}

/** Stops the client process's load; throws when an upload failed. */
async function stopLoad(proc: ClientProcess) {
  const done = await proc.call({ type: 'load-stop' }, 'load-done');
  if (done.errors.length > 0) {
    throw new Error(`${done.errors.length} uploads failed, e.g. ${done.errors[0]}`);
  }
  return done;
}

/** The same load against the GraphQL floor: its changes acknowledged per second. */
async function graphqlFloorRate(proc: ClientProcess, settings: ThroughputSettings) {
  const floor = await startUploadFloor();
  try {
    const token = async () => 'unchecked';
    await connectClients(proc, floor.wsUrl, token, settings.clients, settings.changes ?? 1);
    proc.send({ type: 'load-go' });
    await sleep(settings.warmupMs);
    const [at, from, elu] = [
      performance.now(),
      floor.changes(),
      performance.eventLoopUtilization(),
    ];
    await sleep(settings.windowMs);
    const rate = (floor.changes() - from) / ((performance.now() - at) / 1000);
    const busy = performance.eventLoopUtilization(elu).utilization;
    const done = await stopLoad(proc);
    return { rate, busy, clientCpu: done.cpuMs / done.wallMs };
  } finally {
    await floor.close();
  }
}

/** Runs the load; returns the server-side marks around the measured window. */
async function runLoad(
  proc: ClientProcess,
  gw: BenchGateway,
  settings: ThroughputSettings,
  profile: string | null,
) {
  proc.send({ type: 'load-go' });
  await sleep(settings.warmupMs);
  if (profile) await startProfile();
  const start = await mark(gw);
  await sleep(settings.windowMs);
  const end = await mark(gw);
  if (profile) await stopProfile(profile);
  const done = await stopLoad(proc);
  return { start, end, clientCpu: done.cpuMs / done.wallMs };
}

/** The window's figures; the floor inserts as many rows in groups of the same mean size. */
function summarize(
  start: Mark,
  end: Mark,
  clients: number,
  perChangeset: number,
): Omit<ThroughputRep, 'clientCpu' | `graphql${string}`> {
  const ms = end.at - start.at;
  const changes = end.version - start.version;
  const changesets = changes / perChangeset;
  const groups = end.groups.groups - start.groups.groups;
  const groupSize = groups > 0 ? (end.groups.jobs - start.groups.jobs) / groups : clients;
  const cpuMs = (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1000;
  const gatewayPerSec = changes / (ms / 1000);
  const floorPerSec = batchedInsertRate(changes, groupSize * perChangeset);
  return {
    gatewayPerSec,
    changesetsPerSec: changesets / (ms / 1000),
    floorPerSec,
    ratio: gatewayPerSec / floorPerSec,
    changesets,
    groupSize,
    commitShare: (end.groups.commitMs - start.groups.commitMs) / ms,
    gatewayElu: performance.eventLoopUtilization(end.elu, start.elu).utilization,
    gatewayCpu: cpuMs / ms,
  };
}

/** The frames of the upload path whose inclusive time the profile reports. */
export const UPLOAD_PATH: FramePattern[] = [
  { label: 'socket receive (ws frames → graphql-ws)', name: 'receiverOnMessage', file: 'ws/lib' },
  { label: '  graphql-ws onMessage', name: 'onMessage', file: 'graphql-ws' },
  { label: '    operation start (ws.ts: slot, parse, validate)', name: 'startOperation' },
  { label: '      upload size check', name: 'checkUploadSize', file: 'src/server/limits' },
  { label: '  repeated-field guard (request-guards.ts)', name: 'overRepeated' },
  { label: 'execute (graphql-tools)', name: 'execute', file: '@graphql-tools/executor' },
  { label: '  coerce variables', name: 'getVariableValues', file: '@graphql-tools/executor' },
  { label: '  resolver uploadChanges', name: /^(resolve)?$/, file: 'src/resolvers/upload' },
  { label: '    SyncCore.integrateUpload (up to the commit)', name: 'integrateUpload' },
  { label: '      session read (getDataSession)', name: 'getDataSession' },
  { label: '      validateChangesets', name: 'validateChangesets' },
  { label: 'group commit (GroupCommit.settle)', name: 'settle', file: 'group-commit' },
  { label: '  integrateGroup (SQL + COMMIT/fsync)', name: 'integrateGroup', file: 'sqlite-writes' },
  { label: '    integrateOne (per changeset, SQL)', name: 'integrateOne', file: 'sqlite-writes' },
  { label: '      integration plan', name: /^$|planIntegration/, file: 'src/sync/integrate' },
  { label: 'socket send (ws)', name: 'send', file: 'ws/lib/websocket' },
];

const PROFILE = PROFILE_EXT !== null;
let profiled = false;

/** One repetition: the gateway, then the same load against the GraphQL floor. */
export async function throughputRep(
  proc: ClientProcess,
  settings: ThroughputSettings,
): Promise<ThroughputRep> {
  const rep = await gatewayRate(proc, settings);
  const floor = await graphqlFloorRate(proc, settings);
  return {
    ...rep,
    graphqlFloorPerSec: floor.rate,
    graphqlRatio: rep.gatewayPerSec / floor.rate,
    graphqlFloorElu: floor.busy,
    graphqlFloorClientCpu: floor.clientCpu,
  };
}

async function gatewayRate(proc: ClientProcess, settings: ThroughputSettings) {
  const gw = await startBenchGateway();
  const profile = PROFILE && !profiled ? `.bench/throughput-gateway${PROFILE_EXT}` : null;
  profiled ||= profile !== null;
  try {
    const perChangeset = settings.changes ?? 1;
    const token = (userId: string) => gw.token(userId);
    await connectClients(proc, gw.gateway.wsUrl, token, settings.clients, perChangeset);
    const { start, end, clientCpu } = await runLoad(proc, gw, settings, profile);
    const rep = { ...summarize(start, end, settings.clients, perChangeset), clientCpu };
    if (profile) {
      console.log(`\n${topOfProfile(profile, 30)}\n`);
      console.log(`${inclusiveTable(profile, UPLOAD_PATH, rep.changesets, 'changeset')}\n`);
    }
    return rep;
  } finally {
    await gw.close();
  }
}
