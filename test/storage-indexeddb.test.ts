/**
 * IndexedDbStorage in Node, on fake-indexeddb: the storage contract, a database of 10k
 * documents across a reopen, and the Web Lock that keeps two tabs off one database (with a
 * small in-process stand-in for `navigator.locks`, which Node 20 lacks).
 */
import 'fake-indexeddb/auto';
import { deleteDB, openDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IndexedDbStorage, StorageLockedError } from '../client/src/indexeddb-storage.js';
import { changeset, doc, meta, storageContract } from './storage-contract.js';

let serial = 0;
const freshName = () => `storage-test-${process.pid}-${(serial += 1)}`;

storageContract('IndexedDbStorage', async () => {
  const name = freshName();
  const storage = new IndexedDbStorage(name);
  const opened = [storage];
  return {
    storage,
    another: async () => opened[opened.push(new IndexedDbStorage(name)) - 1]!,
    close: () => storage.close(),
    refusesUnstorable: true,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await deleteDB(name);
    },
  };
});

describe('IndexedDbStorage', () => {
  it('keeps 10k documents and their changesets across a reopen', async () => {
    const name = freshName();
    const docs = Array.from({ length: 10_000 }, (_, i) => doc(`c${i}`, i % 3, { n: i }));
    const changesets = Array.from({ length: 50 }, (_, i) => changeset(i + 1, i < 10 ? 90 : null));
    const first = new IndexedDbStorage(name);
    for (let page = 0; page < docs.length; page += 1000)
      await first.commit({
        meta: meta({ serverVersion: page }),
        putDocs: docs.slice(page, page + 1000),
      });
    await first.commit({
      meta: meta({ clientVersion: 50, serverVersion: 100 }),
      putChangesets: changesets,
    });
    await first.close();
    const again = new IndexedDbStorage(name);
    const state = (await again.load())!;
    await again.close();
    await deleteDB(name);
    expect(state.meta).toEqual(meta({ clientVersion: 50, serverVersion: 100 }));
    expect(new Map(state.docs)).toEqual(new Map(docs));
    expect(state.changesets).toEqual(changesets);
  });

  it('opens without a lock where there are no Web Locks: two instances share a name', async () => {
    const name = freshName();
    const [one, two] = [new IndexedDbStorage(name), new IndexedDbStorage(name)];
    await one.commit({ meta: meta() });
    expect(await two.load()).toMatchObject({ meta: meta() });
    expect((await IndexedDbStorage.claim(name)).name).toBe(`${name}-1`);
    await Promise.all([one.close(), two.close()]);
  });
});

/** Exclusive locks of one origin, as `navigator.locks.request(name, { ifAvailable }, cb)` has them. */
class FakeLocks {
  readonly held = new Set<string>();
  async request(name: string, _: { ifAvailable: boolean }, cb: (lock: unknown) => unknown) {
    if (this.held.has(name)) return cb(null);
    this.held.add(name);
    try {
      return await cb({ name, mode: 'exclusive' });
    } finally {
      this.held.delete(name);
    }
  }
}

describe('IndexedDbStorage with Web Locks (two tabs of one origin)', () => {
  let locks: FakeLocks;
  const open: IndexedDbStorage[] = [];
  const track = (s: IndexedDbStorage) => (open.push(s), s);
  beforeEach(() => {
    locks = new FakeLocks();
    vi.stubGlobal('navigator', { locks });
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    vi.unstubAllGlobals();
  });

  it('refuses a second open of the same name while the first holds it, until it closes', async () => {
    const name = freshName();
    const first = track(new IndexedDbStorage(name));
    await first.commit({ meta: meta({ clientVersion: 3 }) });
    const second = track(new IndexedDbStorage(name));
    const refused = await second.load().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageLockedError);
    expect(refused).toMatchObject({ code: 'STORAGE_LOCKED', databaseName: name });
    expect((refused as Error).message).toContain(`"${name}"`);
    await expect(second.commit({ meta: meta() })).rejects.toBeInstanceOf(StorageLockedError);
    await first.close();
    expect(locks.held.size).toBe(0);
    expect(await second.load()).toMatchObject({ meta: meta({ clientVersion: 3 }) });
  });

  it('claim() gives each tab the first free slot, and the same slot again once it is free', async () => {
    const prefix = freshName();
    const tab1 = track(await IndexedDbStorage.claim(prefix));
    const tab2 = track(await IndexedDbStorage.claim(prefix));
    expect([tab1.name, tab2.name]).toEqual([`${prefix}-1`, `${prefix}-2`]);
    await tab1.commit({ meta: meta({ clientId: tab1.name }) });
    await tab1.close(); // tab 1 reloads
    const reloaded = track(await IndexedDbStorage.claim(prefix));
    expect(reloaded.name).toBe(`${prefix}-1`);
    expect((await reloaded.load())?.meta.clientId).toBe(`${prefix}-1`);
  });

  it('claim() fails with StorageLockedError when every slot is taken', async () => {
    const prefix = freshName();
    for (let i = 0; i < 3; i += 1) track(await IndexedDbStorage.claim(prefix, 3));
    const refused = await IndexedDbStorage.claim(prefix, 3).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageLockedError);
    expect(refused).toMatchObject({ databaseName: prefix });
    expect((refused as Error).message).toContain(`${prefix}-1 to ${prefix}-3`);
  });

  it('lets go of the lock when the database cannot be opened', async () => {
    const name = freshName();
    const newer = track(new IndexedDbStorage(name));
    await newer.load();
    await newer.close();
    // The same name at a higher version, as a newer SDK would leave it.
    (await openDB(name, 99)).close();
    await expect(track(new IndexedDbStorage(name)).load()).rejects.toThrow();
    expect(locks.held.size).toBe(0);
  });
});
