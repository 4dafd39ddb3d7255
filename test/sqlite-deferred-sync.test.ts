/**
 * The SQLite store with `deferredSync` (src/store/sqlite/wal-sync.ts): the store contract
 * holds; a group is acknowledged only after the WAL's sync, which runs after its commit; and
 * nothing of the store is read (nor written) while a commit is visible but not yet durable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { IntegrationPlan } from '../src/store/port.js';
import { sessionRecord, storeContract, type StoreUnderTest } from './store-contract.js';

storeContract('SQLite file, deferred sync', async (): Promise<StoreUnderTest> => {
  const dir = mkdtempSync(join(tmpdir(), 'store-deferred-'));
  const path = join(dir, 'sync.db');
  let current = new SqliteStore(path, { deferredSync: true });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new SqliteStore(path, { deferredSync: true });
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const T1 = '2026-11-26T13:00:00.000Z';

/** Inserts one document `id` for the session's client, at `clientVersion`. */
const insert =
  (id: string, clientVersion: number): IntegrationPlan<number> =>
  (view) => ({
    session: {
      lastIntegratedClientVersion: clientVersion,
      latestClientVersion: clientVersion,
      uploadedBytes: 10 * clientVersion,
      pendingBytes: 0,
      uploadBaselineBytes: 0,
      lastSyncedAt: T1,
    },
    documents: [
      {
        collection: 'items',
        id,
        state: { fields: {}, ins: 'x', del: null },
        doc: { _id: id },
      },
    ],
    history: [
      {
        collection: 'items',
        id,
        clientId: view.session.clientId,
        clientVersion,
        before: null,
        after: { _id: id },
        committedAt: T1,
      },
    ],
    result: clientVersion,
  });

/** A sync the test finishes (or fails) by hand; counts its calls. */
function manualSync() {
  const calls: { done: () => void; fail: (e: Error) => void }[] = [];
  const sync = () =>
    new Promise<void>((resolve, reject) => calls.push({ done: resolve, fail: reject }));
  return { sync, calls };
}

/** Gives anything not held back time to run (its I/O included). */
const turns = () => new Promise((r) => setTimeout(r, 50));

/** Waits until `check` passes. */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 5 });

/** Whether `p` has settled by now. */
function tracked<T>(p: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then(
    (v) => Object.assign(state, { settled: true, value: v }),
    (e: unknown) => Object.assign(state, { settled: true, error: e }),
  );
  return state;
}

