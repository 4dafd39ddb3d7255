/**
 * Fan-out: N sessions (one user and one graphql-ws socket each, in client processes) follow
 * `changes` on a collection every user reads; a writer uploads one-change changesets at a
 * fixed rate. Each delivery's latency is its receipt minus the writer's send time (the
 * monotonic clock, shared by the processes). Floor: a bare graphql-ws server sending each
 * event, serialized once, to as many sockets (floor-fanout.ts), measured by the same clients.
 */
import { benchToken } from './gateway.js';
import { connectAll, receivers, startFleet, type Fleet } from './fleet.js';
import type { ServerMode } from './fanout-protocol.js';
import { Writer } from './fanout-writer.js';
import { fmt, percentileSorted } from './stats.js';

export interface FanoutSettings {
  sizes: number[];
  changesPerSec: number;
  warmupChanges: number;
  measuredChanges: number;
  /** How long deliveries may keep arriving after the last upload's ack. */
  drainMs: number;
}

export interface FanoutRun {
  p50: number;
  p99: number;
  setupS: number;
  received: number;
  expected: number;
}

export interface FanoutRep {
  p50: number;
  p99: number;
  floorP50: number;
  floorP99: number;
  ratioP50: number;
  ratioP99: number;
  setupS: number;
  floorSetupS: number;
  /** Deliveries received / expected (1 = every session got every change). */
  delivered: number;
  floorDelivered: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the clients hold every expected delivery, or nothing arrives for 10 s. */
async function drain(fleet: Fleet, expected: number, drainMs: number): Promise<void> {
  const deadline = Date.now() + drainMs;
  let [last, lastAt] = [-1, Date.now()];
  while (Date.now() < deadline && Date.now() - lastAt < 10_000) {
    const counts = await Promise.all(fleet.clients.map((c) => c.call({ type: 'count' }, 'count')));
    const received = counts.reduce((sum, c) => sum + c.received, 0);
    if (received >= expected) return;
    if (received !== last) [last, lastAt] = [received, Date.now()];
    await sleep(250);
  }
}

async function collect(fleet: Fleet, perSession: number) {
  const command = { type: 'collect', expectedPerSession: perSession } as const;
  const parts = await Promise.all(fleet.clients.map((c) => c.call(command, 'collected')));
  const all = new Float64Array(parts.reduce((n, p) => n + p.latencies.length, 0));
  parts.reduce((at, p) => (all.set(p.latencies, at), at + p.latencies.length), 0);
  all.sort();
  const short = parts.reduce((n, p) => n + p.short, 0);
  return { sorted: all, short, errors: [...new Set(parts.flatMap((p) => p.errors))] };
}

function warnLoudly(label: string, lines: string[]): void {
  if (lines.length === 0) return;
  console.warn(`\n!!!!! WARNING (${label}) !!!!!\n${lines.map((l) => `!!! ${l}`).join('\n')}\n`);
}

/** Uploads the warm-up and then the measured changes; profiles the gateway meanwhile. */
async function write(fleet: Fleet, settings: FanoutSettings, profile: string | null) {
  const writer = await Writer.open(fleet.wsUrl, await benchToken('fan-writer'), 'fan-writer');
  const interval = 1000 / settings.changesPerSec;
  const next = await writer.run(settings.warmupChanges, interval);
  const profiling = profile ? fleet.server.call({ type: 'profile-start' }, 'profiling') : null;
  await writer.run(settings.measuredChanges, interval, next);
  const errors = await writer.settled();
  return { writer, errors, profiling };
}

export async function fanoutRun(
  mode: ServerMode,
  size: number,
  settings: FanoutSettings,
  profile: string | null = null,
): Promise<FanoutRun> {
  const fleet = await startFleet(mode, size);
  try {
    const users = await receivers('fan-user', 0, size);
    const setupS = await connectAll(fleet, 'changes', users, settings.warmupChanges + 1);
    const { writer, errors, profiling } = await write(fleet, settings, profile);
    const expected = size * settings.measuredChanges;
    await drain(fleet, expected, settings.drainMs);
    if (profiling) await profiling;
    if (profile) await fleet.server.call({ type: 'profile-stop', path: profile }, 'profiled');
    const { sorted, short, errors: clientErrors } = await collect(fleet, settings.measuredChanges);
    await writer.dispose();
    const received = sorted.length;
    warnLoudly(`${mode}, ${size} sessions`, [
      ...(received < expected
        ? [`only ${fmt.int(received)} of ${fmt.int(expected)} deliveries (${short} sessions short)`]
        : []),
      ...errors.slice(0, 5).map((e) => `writer: ${e}`),
      ...clientErrors.map((e) => `client: ${e}`),
    ]);
    const [p50, p99] = [percentileSorted(sorted, 50), percentileSorted(sorted, 99)];
    return { p50, p99, setupS, received, expected };
  } finally {
    await fleet.stop();
  }
}

/** One repetition at one size: the gateway, then the floor. */
export async function fanoutRep(
  size: number,
  settings: FanoutSettings,
  profile: string | null,
): Promise<FanoutRep> {
  const gw = await fanoutRun('gateway', size, settings, profile);
  const floor = await fanoutRun('fanout-floor', size, settings);
  return {
    p50: gw.p50,
    p99: gw.p99,
    floorP50: floor.p50,
    floorP99: floor.p99,
    ratioP50: gw.p50 / floor.p50,
    ratioP99: gw.p99 / floor.p99,
    setupS: gw.setupS,
    floorSetupS: floor.setupS,
    delivered: gw.received / gw.expected,
    floorDelivered: floor.received / floor.expected,
  };
}
