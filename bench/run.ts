/**
 * `npm run bench`: the gateway's upload throughput and upload-to-event latency, each as
 * the median over repetitions and as a ratio to a floor measured in the same repetition
 * (shared machines are noisy; absolute figures alone do not compare across runs).
 * Prints a table and writes .bench/results.json. BENCH_REPS overrides the repetitions
 * (BENCH_SCALE_REPS those of fan-out and memory, default 3 at most); BENCH_ONLY picks
 * scenarios by name (throughput, batched, latency, live, backlog, catchup, fanout, memory,
 * bootstrap; comma-separated).
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ClientProcess } from './client-driver.js';
import { SERVER_FLAGS } from './fleet.js';
import { GATEWAY_FROM } from './gateway-modules.js';
import { latencyRep, type LatencyRep, type LatencySettings } from './latency.js';
import {
  backlogRep,
  catchUpRep,
  liveRep,
  type BacklogRep,
  type CatchUpRep,
  type LiveRep,
  type SdkSettings,
} from './sdk.js';
import { LINK_MS } from './sdk-clients.js';
import {
  FANOUT,
  fanoutRows,
  MEMORY,
  memoryRows,
  runFanout,
  runMemory,
  scaleNotes,
  type FanoutReps,
} from './scale.js';
import type { MemoryRep } from './memory.js';
import { benchBootstrapScope, type BootstrapScopeResult } from './bootstrap-scope.js';
import { runSelectiveWake, WAKE, wakeRows, type WakeRep } from './selective-wake.js';
import { fmt, medianOf, spread, table } from './stats.js';
import { throughputRep, type ThroughputRep, type ThroughputSettings } from './throughput.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SCALE_REPS = Number(process.env.BENCH_SCALE_REPS ?? Math.min(REPS, 3));
const SCENARIOS = [
  'throughput',
  'batched',
  'latency',
  'live',
  'backlog',
  'catchup',
  'fanout',
  'memory',
  'bootstrap',
  'wake',
] as const;
type Scenario = (typeof SCENARIOS)[number];
const THROUGHPUT: ThroughputSettings = { clients: 50, warmupMs: 1000, windowMs: 3000 };
/** Scenario 1b: the same clients, each changeset 100 inserts; counted in changes. */
const BATCHED: ThroughputSettings = { ...THROUGHPUT, changes: 100 };
const LATENCY: LatencySettings = { samples: 500, warmup: 50 };
const SDK: SdkSettings = {
  liveChanges: 10_000,
  catchUpSizes: [10_000, 20_000, 40_000, 100_000],
  backlogChanges: 10_000,
};

function logThroughput(i: number, r: ThroughputRep): void {
  const batched = r.gatewayPerSec !== r.changesetsPerSec;
  const rate = batched
    ? `${fmt.int(r.gatewayPerSec)} changes/s (${fmt.int(r.changesetsPerSec)} changesets/s)`
    : `${fmt.int(r.gatewayPerSec)} changesets/s`;
  console.log(
    `  rep ${i + 1}: ${rate}, floor ${fmt.int(r.floorPerSec)} rows/s,` +
      ` ratio ${fmt.ratio(r.ratio)}; GraphQL floor ${fmt.int(r.graphqlFloorPerSec)}/s` +
      ` (loop busy ${fmt.pct(r.graphqlFloorElu)}, clients CPU ${fmt.pct(r.graphqlFloorClientCpu)}),` +
      ` ratio ${fmt.ratio(r.graphqlRatio)}; group ${fmt.one(r.groupSize)}, in commits ${fmt.pct(r.commitShare)},` +
      ` gateway loop busy ${fmt.pct(r.gatewayElu)} CPU ${fmt.pct(r.gatewayCpu)}, clients CPU ${fmt.pct(r.clientCpu)}`,
  );
}

function logLatency(i: number, r: LatencyRep): void {
  console.log(
    `  rep ${i + 1}: p50 ${fmt.ms(r.p50)} p99 ${fmt.ms(r.p99)};` +
      ` round trip p50 ${fmt.ms(r.floorP50)} p99 ${fmt.ms(r.floorP99)}`,
  );
}

function logLive(i: number, r: LiveRep): void {
  console.log(
    `  rep ${i + 1}: SDK ${fmt.int(r.sdkPerSec)} changes/s, raw protocol ${fmt.int(r.rawPerSec)}/s,` +
      ` ratio ${fmt.ratio(r.ratio)}`,
  );
}

function logBacklog(i: number, r: BacklogRep): void {
  console.log(
    `  rep ${i + 1}: SDK ${fmt.int(r.sdkPerSec)} changes/s; raw one upload at a time` +
      ` ${fmt.int(r.oneAtATimePerSec)}/s (ratio ${fmt.ratio(r.ratio)}), two at a time` +
      ` ${fmt.int(r.twoAtATimePerSec)}/s (ratio ${fmt.ratio(r.ratioTwo)})`,
  );
}

