/**
 * Client reset as the seed's platform has it: recover unsynced changes (they win), discard
 * them, recover or discard, and manual, with before and after callbacks; and the gateway
 * resets only a client really away past the max offline time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientResetError,
  MemoryStorage,
  type App,
  type ClientResetConfig,
  type LocalSnapshot,
  type SyncClientError,
} from '../client/src/index.js';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, openCars, sdkApp } from './helpers/sdk.js';

let gw: TestGateway;
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await gw?.close();
});

async function app() {
  const a = await sdkApp(gw, 'alice');
  apps.push(a);
  return a;
}

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };

async function expectSameAsServer(db: Parameters<typeof clientDocs>[0]) {
  expect(clientDocs(db, 'cars')).toEqual(await serverScope(gw.gateway.core.store, CARS, 'cars'));
}

/**
 * The phone syncs `c1` and `gone`, goes offline and edits `c1`; meanwhile the tablet edits
 * `c1` later and deletes `gone`; past the max offline time the history is compacted, so the
 * phone, back with its database, must reset. Returns the phone reopened with `config`.
 */
async function phoneAwayTooLong(
  config: ClientResetConfig,
  onError?: (error: SyncClientError) => void,
) {
  const clock = new ManualClock();
  gw = await startTestGateway({
    clock,
    env: { MAX_OFFLINE_MS: '60000', COMPACT_INTERVAL_MS: '10000' },
  });
  const storage = new MemoryStorage();
  const tablet = await openCars(await app(), 'tablet');
  const firstApp = await app();
  const first = await openCars(firstApp, 'phone', { storage });
  await first.write((tx) => {
    tx.insert('cars', { ...car('c1', 'Kia'), color: 'white' });
    tx.insert('cars', car('gone', 'Lada'));
  });
  await first.syncSession.waitForUpload();
  await first.syncSession.waitForDownload();
  first.syncSession.close();
  await firstApp.close();
  await first.write((tx) => tx.update('cars', 'c1', { color: 'red' })); // offline, earlier
  await tablet.write((tx) => {
    tx.update('cars', 'c1', { color: 'blue' }); // later: wins unless the phone's is recovered
    tx.delete('cars', 'gone');
  });
  await tablet.syncSession.waitForUpload();
  clock.advance(70_000); // the sweep resets the phone's session and compacts the history
  const phone = await openCars(await app(), 'phone', { storage, clientReset: config, onError });
  return { phone, tablet };
}

function recorder() {
  const calls: string[] = [];
  let before: LocalSnapshot | null = null;
  let after: LocalSnapshot | null = null;
  const config: ClientResetConfig = {
    mode: 'recoverOrDiscardUnsyncedChanges',
    onBefore: (snapshot) => {
      before = snapshot;
      calls.push('before');
    },
  };
  const done = new Promise<string>((resolve) => {
    config.onAfter = (result) => {
      after = result.after;
      calls.push(`after:${result.mode}`);
      resolve(result.mode);
    };
  });
  return { config, calls, done, snapshots: () => ({ before: before!, after: after! }) };
}

describe('client reset', () => {
  it('recovers unsynced changes: re-applied on the fresh copy, they win', async () => {
    const r = recorder();
    r.config.mode = 'recoverUnsyncedChanges';
    const { phone, tablet } = await phoneAwayTooLong(r.config);
    expect(await r.done).toBe('recoverUnsyncedChanges');
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    expect(r.calls).toEqual(['before', 'after:recoverUnsyncedChanges']);
    const { before, after } = r.snapshots();
    expect(before.get('cars', 'gone')).toBeDefined();
    expect(after.get('cars', 'gone')).toBeUndefined();
    expect(phone.get('cars', 'c1')?.color).toBe('red');
    await tablet.syncSession.waitForDownload();
    expect(tablet.get('cars', 'c1')?.color).toBe('red');
    await expectSameAsServer(phone);
    await expectSameAsServer(tablet);
  });

  it('discards unsynced changes: the fresh copy as it is, and later writes sync', async () => {
    const r = recorder();
    r.config.mode = 'discardUnsyncedChanges';
    const { phone } = await phoneAwayTooLong(r.config);
    expect(await r.done).toBe('discardUnsyncedChanges');
    await phone.syncSession.waitForDownload();
    expect(phone.get('cars', 'c1')?.color).toBe('blue');
    expect(phone.snapshot.pending).toEqual([]);
    await phone.write((tx) => tx.insert('cars', car('later', 'Saab')));
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    await expectSameAsServer(phone);
  });

  it('recover or discard: discards when recovery fails', async () => {
    const r = recorder();
    r.config.onBefore = () => {
      r.calls.push('before');
      throw new Error('cannot recover');
    };
    const { phone } = await phoneAwayTooLong(r.config);
    expect(await r.done).toBe('discardUnsyncedChanges');
    await phone.syncSession.waitForDownload();
    expect(phone.get('cars', 'c1')?.color).toBe('blue');
    await expectSameAsServer(phone);
  });

  it('manual: sync stops until the app performs the reset', async () => {
    let manual: ClientResetError | null = null;
    const config: ClientResetConfig = { mode: 'manual' };
    const reached = new Promise<void>((resolve) => {
      config.onManual = (error) => {
        manual = error;
        resolve();
      };
    });
    const { phone } = await phoneAwayTooLong(config);
    await reached;
    expect(manual!.code).toBe('CLIENT_RESET_REQUIRED');
    expect(phone.get('cars', 'c1')?.color).toBe('red'); // nothing changed yet
    expect(phone.snapshot.pending).toHaveLength(1);
    await manual!.performReset('discardUnsyncedChanges');
    await phone.syncSession.waitForDownload();
    expect(phone.get('cars', 'c1')?.color).toBe('blue');
    await expectSameAsServer(phone);
  });
});

describe('who is reset', () => {
  it('never a client connected past the max offline time, idle or not', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({
      clock,
      env: { MAX_OFFLINE_MS: '60000', COMPACT_INTERVAL_MS: '10000' },
    });
    const phone = await openCars(await app(), 'phone');
    const errors = collectErrors(phone);
    const tablet = await openCars(await app(), 'tablet');
    await phone.syncSession.waitForDownload();
    for (let i = 0; i < 5; i += 1) {
      await tablet.write((tx) => tx.insert('cars', car(`t${i}`, 'VW')));
      await tablet.syncSession.waitForUpload();
      clock.advance(30_000);
    }
    await phone.syncSession.waitForDownload();
    expect(errors.filter((e) => e instanceof ClientResetError)).toEqual([]);
    const [session] = await gw.gateway.core.store.getSessions([await phone.syncSession.id()]);
    expect(session?.resetRequired).toBe(false);
    await expectSameAsServer(phone);
  });

  it('a client away too long is told to reset on its next contact', async () => {
    const r = recorder();
    let told: (e: SyncClientError) => void = () => undefined;
    const error = new Promise<SyncClientError>((resolve) => (told = resolve));
    await phoneAwayTooLong(r.config, (e) => e instanceof ClientResetError && told(e));
    expect((await error).code).toBe('CLIENT_RESET_REQUIRED');
    expect(await r.done).toBe('recoverUnsyncedChanges');
  });
});
