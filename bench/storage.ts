/**
 * `npm run bench:storage`: what one write through `LocalDatabase.write` costs until it is
 * persisted (the SDK's own work included), with the database's documents already stored:
 * SqliteStorage at 10k and 100k documents (synchronous FULL, and NORMAL), MemoryStorage (the
 * SDK's work alone) and FileStorage at 20k (the whole file rewritten per write).
 *
 * Beside each, a floor: a bare better-sqlite3 single-row INSERT in its own transaction, on a
 * file with the same pragmas and as many rows, timed just before each write of the row, so
 * both see the same disk and CPU (a shared machine's fsync varies several-fold over a run).
 * Target: a median of at most 1 ms per write at 100k documents on SqliteStorage (FULL).
 * BENCH_WRITES overrides the 1,000 writes.
 *
 * Then IndexedDbStorage in headless Chromium at 10k and 100k documents, with an IndexedDB
 * floor (bench/storage-browser.ts); skipped without /usr/bin/chromium.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { FileStorage } from '../client/src/file-storage.js';
import { LocalDatabase } from '../client/src/local-database.js';
import { SqliteStorage } from '../client/src/node/sqlite-storage.js';
import { emptyMeta, MemoryStorage, type Storage, type StoredDoc } from '../client/src/storage.js';
import { fmt, median, percentile, table } from './stats.js';
import { benchIndexedDb, CHROMIUM } from './storage-browser.js';

const WRITES = Number(process.env.BENCH_WRITES ?? 1000);
const WARMUP = 50;
const CLIENT = 'bench-client';
const PAGE = 5000;
const TARGET_MS = 1;

type Synchronous = 'FULL' | 'NORMAL';
type Closable = Storage & { close?(): Promise<void> };

interface Case {
  name: string;
  docs: number;
  writes: number;
  make: (path: string) => Closable;
  /** The floor's pragma; null: no floor (nothing is written to disk). */
  floor: Synchronous | null;
}

/** One line of the table. */
interface Measured {
  label: string;
  docs: number;
  writes: number;
  openMs: number;
  times: number[];
  floorTimes: number[];
}

interface Row extends Case, Measured {}

const dirs: string[] = [];
function tempPath(file: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-storage-'));
  dirs.push(dir);
  return join(dir, file);
}

const carDoc = (i: number) => ({ _id: `c${i}`, make: 'Kia', ownerId: `user-${i % 50}`, n: i });

/** Stores `count` documents as a finished bootstrap would have left them, page by page. */
async function seed(storage: Storage, count: number): Promise<void> {
  const meta = { ...emptyMeta(CLIENT), serverVersion: count, generation: 1, bootstrapped: true };
  for (let from = 0; from < count; from += PAGE) {
    const to = Math.min(count, from + PAGE);
    const putDocs = Array.from({ length: to - from }, (_, k): [string, StoredDoc] => {
      const doc = carDoc(from + k);
      return [`cars/${doc._id}`, { doc, gen: 1 }];
    });
    await storage.commit({ meta, putDocs });
  }
}

/** A bare better-sqlite3 file with `prefill` rows; `time()` inserts one row and says how long. */
function floorFile(synchronous: Synchronous, prefill: number): { time(): number; close(): void } {
  const db = new Database(tempPath('floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (doc) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < prefill; i += 1) insert.run(JSON.stringify(carDoc(i)));
  })();
  const one = db.transaction((text: string) => insert.run(text));
  let n = 0;
  return {
    time: () => {
      const text = JSON.stringify({ clientVersion: (n += 1), changes: [{ id: 'c1', set: { n } }] });
      const start = performance.now();
      one(text);
      return performance.now() - start;
    },
    close: () => db.close(),
  };
}