describe('SQLite store with deferred sync', () => {
  let dir: string;
  let store: SqliteStore | null = null;

  const open = async (sync: () => Promise<void>) => {
    dir = mkdtempSync(join(tmpdir(), 'store-deferred-'));
    store = new SqliteStore(join(dir, 'sync.db'), { deferredSync: true, walSync: sync });
    await store.openSession(sessionRecord('s1', 'c1'));
    return store;
  };

  afterEach(async () => {
    await store?.close().catch(() => undefined);
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a group only after the sync of its commit, and restores synchronous=FULL', async () => {
    const { sync, calls } = manualSync();
    const s = await open(sync);
    const ack = tracked(s.integrate('s1', [{ collection: 'items', id: 'a' }], insert('a', 1)));
    await turns();
    expect(calls).toHaveLength(1);
    // Committed (another connection sees it) but not acknowledged before its sync.
    const other = new Database(join(dir, 'sync.db'), { readonly: true });
    expect(other.prepare('SELECT count(*) AS n FROM history').get()).toEqual({ n: 1 });
    other.close();
    expect(ack.settled).toBe(false);
    expect(s.db.pragma('synchronous', { simple: true })).toBe(2);
    calls[0]!.done();
    await eventually(() => expect(ack.settled).toBe(true));
    expect(ack).toMatchObject({ settled: true, value: { result: 1, serverVersion: 1 } });
  });

  it('answers no read or write while a commit awaits its sync; then the durable state', async () => {
    const { sync, calls } = manualSync();
    const s = await open(sync);
    const ack = tracked(s.integrate('s1', [{ collection: 'items', id: 'a' }], insert('a', 1)));
    await turns();
    expect(calls).toHaveLength(1);
    const reads = {
      sessions: tracked(s.getSessions(['s1'])),
      history: tracked(s.readHistory(0, 10)),
      latest: tracked(s.latestVersion()),
      documents: tracked(s.getDocuments([{ collection: 'items', id: 'a' }])),
      scan: tracked(s.scanDocumentsByVersion(['items'], 0, 10, 10)),
      list: tracked(s.listSessions({ limit: 10 })),
      update: tracked(s.updateSession('s1', { lastDownloadedServerVersion: 1 })),
      opened: tracked(s.openSession(sessionRecord('s2', 'c2'))),
    };
    await turns();
    for (const read of Object.values(reads)) expect(read.settled).toBe(false);
    calls[0]!.done();
    await eventually(() => {
      for (const read of Object.values(reads)) expect(read.settled).toBe(true);
    });
    expect(ack.settled).toBe(true);
    for (const read of Object.values(reads)) expect(read.error).toBeUndefined();
    expect(reads.sessions.value?.[0]?.lastIntegratedClientVersion).toBe(1);
    expect(reads.history.value?.map((h) => h.id)).toEqual(['a']);
    expect(reads.latest.value).toBe(1);
  });

  it('syncs each group before the next one commits: one unsynced commit at most', async () => {
    const { sync, calls } = manualSync();
    const s = await open(sync);
    await s.openSession(sessionRecord('s2', 'c2'));
    const first = tracked(s.integrate('s1', [{ collection: 'items', id: 'a' }], insert('a', 1)));
    await turns();
    const second = tracked(s.integrate('s2', [{ collection: 'items', id: 'b' }], insert('b', 1)));
    await turns();
    expect(calls).toHaveLength(1);
    const other = new Database(join(dir, 'sync.db'), { readonly: true });
    const count = () =>
      (other.prepare('SELECT count(*) AS n FROM history').get() as { n: number }).n;
    expect(count()).toBe(1);
    calls[0]!.done();
    await eventually(() => expect(calls).toHaveLength(2));
    expect(first.settled).toBe(true);
    expect(count()).toBe(2);
    await turns();
    expect(second.settled).toBe(false);
    calls[1]!.done();
    await eventually(() => expect(second.settled).toBe(true));
    expect(second).toMatchObject({ settled: true, value: { serverVersion: 2 } });
    other.close();
  });

  it('fails the group and every later call once a sync fails', async () => {
    const { sync, calls } = manualSync();
    const s = await open(sync);
    const ack = tracked(s.integrate('s1', [{ collection: 'items', id: 'a' }], insert('a', 1)));
    await turns();
    const read = tracked(s.getSessions(['s1']));
    calls[0]!.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await eventually(() => expect(read.settled).toBe(true));
    expect(ack.settled).toBe(true);
    expect(String(ack.error)).toMatch(/WAL could not be made durable \(EIO.*restart the gateway/);
    expect(String(read.error)).toMatch(/WAL could not be made durable/);
    await expect(s.latestVersion()).rejects.toThrow(/WAL could not be made durable/);
    await expect(
      s.integrate('s1', [{ collection: 'items', id: 'b' }], insert('b', 2)),
    ).rejects.toThrow(/WAL could not be made durable/);
    await expect(s.openSession(sessionRecord('s3', 'c3'))).rejects.toThrow(/durable/);
    expect(calls).toHaveLength(1);
  });

  it('keeps fsync in COMMIT without the option (the default)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-deferred-'));
    store = new SqliteStore(join(dir, 'sync.db'));
    await store.openSession(sessionRecord('s1', 'c1'));
    const outcome = await store.integrate('s1', [{ collection: 'items', id: 'a' }], insert('a', 1));
    expect(outcome.serverVersion).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
  });
});
