/**
 * Fan-out: N sessions (one user and one graphql-ws socket each, in client processes) follow
 * `changes` on a collection every user reads; a writer uploads one-change changesets at a
 * fixed rate. Each delivery's latency is its receipt minus the writer's send time (the
 * monotonic clock, shared by the processes). Floor: a bare graphql-ws server sending each
 * event, serialized once, to as many sockets (floor-fanout.ts), measured by the same clients.
 * Then a reconnect storm: every socket closes, and the same clients connect again, reopen
 * their sessions and follow `changes` from the newest version they received.
 */
import { benchToken } from './gateway.js';
import { closeAll, connectAll, receivers, startFleet, type Fleet } from './fleet.js';
import type { ServerMode } from './fanout-protocol.js';
import { Writer } from './fanout-writer.js';
import { PROGRESS_S } from './progress.js';
import { fmt, percentileSorted } from './stats.js';

export interface FanoutSettings {
  sizes: number[];
  changesPerSec: number;
  warmupChanges: number;
  measuredChanges: number;
  /** How long deliveries may keep arriving after the last upload's ack. */
  drainMs: number;
  /** Sessions sharing one socket (BENCH_FANOUT_SESSIONS_PER_SOCKET); 1: one socket each. */
  sessionsPerSocket: number;
  /** Each session acknowledges each batch as the SDK does (BENCH_FANOUT_ACK=1). */
  ack: boolean;
}

export interface FanoutRun {
  p50: number;
  p99: number;
  setupS: number;
  /** The reconnect storm: every socket closed, then the same clients connect again. */
  reconnectS: number;
  received: number;
  expected: number;
  /** Acknowledgements answered (with `ack`). */
  acks: number;
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
  reconnectS: number;
  floorReconnectS: number;
  /** Deliveries received / expected (1 = every session got every change). */
  delivered: number;
  floorDelivered: number;
  /** Acknowledgements answered per session (BENCH_FANOUT_ACK), gateway and floor. */
  acksPerSession: number;
  floorAcksPerSession: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A progress line of the runner (BENCH_FANOUT_PROGRESS), at most one per PROGRESS_S. */
let lastNote = 0;
function note(line: string, always = false): void {
  if (!PROGRESS_S || (!always && Date.now() - lastNote < PROGRESS_S * 1000)) return;
  lastNote = Date.now();
  console.log(`  [runner] ${line}`);
}

/** Waits until the clients hold every expected delivery, or nothing arrives for 10 s. */
async function drain(fleet: Fleet, expected: number, drainMs: number): Promise<void> {
  const deadline = Date.now() + drainMs;
  let [last, lastAt] = [-1, Date.now()];
  while (Date.now() < deadline && Date.now() - lastAt < 10_000) {
    const counts = await Promise.all(fleet.clients.map((c) => c.call({ type: 'count' }, 'count')));
    const received = counts.reduce((sum, c) => sum + c.received, 0);
    if (PROGRESS_S) note(`drain: ${fmt.int(received)} of ${fmt.int(expected)} received`);
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
  const acks = parts.reduce((n, p) => n + p.acks, 0);
  return { sorted: all, short, acks, errors: [...new Set(parts.flatMap((p) => p.errors))] };
}

function warnLoudly(label: string, lines: string[]): void {
  if (lines.length === 0) return;
  console.warn(`\n!!!!! WARNING (${label}) !!!!!\n${lines.map((l) => `!!! ${l}`).join('\n')}\n`);
}

/**
 * BENCH_PROFILE_PHASE: what the profile covers: the measured changes (by default), `setup`
 * (sockets, sessions, first batch) or `reconnect` (the same, for sessions reopened).
 */
const PROFILE_PHASE = process.env.BENCH_PROFILE_PHASE ?? 'changes';

/** Runs `run` under the gateway's profiler, writing the profile to `path`, if one is given. */
async function profiled<T>(fleet: Fleet, path: string | null, run: () => Promise<T>) {
  if (path) await fleet.server.call({ type: 'profile-start' }, 'profiling');
  const out = await run();
  if (path) await fleet.server.call({ type: 'profile-stop', path }, 'profiled');
  return out;
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
  const { sessionsPerSocket, ack } = settings;
  const sockets = Math.ceil(size / sessionsPerSocket);
  const fleet = await startFleet(mode, sockets, size);
  try {
    const users = await receivers('fan-user', 0, size);
    note(
      `${mode}, ${fmt.int(size)} sessions on ${fmt.int(sockets)} sockets` +
        `${ack ? ', acknowledging' : ''}: ${fleet.clients.length} client processes`,
      true,
    );
    const options = { sessionsPerSocket, ack };
    // BENCH_FANOUT_THREE=1: progress and connection state too (the floor completes those).
    const kind = process.env.BENCH_FANOUT_THREE === '1' ? 'three' : 'changes';
    const at = (phase: string) => (PROFILE_PHASE === phase ? profile : null);
    const writeProfile = at('changes');
    const setupS = await profiled(fleet, at('setup'), () =>
      connectAll(fleet, kind, users, settings.warmupChanges + 1, options),
    );
    note(`set up in ${setupS.toFixed(1)} s; writing`, true);
    const { writer, errors, profiling } = await write(fleet, settings, writeProfile);
    note(`writer done (${errors.length} errors); draining`, true);
    const expected = size * settings.measuredChanges;
    await drain(fleet, expected, settings.drainMs);
    if (profiling) await profiling;
    if (writeProfile) {
      await fleet.server.call({ type: 'profile-stop', path: writeProfile }, 'profiled');
    }
    const collected = await collect(fleet, settings.measuredChanges);
    const { sorted, short, acks, errors: clientErrors } = collected;
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
    await closeAll(fleet);
    note('reconnecting every socket', true);
    const past = settings.warmupChanges + settings.measuredChanges + 1;
    const reconnectS = await profiled(fleet, at('reconnect'), () =>
      connectAll(fleet, kind, users, past, options),
    );
    return { p50, p99, setupS, reconnectS, received, expected, acks };
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
    reconnectS: gw.reconnectS,
    floorReconnectS: floor.reconnectS,
    acksPerSession: gw.acks / size,
    floorAcksPerSession: floor.acks / size,
    delivered: gw.received / gw.expected,
    floorDelivered: floor.received / floor.expected,
  };
}
