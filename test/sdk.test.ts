import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../client/src/file-storage.js';
import {
  CancellationToken,
  CancelledError,
  openSyncedDatabase,
  type App,
} from '../client/src/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { car, openCars, sdkApp, untilDb } from './helpers/sdk.js';

let gw: TestGateway;
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await gw?.close();
});

async function app(user = 'alice', backoff?: Parameters<typeof sdkApp>[2]) {
  const a = await sdkApp(gw, user, backoff);
  apps.push(a);
  return a;
}

const untilConnected = (a: App) =>
  new Promise<void>((resolve) => {
    if (a.connectionState === 'CONNECTED') return resolve();
    const stop = a.onConnectionChange(
      (_, current) => current === 'CONNECTED' && (stop(), resolve()),
    );
  });

/** Stops the gateway and starts it again on the same port and data. */
async function restartGateway(between: () => Promise<void> = async () => undefined) {
  const { dataDir } = gw;
  const port = String(gw.gateway.port);
  await gw.close();
  await between();
  gw = await startTestGateway({ dataDir, file: true, env: { PORT: port } });
}

describe('the SDK against the real gateway', () => {
  it('two apps converge after concurrent offline edits, reconnecting by themselves', async () => {
    gw = await startTestGateway({ file: true });
    const one = await openCars(await app(), 'phone');
    const two = await openCars(await app(), 'tablet');
    await one.write((tx) => tx.insert('cars', car('c1', 'Kia')));
    await untilDb(two, () => two.get('cars', 'c1') !== undefined, 'tablet sees c1');
    await restartGateway(async () => {
      await one.write((tx) => tx.update('cars', 'c1', { color: 'red' }));
      await two.write((tx) => {
        tx.update('cars', 'c1', { seats: 5 });
        tx.insert('cars', car('c2', 'Volvo'));
      });
    });
    const converged = (db: typeof one) =>
      db.get('cars', 'c1')?.color === 'red' &&
      db.get('cars', 'c1')?.seats === 5 &&
      db.get('cars', 'c2') !== undefined;
    await Promise.all([
      untilDb(one, () => converged(one), 'phone converged'),
      untilDb(two, () => converged(two), 'tablet converged'),
    ]);
    expect(one.all('cars')).toEqual(two.all('cars'));
    await Promise.all([one.syncSession.waitForUpload(), two.syncSession.waitForUpload()]);
    expect(one.snapshot.pending).toEqual([]);
  });

  it('a write made while paused stays local and uploads after resume, once', async () => {
    gw = await startTestGateway();
    const one = await openCars(await app(), 'phone');
    const two = await openCars(await app(), 'tablet');
    await one.syncSession.id();
    await one.syncSession.pause();
    expect(one.syncSession.state).toBe('INACTIVE');
    await one.write((tx) => tx.insert('cars', car('c1', 'Genesis')));
    expect(one.get('cars', 'c1')?.make).toBe('Genesis');
    expect(one.snapshot.pending).toHaveLength(1);
    await one.syncSession.resume();
    await one.syncSession.waitForUpload();
    await untilDb(two, () => two.get('cars', 'c1') !== undefined, 'tablet sees c1');
    const history = await gw.gateway.core.store.readHistory(0, 10);
    expect(history.map((h) => h.id)).toEqual(['c1']);
  });

  it('app.reconnect() skips the remaining backoff', async () => {
    gw = await startTestGateway({ file: true });
    const slow = await app('alice', { baseMs: 60_000, maxMs: 60_000, random: () => 1 });
    const db = await openCars(slow, 'phone');
    await db.syncSession.id();
    await restartGateway(async () => {
      while (slow.nextRetryAt === null) await new Promise((r) => setTimeout(r, 5));
      expect(slow.nextRetryAt.getTime() - Date.now()).toBeGreaterThan(30_000);
    });
    slow.reconnect();
    await untilConnected(slow);
    expect(slow.nextRetryAt).toBeNull();
  });

  it('cancelling a token ends both waits', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    const one = await openCars(await app(), 'phone');
    await one.syncSession.id();
    await one.syncSession.pause();
    await one.write((tx) => tx.insert('cars', car('local', 'Kia')));
    await writer.write((tx) => tx.insert('cars', car('remote', 'VW')));
    await writer.syncSession.waitForUpload();
    const token = new CancellationToken();
    const download = one.syncSession.waitForDownload(token);
    const upload = one.syncSession.waitForUpload(token);
    token.cancel();
    await expect(download).rejects.toBeInstanceOf(CancelledError);
    await expect(upload).rejects.toBeInstanceOf(CancelledError);
  });

  it('the progress stream ends at exactly 1.0 in the fixed mode', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    for (let i = 0; i < 50; i += 1)
      await writer.write((tx) => tx.insert('cars', car(`c${i}`, 'Kia')));
    await writer.syncSession.waitForUpload();
    const reader = await openCars(await app(), 'reader');
    const values: number[] = [];
    for await (const p of reader.syncSession.getProgressStream(
      'DOWNLOAD',
      'FOR_CURRENTLY_OUTSTANDING_WORK',
    )) {
      values.push(p.progressEstimate);
    }
    expect(values[values.length - 1]).toBe(1);
    expect(values.filter((v) => v === 1)).toHaveLength(1);
    expect(reader.all('cars')).toHaveLength(50);
  });
});

