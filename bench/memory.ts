/**
 * Memory per session: the server process's heap after full collections, once with
 * `sessions` sockets each holding a session and 3 subscriptions (changes, progress,
 * connectionStateChanges), minus before those sockets, per socket. Floor: yoga + graphql-ws
 * with one trivial subscription per socket (floor-yoga.ts), measured the same way.
 */
import { join } from 'node:path';
import { closeAll, connectAll, receivers, startFleet, type Fleet } from './fleet.js';
import type { ServerMode, SocketKind } from './fanout-protocol.js';

export interface MemorySettings {
  sessions: number;
  /** Sockets opened and closed before the first measurement (code, caches, pools). */
  warmupSockets: number;
  /** Quiet time before each measurement. */
  settleMs: number;
}

export interface MemoryRun {
  kib: number;
  externalKib: number;
  setupS: number;
}

export interface MemoryRep {
  gatewayKib: number;
  floorKib: number;
  ratio: number;
  gatewayExternalKib: number;
  floorExternalKib: number;
  gatewaySetupS: number;
  floorSetupS: number;
}

/**
 * What each gateway socket holds: `three` (the scenario); BENCH_MEMORY_KIND=changes measures
 * a session with `changes` alone, to tell one subscription's share.
 */
const GATEWAY_KIND: SocketKind = process.env.BENCH_MEMORY_KIND === 'changes' ? 'changes' : 'three';

/** With BENCH_MEMORY_SNAPSHOTS=dir, heap snapshots around the sockets (bench/heap-diff.ts). */
const SNAPSHOTS = process.env.BENCH_MEMORY_SNAPSHOTS;

async function snapshot(fleet: Fleet, mode: ServerMode, when: string): Promise<void> {
  if (!SNAPSHOTS) return;
  const path = join(SNAPSHOTS, `${mode}-${when}.heapsnapshot`);
  await fleet.server.call({ type: 'snapshot', path }, 'snapshotted');
  console.log(`  heap snapshot: ${path}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function memoryRun(
  mode: ServerMode,
  kind: SocketKind,
  settings: MemorySettings,
): Promise<MemoryRun> {
  const fleet = await startFleet(mode, settings.sessions);
  try {
    await connectAll(fleet, kind, await receivers('mem-warm', 0, settings.warmupSockets));
    await closeAll(fleet);
    const users = await receivers('mem-user', 0, settings.sessions);
    await sleep(settings.settleMs);
    const before = await fleet.server.call({ type: 'heap' }, 'heap');
    await snapshot(fleet, mode, 'before');
    const setupS = await connectAll(fleet, kind, users);
    await sleep(settings.settleMs);
    const after = await fleet.server.call({ type: 'heap' }, 'heap');
    await snapshot(fleet, mode, 'after');
    const per = (bytes: number) => bytes / settings.sessions / 1024;
    return {
      kib: per(after.heapUsed - before.heapUsed),
      externalKib: per(after.external - before.external),
      setupS,
    };
  } finally {
    await fleet.stop();
  }
}

export async function memoryRep(settings: MemorySettings): Promise<MemoryRep> {
  const gateway = await memoryRun('gateway', GATEWAY_KIND, settings);
  const floor = await memoryRun('memory-floor', 'tick', settings);
  return {
    gatewayKib: gateway.kib,
    floorKib: floor.kib,
    ratio: gateway.kib / floor.kib,
    gatewayExternalKib: gateway.externalKib,
    floorExternalKib: floor.externalKib,
    gatewaySetupS: gateway.setupS,
    floorSetupS: floor.setupS,
  };
}
