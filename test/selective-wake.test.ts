/**
 * Selective wake through the real gateway: sessions of many users follow `changes` under the
 * ownership rule; a change wakes the streams it can concern, not all of them; the others'
 * cursors still move when their refresh falls due; every client equals the server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { seededRandom } from './helpers/seeded.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

const CURSOR_REFRESH = 5_000;
const USERS = Array.from({ length: 12 }, (_, i) => `user${i}`);
const PER_USER = 3;

let gw: TestGateway;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  gw = await startTestGateway({ clock, env: { CURSOR_REFRESH_MS: String(CURSOR_REFRESH) } });
});
afterEach(() => gw.close());

async function follower(user: string): Promise<SyncTestClient> {
  const c = new SyncTestClient(gw.ws(await gw.token(user)), `c-${user}`);
  await c.open([{ collection: 'cars' }]);
  c.startDownload(0);
  await c.until(() => c.batches.length > 0);
  return c;
}

/** The documents of `cars` the server shows the client's user, by `cars/id`. */
async function serverView(user: string): Promise<Map<string, unknown>> {
  const r = await gw.http<{ documents: { edges: { node: { _id: string } }[] } }>(
    `{ documents(collection: "cars", first: 100) { edges { node } } }`,
    {},
    await gw.token(user),
  );
  return new Map(r.data!.documents.edges.map((e) => [`cars/${e.node._id}`, e.node]));
}

describe('selective wake', () => {
  it('wakes the streams a change concerns, refreshes the others, and every client equals the server', async () => {
    const clients = await Promise.all(USERS.map(follower));
    const index = gw.gateway.core.feed.index!;
    const wokenBefore = index.woken;

    // Each user writes its own cars, in a seeded order, one upload at a time.
    const random = seededRandom(14);
    const order = USERS.flatMap((_, u) => Array.from({ length: PER_USER }, () => u));
    order.sort(() => random() - 0.5);
    let latest = 0;
    for (const [n, u] of order.entries()) {
      const car = { collection: 'cars', id: `car-${n}`, op: 'INSERT' as const };
      const sent = await clients[u]!.upload(
        [{ ...car, document: { ownerId: USERS[u]!, n } }],
        hlc(clock.now().getTime()),
      );
      latest = sent.data!.uploadChanges.serverVersion;
    }
    await Promise.all(clients.map((c) => c.until((docs) => docs.size === PER_USER)));
    await index.idle();

    // Woken by the index: at most the one stream each change concerns (every stream woken
    // by every change would be USERS.length times as many).
    expect(index.woken - wokenBefore).toBeLessThanOrEqual(order.length);

    // The others' cursors have not moved past their own last change yet; at the refresh
    // they move to the latest version with an empty batch.
    expect(clients.some((c) => c.downloadedVersion < latest)).toBe(true);
    clock.advance(CURSOR_REFRESH + 1_000);
    await Promise.all(clients.map((c) => c.until(() => c.acknowledgedVersion >= latest)));
    for (const c of clients) {
      const last = c.batches.at(-1)!;
      if (last.toServerVersion === latest && last.changes.length === 0) continue;
      expect(last.changes.some((ch) => ch.serverVersion === latest)).toBe(true);
    }

    // Every client equals the server, and got each of its documents once.
    for (const [u, c] of clients.entries()) {
      expect(c.docs).toEqual(await serverView(USERS[u]!));
      expect([...c.deliveries.values()].every((n) => n === 1)).toBe(true);
    }

    // A stream's waiter stays indexed between its waits, and goes when the stream ends.
    const feed = gw.gateway.core.feed;
    expect(index.indexedCount).toBe(USERS.length);
    clients.forEach((c) => c.stopDownload());
    await vi.waitFor(() => expect([index.indexedCount, feed.sessionsHeld]).toEqual([0, 0]));
  });

  it('wakes every stream following a collection it may read whole', async () => {
    const clients = await Promise.all(USERS.slice(0, 4).map(follower));
    const admin = new SyncTestClient(gw.ws(await gw.token('user0')), 'c-second');
    await admin.open([{ collection: 'cars', filter: { ownerId: 'user1' } }]);
    admin.startDownload(0);
    await admin.until(() => admin.batches.length > 0);
    const sent = await clients[1]!.upload(
      [{ collection: 'cars', id: 'x', op: 'INSERT', document: { ownerId: 'user1' } }],
      hlc(clock.now().getTime()),
    );
    const version = sent.data!.uploadChanges.serverVersion;
    await clients[1]!.untilVersion(version);
    // user0's second session filters on user1's cars but may read only its own: not woken.
    expect(admin.downloadedVersion).toBeLessThan(version);
    expect(admin.docs.size).toBe(0);
    expect(clients[1]!.docs).toEqual(await serverView('user1'));
  });
});
