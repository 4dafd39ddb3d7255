/**
 * Scenario 8, selective wake: `sessions` sessions of as many users follow `changes` under the
 * ownership rule (each reads only its own documents); a writer changes one user's document at
 * a time. Measured in-process on the sync core (no sockets: what is measured is the work a
 * change costs the gateway), as the time from upload to the concerned stream's batch, and the
 * CPU time per change. The floor is the same run with every stream woken by every change
 * (the change feed without its wake index, as before selective wake).
 */
import { setMaxListeners } from 'node:events';
import { cpuUsage } from 'node:process';
import { systemClock } from '../src/clock.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Viewer } from '../src/sync/model.js';
import { SyncCore } from '../src/sync/sync-core.js';
import { fmt, median, medianOf, percentile, spread } from './stats.js';

export interface WakeSettings {
  sessions: number;
  changes: number;
}

export interface WakeRun {
  p50Ms: number;
  p99Ms: number;
  cpuMsPerChange: number;
}

export interface WakeRep {
  indexed: WakeRun;
  everyone: WakeRun;
  /** everyone / indexed, CPU per change. */
  cpuRatio: number;
}

const OWNER = { ownerId: '%%user.id' };
const RULES = { default: { read: OWNER, write: true }, collections: {} };
const WRITER: Viewer = { id: 'writer', roles: [] };

function core(): SyncCore {
  return new SyncCore({
    store: new SqliteStore(':memory:'),
    rules: RULES,
    clock: systemClock,
    limits: { maxDocumentBytes: 1 << 20, maxChangesPerUpload: 1000 },
    downloadBatchSize: 100,
    maxOfflineMs: Number.MAX_SAFE_INTEGER,
  });
}

/** Each user's stream; `arrived(user, version)` is called for every change it receives. */
async function follow(c: SyncCore, users: string[], signal: AbortSignal, arrived: Arrived) {
  for (const user of users) {
    const viewer = { id: user, roles: [] };
    const session = await c.openSession(viewer, `c-${user}`, [{ collection: 'items' }]);
    const start = { since: null, bootstrapUntil: null };
    const stream = await c.changes(viewer, session.id, start, signal);
    void (async () => {
      for await (const batch of stream) {
        for (const change of batch.changes) arrived(user, change.serverVersion);
      }
    })().catch(() => undefined);
  }
}

type Arrived = (user: string, version: number) => void;

async function runOnce(settings: WakeSettings, indexed: boolean): Promise<WakeRun> {
  const c = core();
  await c.start();
  if (!indexed) c.feed.index = null;
  const users = Array.from({ length: settings.sessions }, (_, i) => `u${i}`);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per stream
  let waiting: { user: string; version: number; resolve: () => void } | null = null;
  const arrived: Arrived = (user, version) => {
    if (waiting && waiting.user === user && version >= waiting.version) waiting.resolve();
  };
  try {
    await follow(c, users, controller.signal, arrived);
    const writer = await c.openSession(WRITER, 'writer', []);
    await new Promise((r) => setTimeout(r, 200));
    const latencies: number[] = [];
    const cpu = cpuUsage();
    for (let n = 1; n <= settings.changes; n++) {
      const user = users[(n * 7919) % users.length]!;
      const change = { collection: 'items', id: `d${n}`, op: 'INSERT' as const };
      const timestamp = `${new Date().toISOString()}-${String(n % 10000).padStart(4, '0')}`;
      const started = performance.now();
      const done = new Promise<void>((resolve) => (waiting = { user, version: 0, resolve }));
      const ack = await c.uploadChanges(WRITER, writer.id, [
        { clientVersion: n, timestamp, changes: [{ ...change, document: { ownerId: user } }] },
      ]);
      waiting!.version = ack.serverVersion;
      await done;
      latencies.push(performance.now() - started);
    }
    const used = cpuUsage(cpu);
    return {
      p50Ms: median(latencies),
      p99Ms: percentile(latencies, 99),
      cpuMsPerChange: (used.user + used.system) / 1000 / settings.changes,
    };
  } finally {
    controller.abort();
    await c.drain();
    await c.store.close();
  }
}

/** One repetition: with the wake index, then every stream woken by every change. */
export async function selectiveWakeRep(settings: WakeSettings): Promise<WakeRep> {
  const indexed = await runOnce(settings, true);
  const everyone = await runOnce(settings, false);
  return { indexed, everyone, cpuRatio: everyone.cpuMsPerChange / indexed.cpuMsPerChange };
}

/** BENCH_WAKE_SESSIONS (5,000) sessions, 200 changes. */
export const WAKE: WakeSettings = {
  sessions: Number(process.env.BENCH_WAKE_SESSIONS ?? 5000),
  changes: 200,
};

/** Scenario 8, `n` repetitions, each logged. */
export async function runSelectiveWake(n: number): Promise<WakeRep[]> {
  console.log(
    `8. selective wake: ${fmt.int(WAKE.sessions)} users' sessions, one user's change at a time`,
  );
  const reps: WakeRep[] = [];
  for (let i = 0; i < n; i++) {
    const r = await selectiveWakeRep(WAKE);
    const show = (w: WakeRun) =>
      `p50 ${fmt.ms(w.p50Ms)} p99 ${fmt.ms(w.p99Ms)} CPU ${fmt.ms(w.cpuMsPerChange)}/change`;
    console.log(`  rep ${i + 1}: indexed ${show(r.indexed)}; everyone woken ${show(r.everyone)}`);
    reps.push(r);
  }
  return reps;
}

const flat = (r: WakeRep) => ({
  p50: r.indexed.p50Ms,
  floorP50: r.everyone.p50Ms,
  cpu: r.indexed.cpuMsPerChange,
  floorCpu: r.everyone.cpuMsPerChange,
  cpuRatio: r.cpuRatio,
});

/** The summary's rows: "floor" is every stream woken by every change (before selective wake). */
export function wakeRows(reps: WakeRep[]): string[][] {
  const m = medianOf(reps.map(flat));
  const ratios = spread(
    reps.map((r) => r.indexed.cpuMsPerChange / r.everyone.cpuMsPerChange),
    fmt.ratio,
  );
  const cpuRatio = fmt.ratio(m.cpu / m.floorCpu);
  return [
    ['8. selective wake p50', fmt.ms(m.p50), fmt.ms(m.floorP50), fmt.ratio(m.p50 / m.floorP50), ''],
    ['8. selective wake CPU/change', fmt.ms(m.cpu), fmt.ms(m.floorCpu), cpuRatio, ratios],
  ];
}