describe('following the gateway', () => {
  it('is paused by a pause issued elsewhere, and resumed likewise', async () => {
    gw = await startTestGateway();
    const one = await openCars(await app(), 'phone');
    const id = await one.syncSession.id();
    const admin = await gw.token('root', ['admin']);
    await gw.http(`mutation ($id: ID!) { pauseSession(id: $id) { id } }`, { id }, admin);
    while (one.syncSession.state !== 'INACTIVE') await new Promise((r) => setTimeout(r, 5));
    await one.write((tx) => tx.insert('cars', car('c1', 'Kia')));
    await gw.http(`mutation ($id: ID!) { resumeSession(id: $id) { id } }`, { id }, admin);
    await one.syncSession.waitForUpload();
    expect(one.syncSession.state).toBe('ACTIVE');
  });

  it('reconnects when the gateway asks it to', async () => {
    gw = await startTestGateway();
    const a = await app();
    const one = await openCars(a, 'phone');
    await one.syncSession.id();
    const changes: string[] = [];
    a.onConnectionChange((previous, current) => changes.push(`${previous}->${current}`));
    const r = await gw.http<{ reconnect: { sessions: number } }>(
      `mutation { reconnect { sessions } }`,
      {},
      await gw.token('alice'),
    );
    expect(r.data?.reconnect.sessions).toBe(1);
    while (!changes.includes('CONNECTING->CONNECTED')) await new Promise((r) => setTimeout(r, 5));
    expect(changes.slice(0, 3)).toEqual([
      'CONNECTED->DISCONNECTED',
      'DISCONNECTED->CONNECTING',
      'CONNECTING->CONNECTED',
    ]);
  });
});

describe('the file storage', () => {
  it('keeps unsynced writes across a restart of the app', async () => {
    gw = await startTestGateway();
    const dir = mkdtempSync(join(tmpdir(), 'sdk-file-'));
    const open = async (a: App, storage: FileStorage) =>
      openSyncedDatabase(a, { clientId: 'phone', queries: [{ collection: 'cars' }], storage });
    const first = await app();
    const firstStorage = new FileStorage(join(dir, 'phone.json'));
    const db = await open(first, firstStorage);
    await db.syncSession.id();
    await db.syncSession.pause();
    await db.write((tx) => tx.insert('cars', car('c1', 'Volvo')));
    await first.close();
    await firstStorage.flush();
    const secondStorage = new FileStorage(join(dir, 'phone.json'));
    const second = await app();
    const again = await open(second, secondStorage);
    expect(again.get('cars', 'c1')?.make).toBe('Volvo');
    await again.syncSession.resume();
    await again.syncSession.waitForUpload();
    const [stored] = await gw.gateway.core.store.getDocuments([{ collection: 'cars', id: 'c1' }]);
    expect(stored?.doc).toMatchObject({ make: 'Volvo' });
    await second.close();
    await secondStorage.flush();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('opening', () => {
  it('can report the download progress of the first sync, up to 1.0', async () => {
    gw = await startTestGateway();
    const writer = await openCars(await app(), 'writer');
    for (let i = 0; i < 20; i += 1)
      await writer.write((tx) => tx.insert('cars', car(`c${i}`, 'Kia')));
    await writer.syncSession.waitForUpload();
    const reported: number[] = [];
    const reached = new Promise<void>((resolve) => {
      void openSyncedDatabase(apps[0]!, {
        clientId: 'reader',
        queries: [{ collection: 'cars' }],
        onOpenProgress: (p) => {
          reported.push(p.progressEstimate);
          if (p.progressEstimate === 1) resolve();
        },
      });
    });
    await reached;
    expect(reported[reported.length - 1]).toBe(1);
    expect(reported.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});
