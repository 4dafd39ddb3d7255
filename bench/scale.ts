/**
 * The scale scenarios of `npm run bench` (issue 14): fan-out at several session counts and
 * memory per session, each beside its floor; their repetitions, log lines, summary rows and
 * results. BENCH_PROFILE=1 profiles the gateway in the first fan-out repetition
 * (BENCH_PROFILE=alloc: its allocations).
 */
import { fanoutRep, type FanoutRep, type FanoutSettings } from './fanout.js';
import { memoryRep, type MemoryRep, type MemorySettings } from './memory.js';
import { topOfProfile } from './profile-top.js';
import { PROFILE_EXT } from './profiler.js';
import { fmt, median, medianOf, spread } from './stats.js';

const sizesEnv = process.env.BENCH_FANOUT_SIZES;
export const FANOUT: FanoutSettings = {
  sizes: sizesEnv ? sizesEnv.split(',').map(Number) : [1000, 5000, 10_000],
  changesPerSec: 10,
  warmupChanges: 20,
  measuredChanges: 100,
  drainMs: 60_000,
  sessionsPerSocket: Number(process.env.BENCH_FANOUT_SESSIONS_PER_SOCKET ?? 1),
  ack: process.env.BENCH_FANOUT_ACK === '1',
};
export const MEMORY: MemorySettings = {
  sessions: Number(process.env.BENCH_MEMORY_SESSIONS ?? 5000),
  warmupSockets: 50,
  settleMs: 2000,
};
const PROFILE = PROFILE_EXT !== null;

/** Per size, the fan-out repetitions. */
export type FanoutReps = Record<number, FanoutRep[]>;

const s = (x: number) => `${x.toFixed(1)} s`;
const k = (n: number) => `${n / 1000}k`;
const pctDelivered = (x: number) => `${(x * 100).toFixed(x < 1 ? 2 : 0)}%`;

function logFanout(rep: number, size: number, r: FanoutRep): void {
  console.log(
    `  rep ${rep + 1}, ${fmt.int(size)} sessions: p50 ${fmt.ms(r.p50)} p99 ${fmt.ms(r.p99)},` +
      ` floor p50 ${fmt.ms(r.floorP50)} p99 ${fmt.ms(r.floorP99)}, ratio p50 ${fmt.ratio(r.ratioP50)}` +
      ` p99 ${fmt.ratio(r.ratioP99)}; setup ${s(r.setupS)} (floor ${s(r.floorSetupS)});` +
      ` reconnect ${s(r.reconnectS)} (floor ${s(r.floorReconnectS)});` +
      ` delivered ${pctDelivered(r.delivered)} (floor ${pctDelivered(r.floorDelivered)})` +
      (FANOUT.ack
        ? `; acks/session ${r.acksPerSession.toFixed(1)} (floor ${r.floorAcksPerSession.toFixed(1)})`
        : ''),
  );
}

function profilePath(rep: number, size: number): string | null {
  return PROFILE && rep === 0 ? `.bench/fanout-gateway-${size}${PROFILE_EXT}` : null;
}

export async function runFanout(reps: number): Promise<FanoutReps> {
  const { changesPerSec: rate, measuredChanges: n } = FANOUT;
  console.log(
    `5. fan-out: ${FANOUT.sizes.map(k).join(', ')} sessions following changes,` +
      ` ${rate} one-change changesets/s, ${n / rate} s measured` +
      (FANOUT.sessionsPerSocket > 1 ? `, ${FANOUT.sessionsPerSocket} sessions per socket` : '') +
      (FANOUT.ack ? ', each batch acknowledged (acknowledgeDownload, as the SDK)' : ''),
  );
  const out: FanoutReps = Object.fromEntries(FANOUT.sizes.map((size) => [size, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const size of FANOUT.sizes) {
      const profile = profilePath(rep, size);
      const r = await fanoutRep(size, FANOUT, profile);
      out[size]!.push(r);
      logFanout(rep, size, r);
      if (profile) console.log(`\n${topOfProfile(profile, 25)}\n`);
    }
  }
  return out;
}

export async function runMemory(reps: number): Promise<MemoryRep[]> {
  console.log(`6. memory per session: ${fmt.int(MEMORY.sessions)} sockets, heap after GC`);
  const out: MemoryRep[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const r = await memoryRep(MEMORY);
    out.push(r);
    console.log(
      `  rep ${rep + 1}: ${r.gatewayKib.toFixed(1)} KiB/session (3 subscriptions),` +
        ` floor ${r.floorKib.toFixed(1)} KiB (1), ratio ${fmt.ratio(r.ratio)};` +
        ` setup ${s(r.gatewaySetupS)} (floor ${s(r.floorSetupS)})`,
    );
  }
  return out;
}

const range = <T>(reps: T[], pick: (r: T) => number) => spread(reps.map(pick), fmt.ratio);

export function fanoutRows(reps: FanoutReps): string[][] {
  return Object.entries(reps).flatMap(([size, rs]) => {
    const m = medianOf(rs);
    const name = `5. fan-out ${k(Number(size))}`;
    const setup = (r: FanoutRep) => r.setupS / r.floorSetupS;
    const reconnect = (r: FanoutRep) => r.reconnectS / r.floorReconnectS;
    const rows: [string, string, string, (r: FanoutRep) => number][] = [
      [`${name} p50`, fmt.ms(m.p50), fmt.ms(m.floorP50), (r) => r.ratioP50],
      [`${name} p99`, fmt.ms(m.p99), fmt.ms(m.floorP99), (r) => r.ratioP99],
      [`${name} setup`, s(m.setupS), s(m.floorSetupS), setup],
      [`${name} reconnect`, s(m.reconnectS), s(m.floorReconnectS), reconnect],
    ];
    return rows.map(([label, gw, floor, ratio]) => [
      label,
      gw,
      floor,
      fmt.ratio(median(rs.map(ratio))),
      range(rs, ratio),
    ]);
  });
}

export function memoryRows(reps: MemoryRep[]): string[][] {
  const m = medianOf(reps);
  const kib = (x: number) => `${x.toFixed(1)} KiB`;
  return [
    [
      `6. memory/session ${k(MEMORY.sessions)}`,
      kib(m.gatewayKib),
      kib(m.floorKib),
      fmt.ratio(m.ratio),
      range(reps, (r) => r.ratio),
    ],
  ];
}

/** Sizes at which some repetition missed deliveries (gateway or floor). */
function missedAt(fanout: FanoutReps): string[] {
  const missed = (rs: FanoutRep[]) => rs.some((r) => r.delivered < 1 || r.floorDelivered < 1);
  return Object.entries(fanout)
    .filter(([, rs]) => missed(rs))
    .map(([size]) => size);
}

export function scaleNotes(fanout: FanoutReps | null, memory: MemoryRep[] | null): string[] {
  const notes: string[] = [];
  if (fanout) {
    notes.push(
      `5: floor = a bare graphql-ws server, each event serialized once, same sockets and rate;` +
        ` setup = sockets + sessions + first batch;` +
        ` reconnect = every socket closed, then the same clients reopen their sessions`,
    );
    const missed = missedAt(fanout);
    if (missed.length)
      notes.push(`!!! WARNING: deliveries missed at ${missed.join(', ')} sessions`);
  }
  if (memory) {
    notes.push(`6: floor = yoga + graphql-ws, 1 trivial subscription per socket; goal ≤ 32 KiB`);
  }
  return notes;
}
