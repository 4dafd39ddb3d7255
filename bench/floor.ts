/**
 * Floors measured directly with better-sqlite3 on a file set up like the gateway's store
 * (WAL, synchronous=FULL, so every commit is fsync'd), in a fresh temp dir.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from './stats.js';

function withFloorDb<T>(run: (db: Database.Database) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'sync-gw-floor-'));
  const db = new Database(join(dir, 'floor.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT, doc TEXT)');
    return run(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Small rows like the bench's documents, built before the clock starts. */
function smallRows(count: number): [string, string][] {
  return Array.from({ length: count }, (_, n) => {
    const owner = `user-${n % 50}`;
    return [owner, JSON.stringify({ ownerId: owner, make: 'Kia', n })];
  });
}

/**
 * Rows/s of inserting `count` small rows in `BEGIN IMMEDIATE` transactions of `groupSize`,
 * each into a fresh file; the median of `runs` (one short run is at the mercy of the disk).
 */
export function batchedInsertRate(count: number, groupSize: number, runs = 5): number {
  return median(Array.from({ length: runs }, () => insertRate(count, groupSize)));
}

function insertRate(count: number, groupSize: number): number {
  const rows = smallRows(count);
  return withFloorDb((db) => {
    const insert = db.prepare('INSERT INTO rows (owner, doc) VALUES (?, ?)');
    const group = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(...rows[i]!);
    });
    const size = Math.max(1, Math.round(groupSize));
    const start = performance.now();
    for (let from = 0; from < count; from += size)
      group.immediate(from, Math.min(count, from + size));
    return count / ((performance.now() - start) / 1000);
  });
}

/** Milliseconds of each of `count` single-row fsync'd commits (context, not a ratio floor). */
export function commitLatencies(count: number): number[] {
  const rows = smallRows(count);
  return withFloorDb((db) => {
    const insert = db.prepare('INSERT INTO rows (owner, doc) VALUES (?, ?)');
    return rows.map((row) => {
      const start = performance.now();
      insert.run(...row);
      return performance.now() - start;
    });
  });
}
