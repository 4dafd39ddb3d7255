/**
 * Edges of the SDK's sync that a review found: writes made while the session opens on a
 * database behind the gateway, a client reset that fails once, a pause lifted while the
 * client was offline, changesets too big for the gateway, and a storage commit that fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDatabase, MemoryStorage, type App, type StorageCommit } from '../client/src/index.js';
import { ManualClock } from '../src/clock.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, openCars, sdkApp, untilConnected, untilDb, untilState } from './helpers/sdk.js';

let gw: TestGateway;
const apps: App[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  const closing = gw;
  gw = undefined as unknown as TestGateway; // the next test may start none
  await closing?.close();
});

async function app(options: Parameters<typeof sdkApp>[3] = {}) {
  const a = await sdkApp(gw, 'alice', undefined, options);
  apps.push(a);
  return a;
}

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };
async function expectSameAsServer(db: Parameters<typeof clientDocs>[0]) {
  expect(clientDocs(db, 'cars')).toEqual(await serverScope(gw.gateway.core.store, CARS, 'cars'));
}

/** A storage as slow as a disk: each commit takes a few milliseconds. */
class SlowStorage extends MemoryStorage {
  override async commit(commit: StorageCommit): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return super.commit(commit);
  }
}

describe('a database behind the gateway', () => {
  it('loses nothing written while its session opens: renumbered first, then uploaded', async () => {
    gw = await startTestGateway();
    const first = await openCars(await app(), 'phone');
    for (let i = 0; i < 5; i += 1)
      await first.write((tx) => tx.insert('cars', car(`old${i}`, 'Kia')));
    await first.syncSession.waitForUpload();
    first.syncSession.close();
    // The same client with a new database (a reinstall), written to before it syncs: its
    // versions start at 1 again, below what the gateway has integrated.
    const storage = new SlowStorage();
    const offline = await LocalDatabase.open({ clientId: 'phone', storage });
    await offline.write((tx) => tx.insert('cars', car('new0', 'VW')));
    await offline.write((tx) => tx.insert('cars', car('new1', 'VW')));
    const again = await openCars(await app(), 'phone', { storage });
    await again.syncSession.waitForUpload();
    const [new0, new1] = await gw.gateway.core.store.getDocuments([
      { collection: 'cars', id: 'new0' },
      { collection: 'cars', id: 'new1' },
    ]);
    expect(new0?.doc).toMatchObject({ make: 'VW' });
    expect(new1?.doc).toMatchObject({ make: 'VW' });
    await again.syncSession.waitForDownload();
    await expectSameAsServer(again);
  });
});

describe('a client reset that fails once', () => {
  it('is tried again, and the client ends equal to the server', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({
      clock,
      env: { MAX_OFFLINE_MS: '60000', COMPACT_INTERVAL_MS: '10000' },
    });
    const storage = new MemoryStorage();
    const firstApp = await app();
    const first = await openCars(firstApp, 'phone', { storage });
    await first.write((tx) => tx.insert('cars', car('c1', 'Kia')));
    await first.syncSession.waitForUpload();
    await first.syncSession.waitForDownload();
    first.syncSession.close();
    await firstApp.close();
    const tablet = await openCars(await app(), 'tablet');
    await tablet.write((tx) => tx.insert('cars', car('c2', 'VW')));
    await tablet.syncSession.waitForUpload();
    clock.advance(70_000);
    // Fault injection at the store: the next re-opening of a session fails once.
    const store = gw.gateway.core.store;
    const open = store.openSession.bind(store);
    let failures = 1;
    store.openSession = async (candidate) => {
      if (candidate.clientId === 'phone' && failures-- === 0) throw new Error('injected failure');
      return open(candidate);
    };
    const phone = await openCars(await app(), 'phone', { storage, onError: () => undefined });
    await untilDb(phone, () => phone.get('cars', 'c2') !== undefined, 'the fresh copy arrives');
    await phone.syncSession.waitForDownload();
    expect(failures).toBeLessThan(0);
    await expectSameAsServer(phone);
  });
});

describe('a pause lifted while the client was offline', () => {
  it('is picked up on reconnecting, and writes go on', async () => {
    gw = await startTestGateway();
    const proxy = await startFaultProxy({ upstreamPort: gw.gateway.port });
    proxies.push(proxy);
    const phoneApp = await app({ url: proxy.url(), keepAliveMs: 200 });
    const phone = await openCars(phoneApp, 'phone');
    const id = await phone.syncSession.id();
    const admin = await gw.token('root', ['admin']);
    await gw.http(`mutation ($id: ID!) { pauseSession(id: $id) { id } }`, { id }, admin);
    await untilDb(phone, () => phone.syncSession.state === 'INACTIVE', 'paused');
    proxy.refuse(true);
    proxy.reset();
    await untilState(phoneApp, 'DISCONNECTED');
    await gw.http(`mutation ($id: ID!) { resumeSession(id: $id) { id } }`, { id }, admin);
    await phone.write((tx) => tx.insert('cars', car('after', 'Kia')));
    proxy.refuse(false);
    phoneApp.reconnect();
    await untilConnected(phoneApp);
    await untilDb(phone, () => phone.syncSession.state === 'ACTIVE', 'resumed');
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    await expectSameAsServer(phone);
  });
});

describe('limits', () => {
  it('refuse a changeset the gateway could never take, before anything is applied', async () => {
    const db = await LocalDatabase.open({ clientId: 'x' });
    const write = db.write((tx) => {
      for (let i = 0; i < 1001; i += 1) tx.insert('cars', car(`c${i}`, 'Kia'));
    });
    await expect(write).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    expect(db.all('cars')).toEqual([]);
    expect(db.snapshot.pending).toEqual([]);
  });
});

/** A storage whose next commit fails once, when told. */
class FlakyStorage extends MemoryStorage {
  failNext = false;
  override async commit(commit: StorageCommit): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    return super.commit(commit);
  }
}

describe('the storage', () => {
  it('gets what a failed commit held with the next one, and keeps the last operation on a key', async () => {
    const storage = new FlakyStorage();
    const db = await LocalDatabase.open({ clientId: 'x', storage });
    await db.write((tx) => tx.insert('cars', car('a', 'Kia')));
    storage.failNext = true;
    await expect(db.write((tx) => tx.insert('cars', car('b', 'Kia')))).rejects.toThrow('disk full');
    const batch = (ops: ('UPSERT' | 'REMOVE')[], to: number) => ({
      fromServerVersion: 0,
      toServerVersion: to,
      bootstrapUntil: to,
      queriesVersion: 0,
      changes: ops.map((op) => ({ collection: 'cars', id: 'k', op, document: car('k', 'VW') })),
    });
    await db.applyBatch(batch(['UPSERT', 'REMOVE'], 7)); // one key, last op wins: gone
    const reopened = await LocalDatabase.open({ clientId: 'x', storage });
    expect(reopened.snapshot.pending.map((cs) => cs.changes[0]?.id)).toEqual(['a', 'b']);
    expect(reopened.get('cars', 'k')).toBeUndefined();
    expect(reopened.snapshot.serverVersion).toBe(7);
  });
});
