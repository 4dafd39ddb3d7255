/**
 * Local queries: MongoDB-style filters and sort over the local database, live queries that
 * emit on every change of their result (local or synced) and only then, and typed
 * collections (the `@ts-expect-error` lines are checked by `npm run typecheck`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncedDatabase, type App } from '../client/src/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { openCars, sdkApp, untilDb } from './helpers/sdk.js';

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

interface Car {
  _id: string;
  ownerId: string;
  make: string;
  n: number;
  color?: string;
}
interface Collections {
  cars: Car;
  notes: { _id: string; ownerId: string; text: string };
}

const carOf = (id: string, make: string, n: number): Car => ({
  _id: id,
  ownerId: 'alice',
  make,
  n,
});

describe('local queries', () => {
  it('filter, sort, skip and limit the local documents, unsynced writes included', async () => {
    gw = await startTestGateway();
    const db = await openSyncedDatabase<Collections>(await app(), {
      clientId: 'phone',
      queries: [{ collection: 'cars' }],
    });
    await db.syncSession.pause();
    await db.write((tx) => {
      tx.insert('cars', carOf('a', 'Kia', 3));
      tx.insert('cars', carOf('b', 'VW', 1));
      tx.insert('cars', carOf('c', 'Kia', 2));
      tx.insert('cars', carOf('d', 'Kia', 5));
    });
    const kias = db.query(
      'cars',
      { make: 'Kia', n: { $gte: 2 } },
      { sort: { n: -1 }, skip: 1, limit: 2 },
    );
    expect(kias.map((c) => c._id)).toEqual(['a', 'c']);
    const first: Car | undefined = db.get('cars', 'a');
    expect(first?.n).toBe(3);
    // @ts-expect-error n is a number in the Car type
    await db.write((tx) => tx.update('cars', 'a', { n: 'three' }));
  });

  it('a live query emits on local and synced changes of its result, and only then', async () => {
    gw = await startTestGateway();
    const phone = await openCars(await app(), 'phone');
    const tablet = await openCars(await app(), 'tablet');
    await phone.syncSession.waitForDownload();
    const live = phone.observe('cars', { n: { $lt: 10 } }, { sort: { n: 1 } });
    const seen: string[][] = [];
    const stop = live.subscribe(() => seen.push(live.current.map((d) => d._id)));
    expect(live.current).toEqual([]);
    await phone.write((tx) => tx.insert('cars', { _id: 'p1', ownerId: 'alice', n: 5 }));
    await tablet.write((tx) => tx.insert('cars', { _id: 't1', ownerId: 'alice', n: 1 }));
    await untilDb(phone, () => phone.get('cars', 't1') !== undefined, 'phone sees t1');
    await tablet.write((tx) => tx.insert('cars', { _id: 'big', ownerId: 'alice', n: 50 }));
    await untilDb(phone, () => phone.get('cars', 'big') !== undefined, 'phone sees big');
    await phone.write((tx) => tx.insert('notes', { _id: 'x', ownerId: 'alice', text: 'hi' }));
    expect(seen).toEqual([['p1'], ['t1', 'p1']]);
    stop();
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    const scope = { user: 'alice', queries: [{ collection: 'cars' }] };
    expect(clientDocs(phone, 'cars')).toEqual(
      await serverScope(gw.gateway.core.store, scope, 'cars'),
    );
  });

  it('can be followed with for await', async () => {
    gw = await startTestGateway();
    const phone = await openCars(await app(), 'phone');
    const results: number[] = [];
    const done = (async () => {
      for await (const cars of phone.observe('cars', { make: 'Kia' })) {
        results.push(cars.length);
        if (cars.length === 2) return;
      }
    })();
    await phone.write((tx) => tx.insert('cars', { _id: 'k1', ownerId: 'alice', make: 'Kia' }));
    await phone.write((tx) => tx.insert('cars', { _id: 'v1', ownerId: 'alice', make: 'VW' }));
    await phone.write((tx) => tx.insert('cars', { _id: 'k2', ownerId: 'alice', make: 'Kia' }));
    await done;
    expect(results[0]).toBe(0);
    expect(results.at(-1)).toBe(2);
  });
});