/** Seeds the case's storage, opens a LocalDatabase on a new instance of it, times the writes. */
async function run(c: Case): Promise<Row> {
  const path = tempPath('client.db');
  const seeding = c.make(path);
  await seed(seeding, c.docs);
  const storage: Closable = seeding instanceof MemoryStorage ? seeding : c.make(path);
  if (storage !== seeding) await seeding.close?.();
  const start = performance.now();
  const db = await LocalDatabase.open({ clientId: CLIENT, storage });
  const openMs = performance.now() - start;
  const floor = c.floor ? floorFile(c.floor, c.docs) : null;
  const [times, floorTimes]: [number[], number[]] = [[], []];
  for (let i = 0; i < WARMUP + c.writes; i += 1) {
    const floorMs = floor?.time();
    const id = `c${(i * 7919) % c.docs}`; // spread over the documents, not one hot one
    const t0 = performance.now();
    await db.write((tx) => tx.update('cars', id, { n: -i }));
    if (i < WARMUP) continue;
    times.push(performance.now() - t0);
    if (floorMs !== undefined) floorTimes.push(floorMs);
  }
  floor?.close();
  await storage.close?.();
  const label = c.floor ? `${c.name} ${c.floor}` : c.name;
  return { ...c, label, openMs, times, floorTimes };
}

function report(rows: Measured[]): string {
  const header = ['', 'documents', 'writes', 'open', 'median', 'p99', 'floor median', 'floor p99'];
  const optional = (xs: number[], f: (xs: number[]) => number) => (xs.length ? fmt.ms(f(xs)) : '');
  const lines = rows.map((r) => [
    r.label,
    fmt.int(r.docs),
    fmt.int(r.writes),
    fmt.ms(r.openMs),
    fmt.ms(median(r.times)),
    fmt.ms(percentile(r.times, 99)),
    optional(r.floorTimes, median),
    optional(r.floorTimes, (xs) => percentile(xs, 99)),
  ]);
  return table([header, ...lines]);
}

/** Whether `row` meets the target, and by how much it is above its floor. */
function verdict(what: string, row: Measured): string {
  const [ms, floor] = [median(row.times), median(row.floorTimes)];
  return (
    `target (${what}, ${fmt.int(row.docs)} documents, median ≤ ${TARGET_MS} ms per write): ` +
    `${ms <= TARGET_MS ? 'met' : 'NOT met'}, ${fmt.ms(ms)}; ${fmt.ms(ms - floor)} above the floor`
  );
}

const sqlite = (synchronous: Synchronous) => (path: string) =>
  new SqliteStorage(path, { synchronous });

const CASES: Case[] = [
  { name: 'SqliteStorage', docs: 10_000, writes: WRITES, make: sqlite('FULL'), floor: 'FULL' },
  { name: 'SqliteStorage', docs: 100_000, writes: WRITES, make: sqlite('FULL'), floor: 'FULL' },
  { name: 'SqliteStorage', docs: 100_000, writes: WRITES, make: sqlite('NORMAL'), floor: 'NORMAL' },
  {
    name: 'MemoryStorage (SDK work only)',
    docs: 100_000,
    writes: WRITES,
    make: () => new MemoryStorage(),
    floor: null,
  },
  // Each write rewrites the whole file: slow by design, so fewer of them.
  {
    name: 'FileStorage',
    docs: 20_000,
    writes: Math.min(WRITES, 100),
    make: (path) => new FileStorage(path),
    floor: 'FULL',
  },
];

async function main(): Promise<void> {
  const load = loadavg()[0]!.toFixed(1);
  console.log(`bench:storage: ${cpus().length} cores (load ${load}), Node ${process.version}`);
  const rows: Row[] = [];
  for (const c of CASES) rows.push(await run(c));
  console.log(report(rows));
  const target = rows.find((r) => r.label === 'SqliteStorage FULL' && r.docs === 100_000)!;
  console.log(verdict('SqliteStorage FULL', target));
  await browser();
}

/** IndexedDbStorage in Chromium, its own table after Node's. */
async function browser(): Promise<void> {
  if (!existsSync(CHROMIUM)) return console.log(`IndexedDbStorage: skipped, no ${CHROMIUM}`);
  const { version, results } = await benchIndexedDb([10_000, 100_000], WRITES, WARMUP);
  const label = `IndexedDbStorage (Chromium ${version})`;
  const rows = results.map((r): Measured => ({ ...r, label, writes: WRITES }));
  console.log(`\n${report(rows)}`);
  console.log(verdict('IndexedDbStorage', rows.at(-1)!));
}

try {
  await main();
} finally {
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
}
