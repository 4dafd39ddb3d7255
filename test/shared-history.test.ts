/**
 * The shared history against a real SQLite store: every stream's read is served from one
 * load per new version, and what it returns is what the store holds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../src/sync/change-feed.js';
import type { HistoryEntry } from '../src/sync/model.js';
import { newSession } from '../src/sync/new-session.js';
import { historyLost } from '../src/sync/download.js';
import { SharedHistory } from '../src/sync/shared-history.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const T = '2026-11-29T00:00:00.000Z';
const SESSION = newSession('c', 'u1', [], T);

type Store = Pick<SqliteStore, 'readHistory' | 'latestVersion'>;

/** Counts the store reads the shared history makes. */
function counting(store: SqliteStore) {
  const counts = { readHistory: 0 };
  const counted: Store = {
    readHistory: (after, limit) => {
      counts.readHistory += 1;
      return store.readHistory(after, limit);
    },
    latestVersion: () => store.latestVersion(),
  };
  return { counted, counts };
}

describe('SharedHistory', () => {
  let store: SqliteStore;
  let versions: number;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shared-history-'));
    store = new SqliteStore(join(dir, 'sync.db'));
    versions = 0;
    await store.openSession(SESSION);
  });
  afterEach(() => store.close());

  /** Appends `n` history entries with the store's own backend path. */
  async function commit(n: number): Promise<number> {
    for (let i = 0; i < n; i++) await appendOne(store, `d${++versions}`);
    return store.latestVersion();
  }

  it('serves many readers of a new version from one store read, equal to the store', async () => {
    const feed = new ChangeFeed();
    const { counted, counts } = counting(store);
    const history = new SharedHistory(counted, feed, { entries: 100, bytes: 1 << 20 });
    await history.read(0, 10);
    feed.advance(await commit(5));
    const reads = await Promise.all(Array.from({ length: 50 }, () => history.read(0, 10)));
    expect(counts.readHistory).toBe(1);
    const fromStore = await store.readHistory(0, 10);
    for (const r of reads) {
      expect(r.entries).toEqual(fromStore);
      expect(r.latest).toBe(5);
    }
    expect((await history.read(3, 1)).entries.map((h) => h.version)).toEqual([4]);
  });

  it('reads the store for a cursor older than what it holds, and bounds what it holds', async () => {
    const feed = new ChangeFeed();
    const history = new SharedHistory(store, feed, { entries: 3, bytes: 1 << 20 });
    await history.read(0, 1);
    feed.advance(await commit(10));
    const recent = await history.read(8, 10);
    expect(recent.entries.map((h: HistoryEntry) => h.version)).toEqual([9, 10]);
    const old = await history.read(2, 3);
    expect(old.entries.map((h: HistoryEntry) => h.version)).toEqual([3, 4, 5]);
    expect(old.latest).toBe(10);
  });

  it('never claims versions compacted before it read them: the read says they are lost', async () => {
    const feed = new ChangeFeed();
    const history = new SharedHistory(store, feed, { entries: 100, bytes: 1 << 20 });
    feed.advance(await commit(2));
    expect((await history.read(0, 10)).entries).toHaveLength(2);
    feed.advance(await commit(3));
    // Compacted before any stream asked for versions 3 to 5.
    await store.compactHistory('2999-01-01T00:00:00.000Z');
    const read = await history.read(2, 10);
    expect(historyLost(2, read.entries, read.latest)).toBe(true);
    // And the window no longer covers them: every later read says so too.
    const again = await history.read(2, 10);
    expect(historyLost(2, again.entries, again.latest)).toBe(true);
  });

  it('holds at least the newest entry past its byte bound, and is contiguous', async () => {
    const feed = new ChangeFeed();
    const history = new SharedHistory(store, feed, { entries: 100, bytes: 10 });
    await history.read(0, 1);
    feed.advance(await commit(3));
    const r = await history.read(2, 5);
    expect(r.entries.map((h) => h.version)).toEqual([3]);
    expect((await history.read(1, 5)).entries.map((h) => h.version)).toEqual([2, 3]);
  });
});

/** Commits one new document through the store's own integration path, as an upload does. */
async function appendOne(store: SqliteStore, id: string): Promise<void> {
  const doc = { _id: id, n: 1 };
  const stamp = '2026-11-29T00:00:00.000Z-0000-c';
  await store.integrate(SESSION.id, [{ collection: 'items', id }], (view) => ({
    session: { ...view.session, lastSyncedAt: view.session.lastSyncedAt },
    documents: [
      {
        collection: 'items',
        id,
        state: { fields: { n: { v: 1, s: stamp } }, ins: stamp, del: null },
        doc,
      },
    ],
    history: [
      {
        collection: 'items',
        id,
        clientId: 'c',
        clientVersion: 1,
        before: null,
        after: doc,
        committedAt: T,
      },
    ],
    result: null,
  }));
}