function backlogRows(backlog: BacklogRep[]): string[][] {
  const b = medianOf(backlog);
  const row = (name: string, floor: number, pick: (r: BacklogRep) => number) => [
    name,
    fmt.int(b.sdkPerSec),
    fmt.int(floor),
    fmt.ratio(pick(b)),
    ratioRange(backlog, pick),
  ];
  return [
    row('3b. backlog, slow link, vs 1 at a time', b.oneAtATimePerSec, (r) => r.ratio),
    row('3b. backlog, slow link, vs 2 at a time', b.twoAtATimePerSec, (r) => r.ratioTwo),
  ];
}

function logCatchUp(i: number, r: CatchUpRep): void {
  const sizes = SDK.catchUpSizes.map(
    (n) => `${n / 1000}k SDK ${fmt.ms(r[`sdk${n}`]!)} raw ${fmt.ms(r[`raw${n}`]!)}`,
  );
  console.log(`  rep ${i + 1}: ${sizes.join('; ')}`);
}

async function repeat<T>(label: string, rep: () => Promise<T>, log: (i: number, r: T) => void) {
  console.log(label);
  const reps: T[] = [];
  for (let i = 0; i < REPS; i++) {
    reps.push(await rep());
    log(i, reps[i]!);
  }
  return reps;
}

const ratioRange = <T>(reps: T[], pick: (r: T) => number) => spread(reps.map(pick), fmt.ratio);

function throughputRows(throughput: ThroughputRep[], name = '1. upload throughput /s') {
  const t = medianOf(throughput);
  const tRatios = ratioRange(throughput, (r) => r.ratio);
  const gRatios = ratioRange(throughput, (r) => r.graphqlRatio);
  return [
    [name, fmt.int(t.gatewayPerSec), fmt.int(t.floorPerSec), fmt.ratio(t.ratio), tRatios],
    [
      `${name.replace(/ \/s$/, '')} vs GraphQL`,
      fmt.int(t.gatewayPerSec),
      fmt.int(t.graphqlFloorPerSec),
      fmt.ratio(t.graphqlRatio),
      gRatios,
    ],
  ];
}

function latencyRows(latency: LatencyRep[]): string[][] {
  const l = medianOf(latency);
  const [p50Ratios, p99Ratios] = [
    ratioRange(latency, (r) => r.ratioP50),
    ratioRange(latency, (r) => r.ratioP99),
  ];
  return [
    ['2. upload→event p50', fmt.ms(l.p50), fmt.ms(l.floorP50), fmt.ratio(l.ratioP50), p50Ratios],
    ['2. upload→event p99', fmt.ms(l.p99), fmt.ms(l.floorP99), fmt.ratio(l.ratioP99), p99Ratios],
  ];
}

function liveRows(live: LiveRep[]): string[][] {
  const l = medianOf(live);
  const name = '3. SDK live sync changes/s';
  const ratios = ratioRange(live, (r) => r.ratio);
  return [[name, fmt.int(l.sdkPerSec), fmt.int(l.rawPerSec), fmt.ratio(l.ratio), ratios]];
}

function catchUpRows(catchUp: CatchUpRep[]): string[][] {
  const c = medianOf(catchUp);
  return SDK.catchUpSizes.map((n) => {
    const key = `ratio${n}`;
    return [
      `4. SDK catch-up ${n / 1000}k docs`,
      fmt.ms(c[`sdk${n}`]!),
      fmt.ms(c[`raw${n}`]!),
      fmt.ratio(c[key]!),
      ratioRange(catchUp, (r) => r[key]!),
    ];
  });
}

const groupNote = (t: ThroughputRep) =>
  `mean group commit ${fmt.one(t.groupSize)} changesets; gateway thread busy` +
  ` ${fmt.pct(t.gatewayElu)}, in commits ${fmt.pct(t.commitShare)}; CPU gateway` +
  ` ${fmt.pct(t.gatewayCpu)}, clients ${fmt.pct(t.clientCpu)}`;

function throughputNotes(throughput: ThroughputRep[] | null, batched: ThroughputRep[] | null) {
  return [
    ...(throughput || batched
      ? [
          `1: floor = rows/s of direct better-sqlite3 inserts in transactions of the gateway's group size;`,
          `   GraphQL floor = the same load against yoga + graphql-ws on the gateway's schema, resolvers doing nothing;`,
        ]
      : []),
    ...(throughput ? [`   ${groupNote(medianOf(throughput))}`] : []),
    ...(batched
      ? [
          `1b: changesets of ${BATCHED.changes} inserts, counted in changes; ${groupNote(medianOf(batched))}`,
        ]
      : []),
  ];
}

