/**
 * Every refusal reaches the app that caused it, and none stalls the upload queue: a
 * changeset refused as bad input is taken out, rolled back, listed and reported; writes the
 * rules refuse come back as compensating writes; the end of a session is told. (An unhandled
 * rejection anywhere fails the run: vitest reports it as an error.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChangesetRefusedError,
  CompensatingWriteError,
  SessionClosedError,
  type App,
} from '../client/src/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, openCars, sdkApp, untilError } from './helpers/sdk.js';

let gw: TestGateway;
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await gw?.close();
});

async function app(user = 'alice') {
  const a = await sdkApp(gw, user);
  apps.push(a);
  return a;
}

async function stored(id: string) {
  const [doc] = await gw.gateway.core.store.getDocuments([{ collection: 'cars', id }]);
  return doc?.doc ?? null;
}

describe('a changeset refused as bad input', () => {
  it('is taken out of the queue, rolled back, listed and reported; later ones go on', async () => {
    gw = await startTestGateway();
    const phone = await openCars(await app(), 'phone');
    const errors = collectErrors(phone);
    await phone.syncSession.id();
    await phone.syncSession.pause();
    await phone.write((tx) => tx.insert('cars', { ...car('before', 'Kia') }));
    await phone.write((tx) => tx.insert('cars', { ...car('bad', 'Kia'), $weird: 1 }));
    await phone.write((tx) => tx.insert('cars', car('after', 'VW')));
    expect(phone.get('cars', 'bad')).toBeDefined(); // applied locally at once
    await phone.syncSession.resume();
    await phone.syncSession.waitForUpload();
    expect(await stored('before')).not.toBeNull();
    expect(await stored('after')).not.toBeNull();
    expect(await stored('bad')).toBeNull();
    expect(phone.get('cars', 'bad')).toBeUndefined();
    const [refused] = phone.syncSession.refusedChangesets;
    expect(refused?.code).toBe('BAD_USER_INPUT');
    expect(refused?.field).toMatch(/^changesets\[\d+\]\.changes\[0\]\.document\.\$weird$/);
    expect(refused?.changeset.changes[0]?.id).toBe('bad');
    const reported = errors.filter((e) => e instanceof ChangesetRefusedError);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.message).toMatch(/\$weird/);
    await phone.syncSession.waitForDownload();
    expect(clientDocs(phone, 'cars')).toEqual(
      await serverScope(
        gw.gateway.core.store,
        { user: 'alice', queries: [{ collection: 'cars' }] },
        'cars',
      ),
    );
  });
});

describe('compensating writes', () => {
  it('reach the app with collection, id, reason and the server copy, and are rolled back', async () => {
    gw = await startTestGateway();
    const bob = await openCars(await app('bob'), 'bobs');
    await bob.write((tx) => tx.insert('cars', car('b1', 'Saab', 'bob')));
    await bob.syncSession.waitForUpload();
    const alice = await openCars(await app('alice'), 'alices');
    const errors = collectErrors(alice);
    await alice.write((tx) => tx.insert('cars', car('a1', 'Kia', 'bob'))); // not hers to write
    await alice.syncSession.waitForUpload();
    const [error] = errors.filter((e) => e instanceof CompensatingWriteError);
    expect(error?.code).toBe('PERMISSION_DENIED');
    expect(error?.writes).toEqual([
      expect.objectContaining({
        collection: 'cars',
        id: 'a1',
        reason: expect.stringMatching(/write rule/),
      }),
    ]);
    expect(alice.get('cars', 'a1')).toBeUndefined();
    expect(await stored('a1')).toBeNull();
    await alice.syncSession.waitForDownload();
    expect(alice.all('cars')).toEqual([]);
  });
});

describe('the end of a session', () => {
  it('is reported when the session is closed elsewhere, and the client stops syncing', async () => {
    gw = await startTestGateway();
    const phone = await openCars(await app(), 'phone');
    const id = await phone.syncSession.id();
    await phone.syncSession.waitForDownload();
    const closed = untilError(phone, (e) => e instanceof SessionClosedError);
    const token = await gw.token('alice');
    await gw.http(`mutation ($id: ID!) { closeSession(id: $id) }`, { id }, token);
    expect((await closed).code).toBe('NOT_FOUND');
  });
});
