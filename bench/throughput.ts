/**
 * Scenario 1, sustained upload throughput: N clients (one user each) upload sequential
 * one-insert changesets over graphql-ws, each waiting for its ack before the next. Counted
 * on the server over a window after a warm-up; floor: the same number of small rows
 * inserted directly with better-sqlite3 in transactions of the gateway's mean group size.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { ClientProcess } from './client-driver.js';
import { batchedInsertRate } from './floor.js';
import { startBenchGateway, type BenchGateway, type GroupStats } from './gateway.js';

export interface ThroughputSettings {
  clients: number;
  warmupMs: number;
  windowMs: number;
}

export interface ThroughputRep {
  gatewayPerSec: number;
  floorPerSec: number;
  ratio: number;
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

async function connectClients(proc: ClientProcess, gw: BenchGateway, count: number) {
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const userId = `user-${i}`;
      return { userId, clientId: `load-${i}`, token: await gw.token(userId) };
    }),
  );
  await proc.call({ type: 'load-setup', wsUrl: gw.gateway.wsUrl, clients }, 'load-ready');
}

/** Runs the load; returns the server-side marks around the measured window. */
async function runLoad(proc: ClientProcess, gw: BenchGateway, settings: ThroughputSettings) {
  proc.send({ type: 'load-go' });
  await sleep(settings.warmupMs);
  const start = await mark(gw);
  await sleep(settings.windowMs);
  const end = await mark(gw);
  const done = await proc.call({ type: 'load-stop' }, 'load-done');
  if (done.errors.length > 0) {
    throw new Error(`${done.errors.length} uploads failed, e.g. ${done.errors[0]}`);
  }
  return { start, end, clientCpu: done.cpuMs / done.wallMs };
}

/** The window's figures; the floor inserts as many rows in groups of the same mean size. */
function summarize(start: Mark, end: Mark, clients: number): Omit<ThroughputRep, 'clientCpu'> {
  const ms = end.at - start.at;
  const changesets = end.version - start.version;
  const groups = end.groups.groups - start.groups.groups;
  const groupSize = groups > 0 ? (end.groups.jobs - start.groups.jobs) / groups : clients;
  const cpuMs = (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1000;
  const gatewayPerSec = changesets / (ms / 1000);
  const floorPerSec = batchedInsertRate(changesets, groupSize);
  return {
    gatewayPerSec,
    floorPerSec,
    ratio: gatewayPerSec / floorPerSec,
    changesets,
    groupSize,
    commitShare: (end.groups.commitMs - start.groups.commitMs) / ms,
    gatewayElu: performance.eventLoopUtilization(end.elu, start.elu).utilization,
    gatewayCpu: cpuMs / ms,
  };
}

export async function throughputRep(
  proc: ClientProcess,
  settings: ThroughputSettings,
): Promise<ThroughputRep> {
  const gw = await startBenchGateway();
  try {
    await connectClients(proc, gw, settings.clients);
    const { start, end, clientCpu } = await runLoad(proc, gw, settings);
    return { ...summarize(start, end, settings.clients), clientCpu };
  } finally {
    await gw.close();
  }
}
