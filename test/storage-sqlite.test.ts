/**
 * SqliteStorage: the storage contract on real files, a database of 10k documents across a
 * reopen, its options and file checks, and an SDK database on it through the real gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../client/src/index.js';
import { SqliteStorage } from '../client/src/node/sqlite-storage.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, openCars, sdkApp } from './helpers/sdk.js';
import { changeset, doc, meta, storageContract } from './storage-contract.js';

const dirs: string[] = [];
const tempFile = (name = 'client.db') => {
  const dir = mkdtempSync(join(tmpdir(), 'storage-sqlite-'));
  dirs.push(dir);
  return join(dir, 'sub', name);
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

storageContract('SqliteStorage', async () => {
  const path = tempFile();
  const storage = new SqliteStorage(path);
  const opened = [storage];
  return {
    storage,
    another: async () => opened[opened.push(new SqliteStorage(path)) - 1]!,
    close: () => storage.close(),
    refusesUnstorable: true,
    cleanup: async () => {
      for (const s of opened) await s.close();
    },
  };
});

describe('SqliteStorage', () => {
  it('keeps 10k documents and their changesets across a reopen', async () => {
    const path = tempFile();
    const docs = Array.from({ length: 10_000 }, (_, i) => doc(`c${i}`, i % 3, { n: i }));
    const changesets = Array.from({ length: 50 }, (_, i) => changeset(i + 1, i < 10 ? 90 : null));
    const first = new SqliteStorage(path);
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
    const again = new SqliteStorage(path);
    const state = (await again.load())!;
    await again.close();
    expect(state.meta).toEqual(meta({ clientVersion: 50, serverVersion: 100 }));
    expect(new Map(state.docs)).toEqual(new Map(docs));
    expect(state.changesets).toEqual(changesets);
  });

  it('uses WAL, with synchronous FULL by default and NORMAL on request', async () => {
    const path = tempFile();
    await new SqliteStorage(path).close();
    const pragmas = (s: SqliteStorage) => {
      // The storage's own connection is private: read the settings it gave the file and itself.
      const db = (s as unknown as { db: Database.Database }).db;
      return [
        db.pragma('journal_mode', { simple: true }),
        db.pragma('synchronous', { simple: true }),
      ];
    };
    const full = new SqliteStorage(path);
    const normal = new SqliteStorage(path, { synchronous: 'NORMAL' });
    expect(pragmas(full)).toEqual(['wal', 2]);
    expect(pragmas(normal)).toEqual(['wal', 1]);
    await full.close();
    await normal.close();
  });

  it('refuses a file laid out by a newer SDK, and leaves it as it was', () => {
    const path = tempFile();
    new SqliteStorage(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 2');
    raw.close();
    expect(() => new SqliteStorage(path)).toThrow(/layout 2: written by a newer SDK/);
    const after = new Database(path);
    expect(after.pragma('user_version', { simple: true })).toBe(2);
    after.close();
  });
});

describe('an SDK database on SqliteStorage', () => {
  let gw: TestGateway | undefined;
  const apps: App[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await gw?.close();
  });
  const app = async () => {
    const a = await sdkApp(gw!, 'alice');
    apps.push(a);
    return a;
  };

  it('keeps a write made while paused across a restart of the app, then uploads it', async () => {
    gw = await startTestGateway();
    const path = tempFile('phone.db');
    const other = await openCars(await app(), 'tablet');
    await other.write((tx) => tx.insert('cars', car('t1', 'Saab')));
    await other.syncSession.waitForUpload();

    const first = await app();
    const firstStorage = new SqliteStorage(path);
    const phone = await openCars(first, 'phone', { storage: firstStorage });
    await phone.syncSession.waitForDownload();
    await phone.syncSession.pause();
    await phone.write((tx) => tx.insert('cars', car('c1', 'Volvo')));
    await first.close();
    await firstStorage.close();
    await other.write((tx) => tx.update('cars', 't1', { color: 'red' }));
    await other.syncSession.waitForUpload();

    const storage = new SqliteStorage(path);
    const again = await openCars(await app(), 'phone', { storage });
    expect(again.get('cars', 'c1')?.make).toBe('Volvo');
    expect(again.get('cars', 't1')?.make).toBe('Saab'); // downloaded before the restart
    await again.syncSession.resume();
    await again.syncSession.waitForUpload();
    await again.syncSession.waitForDownload();
    const [stored] = await gw.gateway.core.store.getDocuments([{ collection: 'cars', id: 'c1' }]);
    expect(stored?.doc).toMatchObject({ make: 'Volvo' });
    const server = await serverScope(
      gw.gateway.core.store,
      { user: 'alice', queries: [{ collection: 'cars' }] },
      'cars',
    );
    expect(clientDocs(again, 'cars')).toEqual(server);
    expect(server.map((d) => d._id)).toEqual(['c1', 't1']);
    await apps.pop()!.close();
    await storage.close();
  });
});
