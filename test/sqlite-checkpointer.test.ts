/**
 * Checkpoints off the writer's turn (src/store/sqlite/checkpointer.ts), on real files: the
 * checkpointer thread copies committed pages into the database file while the writer goes
 * on; the writer, checkpointing itself only at its threshold, still starts the WAL over, so
 * the WAL stays bounded, alone or beside the checkpointer; a checkpointer that fails is
 * reported.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../src/store/sqlite/checkpointer.js';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite/sqlite-store.js';
import { sessionRecord } from './store-contract.js';
import { paddedPuts, putPlan } from './helpers/store-plans.js';
import { until } from './helpers/sdk.js';

/** SQLite's page and a WAL frame's header (the file's default page size). */
const PAGE = 4096;
const FRAME = PAGE + 24;
/** Each document's padding, in characters: about 2 KB a document. */
const PADDING = 2000;

let dir: string;
let file: string;
let store: SqliteStore | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
  file = join(dir, 'sync.db');
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: SqliteStoreOptions): Promise<SqliteStore> {
  store = new SqliteStore(file, { writerThread: true, ...options });
  await store.openSession(sessionRecord('s1', 'c1', 'u1'));
  return store;
}

/** Integrates `changesets` changesets of `size` documents, one after another. */
async function write(s: SqliteStore, changesets: number, size: number, after?: () => void) {
  for (let v = 1; v <= changesets; v++) {
    const batch = paddedPuts(`c${v}`, size, PADDING);
    await s.integrate(
      's1',
      batch.map((p) => p.key),
      putPlan(batch, v),
    );
    after?.();
  }
}

/** Writes as `write` does; the WAL file's largest size after a commit, in bytes. */
async function writeWatchingWal(s: SqliteStore, changesets: number, size: number) {
  let longest = 0;
  await write(s, changesets, size, () => {
    longest = Math.max(longest, statSync(`${file}-wal`).size);
  });
  return longest;
}

/** The rows a connection of its own reads from the file, WAL included. */
function countDocuments(): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('the SQLite checkpointer thread', () => {
  it('copies committed pages into the database file while the writer never checkpoints', async () => {
    // The writer's own threshold is out of reach: only the checkpointer writes the file.
    const s = await open({ checkpoints: { writerPages: 1_000_000, delayMs: 5 } });
    const before = statSync(file).size;
    await write(s, 10, 50);
    const written = 10 * 50 * PADDING;
    await until(
      () => statSync(file).size > before + written,
      'the file holds the documents',
      10_000,
    );
    expect(countDocuments()).toBe(500);
    const docs = await s.getDocuments([{ collection: 'items', id: 'c10-49' }]);
    expect(docs[0]?.doc).toEqual({ _id: 'c10-49', ownerId: 'u1', pad: 'x'.repeat(PADDING) });
  });

  it('the writer alone checkpoints at its threshold, and then starts the WAL over', async () => {
    const writerPages = 100;
    // The checkpointer's turn never comes within the test: the writer's threshold alone.
    const s = await open({ checkpoints: { writerPages, delayMs: 60_000 } });
    const longest = await writeWatchingWal(s, 40, 10);
    // About 32 pages a changeset (documents and history, 40 at most), 1,280 in all.
    expect(longest).toBeGreaterThan(writerPages * FRAME);
    expect(longest).toBeLessThanOrEqual((writerPages + 2 * 40) * FRAME + 32);
    expect(countDocuments()).toBe(400);
  });

  it('with the checkpointer thread at work too, the WAL stays bounded', async () => {
    const writerPages = 100;
    const s = await open({ checkpoints: { writerPages, delayMs: 5 } });
    const longest = await writeWatchingWal(s, 40, 10);
    // Their checkpoints can meet, putting the writer's own off by a commit or two; the WAL
    // still starts over: 1,280 pages are written in all.
    expect(longest).toBeLessThan(4 * writerPages * FRAME);
    expect(countDocuments()).toBe(400);
  });

  it('a checkpointer that fails is reported once', async () => {
    const failures: Error[] = [];
    // A directory is no database: the thread's connection fails to open.
    const broken = new Checkpointer(dir, (e) => failures.push(e));
    // The thread starts at the first write.
    broken.due();
    await until(() => failures.length > 0, 'the failure is reported');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toMatch(/^the SQLite checkpointer thread stopped: /);
    expect(broken.failure).toBe(failures[0]);
    broken.due();
    await broken.close();
    expect(failures).toHaveLength(1);
  });
});