function latencyNotes(latency: LatencyRep[]): string[] {
  const l = medianOf(latency);
  return [
    `2: floor = graphql-ws round trip of { __typename } on the same socket;`,
    `   upload ack p50 ${fmt.ms(l.ackP50)}; fsync'd single-row commit p50 ${fmt.ms(l.commitP50)}`,
  ];
}

function summary(reps: Results): string {
  const rows = [
    ...(reps.throughput ? throughputRows(reps.throughput) : []),
    ...(reps.batched ? throughputRows(reps.batched, '1b. batched changes /s') : []),
    ...(reps.latency ? latencyRows(reps.latency) : []),
    ...(reps.live ? liveRows(reps.live) : []),
    ...(reps.backlog ? backlogRows(reps.backlog) : []),
    ...(reps.catchUp ? catchUpRows(reps.catchUp) : []),
    ...(reps.fanout ? fanoutRows(reps.fanout) : []),
    ...(reps.memory ? memoryRows(reps.memory) : []),
    ...(reps.bootstrap ? bootstrapRows(reps.bootstrap) : []),
    ...(reps.wake ? wakeRows(reps.wake) : []),
  ];
  const notes = [
    ...throughputNotes(reps.throughput, reps.batched),
    ...(reps.latency ? latencyNotes(reps.latency) : []),
    ...(reps.live || reps.catchUp
      ? [
          `        3, 4 = the raw protocol over graphql-ws doing the same transfer (bench/sdk-clients.ts).`,
        ]
      : []),
    ...(reps.backlog
      ? [
          `3b: changes/s until acknowledged, over a link of ${LINK_MS} ms each way (bench/link-proxy.ts);` +
            ` floors = the raw protocol, one upload of 1,000 at a time, and two at a time`,
        ]
      : []),
    ...scaleNotes(reps.fanout, reps.memory),
    ...(reps.bootstrap
      ? [
          '7: floor = the same rows by one indexed SELECT with better-sqlite3 (bench/bootstrap-scope.ts)',
        ]
      : []),
    ...(reps.wake
      ? [
          '8: floor = the same run with every stream woken by every change (bench/selective-wake.ts)',
        ]
      : []),
  ];
  return [
    `\nMedians of ${REPS} repetitions (fan-out and memory: ${SCALE_REPS}); ratio = gateway (or SDK) / floor,` +
      ` the median of per-repetition ratios\n`,
    table([['', 'gateway', 'floor', 'ratio', 'ratio min–max'], ...rows]),
    '',
    ...notes,
  ].join('\n');
}

interface Results {
  throughput: ThroughputRep[] | null;
  batched: ThroughputRep[] | null;
  latency: LatencyRep[] | null;
  live: LiveRep[] | null;
  backlog: BacklogRep[] | null;
  catchUp: CatchUpRep[] | null;
  fanout: FanoutReps | null;
  memory: MemoryRep[] | null;
  bootstrap: BootstrapScopeResult[] | null;
  wake: WakeRep[] | null;
}

/** The commit measured, "+dirty" when src/ has local changes; null outside a git checkout. */
function gitCommit(): string | null {
  const git = (args: string) =>
    execSync(`git ${args}`, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    return git('rev-parse --short HEAD') + (git('status --porcelain -- src') ? '+dirty' : '');
  } catch {
    return null;
  }
}

const part = <T extends { [K in keyof T]: number }>(reps: T[] | null, extra: object) =>
  reps ? { ...extra, median: medianOf(reps), reps } : null;

function fanoutResults(fanout: FanoutReps | null) {
  if (!fanout) return null;
  const sizes = Object.entries(fanout).map(([size, reps]) => [size, part(reps, {})]);
  return { settings: FANOUT, unit: 'ms, s', repetitions: SCALE_REPS, ...Object.fromEntries(sizes) };
}

function writeResults(reps: Results): void {
  const results = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version },
    repetitions: REPS,
    throughput: part(reps.throughput, { settings: THROUGHPUT }),
    batched: part(reps.batched, { settings: BATCHED, unit: 'changes/s' }),
    latency: part(reps.latency, { settings: LATENCY, unit: 'ms' }),
    sdkLive: part(reps.live, { settings: SDK }),
    sdkBacklog: part(reps.backlog, { settings: { ...SDK, linkMs: LINK_MS }, unit: 'changes/s' }),
    sdkCatchUp: part(reps.catchUp, { settings: SDK, unit: 'ms' }),
    fanout: fanoutResults(reps.fanout),
    memory: part(reps.memory, { settings: MEMORY, unit: 'KiB', repetitions: SCALE_REPS }),
    bootstrap: part(reps.bootstrap, { unit: 'ms', repetitions: SCALE_REPS }),
    wake: reps.wake && {
      settings: WAKE,
      unit: 'ms',
      repetitions: SCALE_REPS,
      reps: reps.wake,
    },
  };
  mkdirSync('.bench', { recursive: true });
  writeFileSync('.bench/results.json', JSON.stringify(results, null, 2) + '\n');
}

