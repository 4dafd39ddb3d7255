/**
 * `npm run bench`: the gateway's upload throughput and upload-to-event latency, each as
 * the median over repetitions and as a ratio to a floor measured in the same repetition
 * (shared machines are noisy; absolute figures alone do not compare across runs).
 * Prints a table and writes .bench/results.json. BENCH_REPS overrides the repetitions.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ClientProcess } from './client-driver.js';
import { latencyRep, type LatencyRep, type LatencySettings } from './latency.js';
import { catchUpRep, liveRep, type CatchUpRep, type LiveRep, type SdkSettings } from './sdk.js';
import { fmt, medianOf, spread, table } from './stats.js';
import { throughputRep, type ThroughputRep, type ThroughputSettings } from './throughput.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const THROUGHPUT: ThroughputSettings = { clients: 50, warmupMs: 1000, windowMs: 3000 };
const LATENCY: LatencySettings = { samples: 500, warmup: 50 };
const SDK: SdkSettings = { liveChanges: 10_000, catchUpSizes: [10_000, 20_000, 40_000, 100_000] };

function logThroughput(i: number, r: ThroughputRep): void {
  console.log(
    `  rep ${i + 1}: ${fmt.int(r.gatewayPerSec)} changesets/s, floor ${fmt.int(r.floorPerSec)} rows/s,` +
      ` ratio ${fmt.ratio(r.ratio)}; group ${fmt.one(r.groupSize)}, in commits ${fmt.pct(r.commitShare)},` +
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

function summaryTable(throughput: ThroughputRep[], latency: LatencyRep[]): string[][] {
  const t = medianOf(throughput);
  const l = medianOf(latency);
  const tRatios = ratioRange(throughput, (r) => r.ratio);
  const [p50Ratios, p99Ratios] = [
    ratioRange(latency, (r) => r.ratioP50),
    ratioRange(latency, (r) => r.ratioP99),
  ];
  return [
    ['', 'gateway', 'floor', 'ratio', 'ratio min–max'],
    [
      '1. upload throughput /s',
      fmt.int(t.gatewayPerSec),
      fmt.int(t.floorPerSec),
      fmt.ratio(t.ratio),
      tRatios,
    ],
    ['2. upload→event p50', fmt.ms(l.p50), fmt.ms(l.floorP50), fmt.ratio(l.ratioP50), p50Ratios],
    ['2. upload→event p99', fmt.ms(l.p99), fmt.ms(l.floorP99), fmt.ratio(l.ratioP99), p99Ratios],
  ];
}

function sdkRows(live: LiveRep[], catchUp: CatchUpRep[]): string[][] {
  const l = medianOf(live);
  const c = medianOf(catchUp);
  const rows = [
    ['3. SDK live sync changes/s', fmt.int(l.sdkPerSec), fmt.int(l.rawPerSec), fmt.ratio(l.ratio)],
  ];
  rows[0]!.push(ratioRange(live, (r) => r.ratio));
  for (const n of SDK.catchUpSizes) {
    const key = `ratio${n}`;
    rows.push([
      `4. SDK catch-up ${n / 1000}k docs`,
      fmt.ms(c[`sdk${n}`]!),
      fmt.ms(c[`raw${n}`]!),
      fmt.ratio(c[key]!),
      ratioRange(catchUp, (r) => r[key]!),
    ]);
  }
  return rows;
}

function summaryNotes(throughput: ThroughputRep[], latency: LatencyRep[]): string {
  const t = medianOf(throughput);
  const l = medianOf(latency);
  return [
    `floors: 1 = rows/s of direct better-sqlite3 inserts in transactions of the gateway's group size;`,
    `        2 = graphql-ws round trip of { __typename } on the same socket.`,
    `context: 1 = mean group commit ${fmt.one(t.groupSize)} changesets; gateway thread busy` +
      ` ${fmt.pct(t.gatewayElu)}, in commits ${fmt.pct(t.commitShare)}; CPU gateway` +
      ` ${fmt.pct(t.gatewayCpu)}, clients ${fmt.pct(t.clientCpu)}`,
    `         2 = upload ack p50 ${fmt.ms(l.ackP50)}; fsync'd single-row commit p50 ${fmt.ms(l.commitP50)}`,
  ].join('\n');
}

function summary(reps: Results): string {
  return [
    `\nMedians of ${REPS} repetitions; ratio = gateway (or SDK) / floor, the median of per-repetition ratios\n`,
    table([...summaryTable(reps.throughput, reps.latency), ...sdkRows(reps.live, reps.catchUp)]),
    '',
    summaryNotes(reps.throughput, reps.latency),
    `        3, 4 = the raw protocol over graphql-ws doing the same transfer (bench/sdk-clients.ts).`,
  ].join('\n');
}

interface Results {
  throughput: ThroughputRep[];
  latency: LatencyRep[];
  live: LiveRep[];
  catchUp: CatchUpRep[];
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

function writeResults(reps: Results): void {
  const results = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version },
    repetitions: REPS,
    throughput: { settings: THROUGHPUT, median: medianOf(reps.throughput), reps: reps.throughput },
    latency: { settings: LATENCY, unit: 'ms', median: medianOf(reps.latency), reps: reps.latency },
    sdkLive: { settings: SDK, median: medianOf(reps.live), reps: reps.live },
    sdkCatchUp: { settings: SDK, unit: 'ms', median: medianOf(reps.catchUp), reps: reps.catchUp },
  };
  mkdirSync('.bench', { recursive: true });
  writeFileSync('.bench/results.json', JSON.stringify(results, null, 2) + '\n');
}

async function main(): Promise<void> {
  console.log(`bench: ${cpus().length} cores, Node ${process.version}, ${REPS} repetitions`);
  const proc = ClientProcess.start();
  try {
    const throughput = await repeat(
      `1. sustained upload throughput: ${THROUGHPUT.clients} clients, ${THROUGHPUT.windowMs / 1000} s window`,
      () => throughputRep(proc, THROUGHPUT),
      logThroughput,
    );
    const latency = await repeat(
      `2. upload → other client's changes event: ${LATENCY.samples} uploads one at a time`,
      () => latencyRep(proc, LATENCY),
      logLatency,
    );
    const live = await repeat(
      `3. SDK live sync, client to client: ${fmt.int(SDK.liveChanges)} one-insert changesets`,
      () => liveRep(proc, SDK),
      logLive,
    );
    const catchUp = await repeat(
      `4. SDK catch-up of a fresh client: ${SDK.catchUpSizes.map((n) => `${n / 1000}k`).join(', ')} documents`,
      () => catchUpRep(proc, SDK),
      logCatchUp,
    );
    const reps = { throughput, latency, live, catchUp };
    console.log(summary(reps));
    writeResults(reps);
    console.log('\nwrote .bench/results.json');
  } finally {
    await proc.stop();
  }
}

await main();
