/**
 * Pause and resume as the seed has them, and a connection that notices faults: pauses by
 * direction that take effect at once, online or not; resume() connecting now; dead links
 * found by the pong timeout; attempts that hang cut by the connect and handshake timeouts;
 * `online` events reconnecting at once. Faults come from a fault proxy of our own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../client/src/index.js';
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
  await gw?.close();
});

async function app(
  options: Parameters<typeof sdkApp>[3] = {},
  backoff?: Parameters<typeof sdkApp>[2],
) {
  const a = await sdkApp(gw, 'alice', backoff, options);
  apps.push(a);
  return a;
}

async function proxy() {
  const p = await startFaultProxy({ upstreamPort: gw.gateway.port });
  proxies.push(p);
  return p;
}

async function serverSession(id: string) {
  const [session] = await gw.gateway.core.store.getSessions([id]);
  return session!;
}

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };

async function expectSameAsServer(db: Parameters<typeof clientDocs>[0]) {
  expect(clientDocs(db, 'cars')).toEqual(await serverScope(gw.gateway.core.store, CARS, 'cars'));
}

describe('pause by direction', () => {
  it('pausing DOWNLOAD keeps uploading and stops downloading until resume', async () => {
    gw = await startTestGateway();
    const phone = await openCars(await app(), 'phone');
    const tablet = await openCars(await app(), 'tablet');
    const id = await phone.syncSession.id();
    await phone.syncSession.pause('DOWNLOAD');
    expect(phone.syncSession.state).toBe('INACTIVE');
    await phone.write((tx) => tx.insert('cars', car('mine', 'Kia')));
    await phone.syncSession.waitForUpload();
    await untilDb(tablet, () => tablet.get('cars', 'mine') !== undefined, 'tablet sees mine');
    await tablet.write((tx) => tx.insert('cars', car('theirs', 'VW')));
    await tablet.syncSession.waitForUpload();
    expect(phone.get('cars', 'theirs')).toBeUndefined();
    expect((await serverSession(id)).pause?.directions).toEqual(['DOWNLOAD']);
    await phone.syncSession.resume();
    await phone.syncSession.waitForDownload();
    expect(phone.get('cars', 'theirs')).toBeDefined();
    await expectSameAsServer(phone);
  });

  it('pausing UPLOAD keeps downloading and keeps writes local until resume', async () => {
    gw = await startTestGateway();
    const phone = await openCars(await app(), 'phone');
    const tablet = await openCars(await app(), 'tablet');
    await phone.syncSession.id();
    await phone.syncSession.pause('UPLOAD');
    await phone.write((tx) => tx.insert('cars', car('mine', 'Kia')));
    await tablet.write((tx) => tx.insert('cars', car('theirs', 'VW')));
    await untilDb(phone, () => phone.get('cars', 'theirs') !== undefined, 'phone sees theirs');
    expect(phone.snapshot.pending).toHaveLength(1);
    await phone.syncSession.resume();
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    await expectSameAsServer(phone);
  });

  it('pause() and resume() take effect at once offline, and reach the gateway once connected', async () => {
    gw = await startTestGateway();
    const p = await proxy();
    const phoneApp = await app({ url: p.url(), keepAliveMs: 200 });
    const phone = await openCars(phoneApp, 'phone');
    const id = await phone.syncSession.id();
    p.refuse(true);
    p.reset();
    await untilState(phoneApp, 'DISCONNECTED');
    await phone.syncSession.pause();
    expect(phone.syncSession.state).toBe('INACTIVE');
    expect((await serverSession(id)).pause).toBeNull();
    p.refuse(false);
    phoneApp.reconnect();
    await untilConnected(phoneApp);
    while ((await serverSession(id)).pause === null) await new Promise((r) => setTimeout(r, 10));
    expect((await serverSession(id)).pause?.directions).toEqual(['UPLOAD', 'DOWNLOAD']);
  });

  it('resume() connects now, without waiting out the backoff', async () => {
    gw = await startTestGateway();
    const p = await proxy();
    const slow = { baseMs: 60_000, maxMs: 60_000, random: () => 1 };
    const phoneApp = await app({ url: p.url(), keepAliveMs: 200 }, slow);
    const phone = await openCars(phoneApp, 'phone');
    await phone.syncSession.id();
    await phone.syncSession.pause();
    p.reset();
    await untilState(phoneApp, 'DISCONNECTED');
    expect(phoneApp.nextRetryAt!.getTime() - Date.now()).toBeGreaterThan(30_000);
    await phone.syncSession.resume();
    await untilConnected(phoneApp);
    expect(phoneApp.nextRetryAt).toBeNull();
  });
});

describe('liveness', () => {
  it('finds a dead link by the pong timeout, while the partition still holds', async () => {
    gw = await startTestGateway();
    const p = await proxy();
    const phoneApp = await app({ url: p.url(), keepAliveMs: 200 });
    const phone = await openCars(phoneApp, 'phone');
    await phone.syncSession.waitForDownload();
    p.partition(); // bytes are held, the sockets stay open: only the pong timeout can tell
    await untilState(phoneApp, 'DISCONNECTED');
    expect(p.partitioned).toBe(true);
    p.heal();
    await untilConnected(phoneApp);
    await phone.write((tx) => tx.insert('cars', car('after', 'Kia')));
    await phone.syncSession.waitForUpload();
    await expectSameAsServer(phone);
  });

  it('cuts attempts that hang (connect and handshake timeouts) and connects once the fault lifts', async () => {
    gw = await startTestGateway();
    const p = await proxy();
    p.partition();
    const phoneApp = await app({ url: p.url(), keepAliveMs: 200 });
    const seen: string[] = [];
    phoneApp.onConnectionChange((prev, cur) => seen.push(`${prev}->${cur}`));
    const phone = await openCars(phoneApp, 'phone');
    while (seen.filter((s) => s === 'CONNECTING->DISCONNECTED').length < 2) {
      await new Promise((r) => setTimeout(r, 10));
    }
    p.heal();
    await untilConnected(phoneApp);
    await phone.syncSession.waitForDownload();
    await expectSameAsServer(phone);
  });

  it("reconnects at once on the platform's online event", async () => {
    gw = await startTestGateway();
    const events = new EventTarget();
    const target = globalThis as unknown as Record<string, unknown>;
    target.addEventListener = events.addEventListener.bind(events);
    target.removeEventListener = events.removeEventListener.bind(events);
    try {
      const p = await proxy();
      const slow = { baseMs: 60_000, maxMs: 60_000, random: () => 1 };
      const phoneApp = await app({ url: p.url(), keepAliveMs: 200 }, slow);
      const phone = await openCars(phoneApp, 'phone');
      await phone.syncSession.id();
      p.reset();
      await untilState(phoneApp, 'DISCONNECTED');
      events.dispatchEvent(new Event('online'));
      await untilConnected(phoneApp);
      await phone.syncSession.waitForDownload();
    } finally {
      delete target.addEventListener;
      delete target.removeEventListener;
    }
  });
});