/** BENCH_ONLY's scenarios, or all of them. */
function selected(): Set<Scenario> {
  const names = (process.env.BENCH_ONLY ?? '').split(',').map((n) => n.trim());
  const picked = names.filter((n) => n !== '');
  const unknown = picked.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown ${unknown} (${SCENARIOS.join(', ')})`);
  return new Set((picked.length ? picked : SCENARIOS) as Scenario[]);
}

/** Runs `run` only when its scenario is selected. */
const when = async <T>(only: Set<Scenario>, name: Scenario, run: () => Promise<T>) =>
  only.has(name) ? run() : null;

async function clientScenarios(only: Set<Scenario>, proc: ClientProcess) {
  const throughput = await when(only, 'throughput', () =>
    repeat(
      `1. sustained upload throughput: ${THROUGHPUT.clients} clients, ${THROUGHPUT.windowMs / 1000} s window`,
      () => throughputRep(proc, THROUGHPUT),
      logThroughput,
    ),
  );
  const batched = await when(only, 'batched', () =>
    repeat(
      `1b. batched upload throughput: ${BATCHED.clients} clients, changesets of ${BATCHED.changes} inserts`,
      () => throughputRep(proc, BATCHED),
      logThroughput,
    ),
  );
  const latency = await when(only, 'latency', () =>
    repeat(
      `2. upload → other client's changes event: ${LATENCY.samples} uploads one at a time`,
      () => latencyRep(proc, LATENCY),
      logLatency,
    ),
  );
  const live = await when(only, 'live', () =>
    repeat(
      `3. SDK live sync, client to client: ${fmt.int(SDK.liveChanges)} one-insert changesets`,
      () => liveRep(proc, SDK),
      logLive,
    ),
  );
  const backlog = await when(only, 'backlog', () =>
    repeat(
      `3b. SDK backlog over a slow link (${LINK_MS} ms each way): ${fmt.int(SDK.backlogChanges)} one-insert changesets`,
      () => backlogRep(proc, SDK),
      logBacklog,
    ),
  );
  const catchUp = await when(only, 'catchup', () =>
    repeat(
      `4. SDK catch-up of a fresh client: ${SDK.catchUpSizes.map((n) => `${n / 1000}k`).join(', ')} documents`,
      () => catchUpRep(proc, SDK),
      logCatchUp,
    ),
  );
  return { throughput, batched, latency, live, backlog, catchUp };
}

/** Scenario 7: one warm-up (the first bootstrap in a process compiles the code), then `n`. */
async function runBootstrap(n: number): Promise<BootstrapScopeResult[]> {
  console.log("7. bootstrap of one user's 1,000 of 1,000,000 documents");
  await benchBootstrapScope();
  const reps: BootstrapScopeResult[] = [];
  for (let i = 0; i < n; i++) {
    const r = await benchBootstrapScope();
    console.log(
      `  rep ${i + 1}: ${fmt.ms(r.bootstrapMs)}, floor ${fmt.ms(r.floorMs)}, ratio ${fmt.ratio(r.ratio)}`,
    );
    reps.push(r);
  }
  return reps;
}

function bootstrapRows(reps: BootstrapScopeResult[]): string[][] {
  const b = medianOf(reps);
  const ratios = ratioRange(reps, (r) => r.ratio);
  return [
    [
      '7. bootstrap 1k of 1M docs',
      fmt.ms(b.bootstrapMs),
      fmt.ms(b.floorMs),
      fmt.ratio(b.ratio),
      ratios,
    ],
  ];
}

async function main(): Promise<void> {
  const only = selected();
  console.log(
    `bench: ${cpus().length} cores, Node ${process.version}, ${REPS} repetitions,` +
      ` gateway from ${GATEWAY_FROM}/, server flags ${SERVER_FLAGS.join(' ') || 'none'}`,
  );
  const proc = ClientProcess.start();
  try {
    const first = await clientScenarios(only, proc);
    await proc.stop();
    const fanout = await when(only, 'fanout', () => runFanout(SCALE_REPS));
    const memory = await when(only, 'memory', () => runMemory(SCALE_REPS));
    const bootstrap = await when(only, 'bootstrap', () => runBootstrap(SCALE_REPS));
    const wake = await when(only, 'wake', () => runSelectiveWake(SCALE_REPS));
    const reps = { ...first, fanout, memory, bootstrap, wake };
    console.log(summary(reps));
    writeResults(reps);
    console.log('\nwrote .bench/results.json');
  } finally {
    await proc.stop();
  }
}

await main();
