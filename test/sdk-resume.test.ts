/**
 * The SDK resumes, never re-bootstraps: every (re)subscription starts from the database's
 * last applied version; a bootstrap is a versioned snapshot that replaces the synced state,
 * resumable where it was interrupted; a new scope can be waited for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage, openSyncedDatabase, type App } from '../client/src/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { clientDocs, serverScope, type ClientScope } from './helpers/scope.js';
import { car, openCars, sdkApp, untilConnected, untilDb } from './helpers/sdk.js';

let gw: TestGateway;
const apps: App[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await gw?.close();
});

async function app(options: Parameters<typeof sdkApp>[3] = {}) {
  const a = await sdkApp(gw, 'alice', undefined, options);
  apps.push(a);
  return a;
}

async function proxied() {
  const proxy = await startFaultProxy({ upstreamPort: gw.gateway.port });
  proxies.push(proxy);
  return { proxy, app: await app({ url: proxy.url(), keepAliveMs: 200 }) };
}

const CARS: ClientScope = { user: 'alice', queries: [{ collection: 'cars' }] };

async function expectSameAsServer(db: Parameters<typeof clientDocs>[0], scope = CARS) {
  expect(clientDocs(db, 'cars')).toEqual(await serverScope(gw.gateway.core.store, scope, 'cars'));
}

async function writeCars(db: Awaited<ReturnType<typeof openCars>>, ids: string[], n = 0) {
  await db.write((tx) =>
    ids.forEach((id, i) => tx.insert('cars', { ...car(id, 'Kia'), n: n + i })),
  );
}

const range = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

describe('resuming', () => {
  it('re-downloads nothing after reconnecting: each subscription resumes from the last version', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    await writeCars(writer, range('c', 300));
    await writer.syncSession.waitForUpload();
    const readerApp = await app();
    const reader = await openCars(readerApp, 'reader');
    await reader.syncSession.waitForDownload();
    let received = 0;
    reader.onChange((keys) => (received += keys.length));
    for (const round of [1, 2, 3]) {
      readerApp.restartConnection();
      await untilConnected(readerApp);
      await writeCars(writer, [`new${round}`]);
      await untilDb(reader, () => reader.get('cars', `new${round}`) !== undefined, `new${round}`);
    }
    expect(received).toBe(3);
    await expectSameAsServer(reader);
  });

  it('removes what was deleted or left the scope while the client was away', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    await writeCars(writer, range('c', 20));
    await writer.syncSession.waitForUpload();
    const { proxy, app: readerApp } = await proxied();
    const scope = { user: 'alice', queries: [{ collection: 'cars', filter: { n: { $lt: 10 } } }] };
    const reader = await openSyncedDatabase(readerApp, {
      clientId: 'reader',
      queries: scope.queries,
    });
    await reader.syncSession.waitForDownload();
    expect(reader.all('cars')).toHaveLength(10);
    proxy.refuse(true);
    proxy.reset();
    await writer.write((tx) => {
      tx.delete('cars', 'c0001');
      tx.update('cars', 'c0002', { n: 50 });
      tx.insert('cars', { ...car('late', 'VW'), n: 3 });
    });
    await writer.syncSession.waitForUpload();
    proxy.refuse(false);
    await reader.syncSession.waitForDownload();
    expect(reader.get('cars', 'c0001')).toBeUndefined();
    expect(reader.get('cars', 'c0002')).toBeUndefined();
    await expectSameAsServer(reader, scope);
  });
});

describe('bootstrapping', () => {
  it('acknowledges each page at a real version and resumes an interrupted bootstrap where it was', async () => {
    gw = await startTestGateway({ env: { DOWNLOAD_BATCH_SIZE: '50' } });
    const writer = await openCars(await app(), 'writer');
    for (let i = 0; i < 4; i += 1) await writeCars(writer, range(`p${i}-`, 100));
    await writer.syncSession.waitForUpload();
    const readerApp = await app();
    const reader = await openCars(readerApp, 'reader');
    let received = 0;
    const versions: number[] = [];
    reader.onChange((keys) => {
      received += keys.length;
      versions.push(reader.meta.serverVersion);
      if (versions.length === 2) readerApp.restartConnection(); // mid-bootstrap
    });
    await reader.syncSession.waitForDownload();
    expect(reader.meta.bootstrapped).toBe(true);
    const during = versions.filter((v) => v > 0 && v < reader.meta.serverVersion);
    expect(during.length).toBeGreaterThan(2); // pages carried real, increasing versions
    expect(during).toEqual([...during].sort((a, b) => a - b));
    expect(received).toBeLessThan(400 + 100); // resumed, not started again
    await expectSameAsServer(reader);
    const [session] = await gw.gateway.core.store.getSessions([await reader.syncSession.id()]);
    expect(session?.lastDownloadedServerVersion).toBe(reader.meta.serverVersion);
  });

  it('replaces the synced state: a document the snapshot lacks is removed, unsynced writes stay', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    await writeCars(writer, ['kept', 'gone']);
    await writer.syncSession.waitForUpload();
    const storage = new MemoryStorage();
    const firstApp = await app();
    const first = await openCars(firstApp, 'reader', { storage });
    await first.syncSession.waitForDownload();
    await first.syncSession.pause();
    await first.write((tx) => tx.insert('cars', car('mine', 'Lada')));
    first.syncSession.close();
    await firstApp.close();
    await writer.write((tx) => tx.delete('cars', 'gone'));
    await writer.syncSession.waitForUpload();
    // Forget the database's position, as a reset does: the next download is a bootstrap.
    const state = (await storage.load())!;
    await storage.commit({ meta: { ...state.meta, serverVersion: 0, bootstrapped: false } });
    const again = await openCars(await app(), 'reader', { storage });
    await again.syncSession.resume();
    await again.syncSession.waitForUpload();
    await again.syncSession.waitForDownload();
    expect(again.get('cars', 'gone')).toBeUndefined();
    expect(again.get('cars', 'mine')?.make).toBe('Lada');
    await expectSameAsServer(again);
  });
});

describe('updateQueries from the SDK', () => {
  it('changes the scope, and waitForDownload resolves once the new scope is synced', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    await writeCars(writer, range('c', 20));
    await writer.syncSession.waitForUpload();
    const low = [{ collection: 'cars', filter: { n: { $lt: 10 } } }];
    const reader = await openSyncedDatabase(await app(), { clientId: 'reader', queries: low });
    await reader.syncSession.waitForDownload();
    const high = [{ collection: 'cars', filter: { n: { $gte: 15 } } }];
    await reader.syncSession.updateQueries(high);
    await reader.syncSession.waitForDownload();
    expect(reader.all('cars').map((d) => d._id)).toEqual(range('c', 20).slice(15));
    await expectSameAsServer(reader, { user: 'alice', queries: high });
  });
});

describe('a client’s own writes', () => {
  it('leave its view once synced when they fall outside its queries', async () => {
    gw = await startTestGateway();
    const low = [{ collection: 'cars', filter: { n: { $lt: 10 } } }];
    const phone = await openSyncedDatabase(await app(), { clientId: 'phone', queries: low });
    await phone.write((tx) => tx.insert('cars', { ...car('in', 'Kia'), n: 1 }));
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    await phone.write((tx) => tx.insert('cars', { ...car('out', 'Kia'), n: 70 }));
    expect(phone.get('cars', 'out')).toBeDefined(); // shown at once, as written
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    await untilDb(phone, () => phone.get('cars', 'out') === undefined, 'out left the view');
    await expectSameAsServer(phone, { user: 'alice', queries: low });
  });
});
