/**
 * Re-scoping acknowledged through the session's queries version: every batch says which
 * version of the queries the client's data matches, and acknowledging the current one
 * finishes the re-scoping, so `waitForDownload` after `updateQueries` means "the new scope
 * is synced", even when no new history arrives. Over real graphql-ws sockets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient, type ChangeInput } from './helpers/sync-client.js';

let gw: TestGateway;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  gw = await startTestGateway({ clock });
});
afterEach(() => gw.close());

const RED = [{ collection: 'cars', filter: { color: 'red' } }];
const BLUE = [{ collection: 'cars', filter: { color: 'blue' } }];

async function client(clientId: string, queries: { collection: string; filter?: unknown }[]) {
  const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
  await c.open(queries);
  return c;
}

const car = (id: string, color: string): ChangeInput => ({
  collection: 'cars',
  id,
  op: 'INSERT',
  document: { ownerId: 'alice', color },
});

const UPDATE_QUERIES = `mutation ($s: ID!, $q: [SyncQueryInput!]!) {
  updateQueries(sessionId: $s, queries: $q) { queriesVersion } }`;
const WAIT_DOWNLOAD = `mutation ($s: ID!, $ms: Int) { waitForDownload(sessionId: $s, timeoutMs: $ms) {
  lastDownloadedServerVersion queriesVersion } }`;
const ACK = `mutation ($s: ID!, $v: Int!, $q: Int) {
  acknowledgeDownload(sessionId: $s, serverVersion: $v, queriesVersion: $q) { queriesVersion } }`;

const stored = async (id: string) => (await gw.gateway.core.store.getSessions([id]))[0]!;

/** Resolves once `n` waits are registered on the session (they subscribe to its updates). */
async function waitersRegistered(sessionId: string, n: number) {
  while (gw.gateway.core.sessionUpdates.count(sessionId) < n)
    await new Promise((r) => setImmediate(r));
}

/** A writer with a red and a blue car, and a reader of the red ones that has synced them. */
async function redReader() {
  const writer = await client('writer', [{ collection: 'cars' }]);
  await writer.upload([car('c1', 'red'), car('c2', 'blue')]);
  const latest = await gw.gateway.core.store.latestVersion();
  const reader = await client('reader', RED);
  reader.startDownload();
  await reader.until(() => reader.acknowledgedVersion === latest);
  expect([...reader.docs.keys()]).toEqual(['cars/c1']);
  return { reader, latest };
}

describe('the queries version', () => {
  it('goes up whenever the queries change, through updateQueries or openSession', async () => {
    const reader = await client('reader', RED);
    const version = async () => (await stored(reader.sessionId)).queriesVersion;
    expect(await version()).toBe(0);
    const updated = await reader.request(UPDATE_QUERIES, { s: reader.sessionId, q: BLUE });
    expect(updated.data).toEqual({ updateQueries: { queriesVersion: 1 } });
    await reader.request(UPDATE_QUERIES, { s: reader.sessionId, q: BLUE }); // the same queries
    expect(await version()).toBe(1);
    await reader.open(RED);
    expect(await version()).toBe(2);
    const read = await gw.http<{ session: { queriesVersion: number } }>(
      `query ($id: ID!) { session(id: $id) { queriesVersion } }`,
      { id: reader.sessionId },
      await gw.token('alice'),
    );
    expect(read.data).toEqual({ session: { queriesVersion: 2 } });
  });

  it('counts concurrent changes of the queries each, and keeps every former scope', async () => {
    const reader = await client('reader', RED);
    const viewer = { id: 'alice', roles: [] };
    const green = [{ collection: 'cars', filter: { color: 'green' } }];
    await Promise.all([
      gw.gateway.core.updateQueries(viewer, reader.sessionId, BLUE),
      gw.gateway.core.updateQueries(viewer, reader.sessionId, green),
    ]);
    const session = await stored(reader.sessionId);
    expect(session.queriesVersion).toBe(2);
    const former = session.rescopeFrom?.map((q) => q.filter?.color);
    expect(former).toContain('red');
    expect(former).toHaveLength(2);
  });

  it('acknowledged with the batch that follows a re-scoping finishes it, with no new history; waitForDownload resolves only then', async () => {
    const { reader, latest } = await redReader();
    reader.accept = () => false; // the client takes nothing for now
    await reader.request(UPDATE_QUERIES, { s: reader.sessionId, q: BLUE });

    const early = reader.request(WAIT_DOWNLOAD, { s: reader.sessionId, ms: 1000 });
    await waitersRegistered(reader.sessionId, 1);
    clock.advance(1000);
    expect((await early).errors?.[0]?.extensions?.code).toBe('TIMEOUT');

    reader.stopDownload();
    const taken = reader.batches.length;
    reader.accept = () => true;
    reader.startDownload(); // from the acknowledged version, with the re-scoping pending
    const wait = await reader.request(WAIT_DOWNLOAD, { s: reader.sessionId });
    expect(wait.data).toEqual({
      waitForDownload: { lastDownloadedServerVersion: latest, queriesVersion: 1 },
    });
    expect([...reader.docs.keys()]).toEqual(['cars/c2']);
    expect(await gw.gateway.core.store.latestVersion()).toBe(latest);
    expect((await stored(reader.sessionId)).rescopeFrom).toBeNull();
    // The re-scoping matches the old queries; the empty batch after it, the new ones.
    const shapes = reader.batches
      .slice(taken, taken + 2)
      .map((b) => [b.fromServerVersion, b.toServerVersion, b.changes.length, b.queriesVersion]);
    expect(shapes).toEqual([
      [latest, latest, 2, 0],
      [latest, latest, 0, 1],
    ]);
  });

  it('moves on a live stream with the empty batch that follows the re-scoping', async () => {
    const { reader, latest } = await redReader();
    const taken = reader.batches.length;
    await reader.request(UPDATE_QUERIES, { s: reader.sessionId, q: BLUE });
    const wait = await reader.request(WAIT_DOWNLOAD, { s: reader.sessionId });
    expect(wait.data).toEqual({
      waitForDownload: { lastDownloadedServerVersion: latest, queriesVersion: 1 },
    });
    expect([...reader.docs.keys()]).toEqual(['cars/c2']);
    const shapes = reader.batches
      .slice(taken)
      .map((b) => [b.fromServerVersion, b.toServerVersion, b.changes.length, b.queriesVersion]);
    expect(shapes).toEqual([
      [latest, latest, 2, 0],
      [latest, latest, 0, 1],
    ]);
  });

  it('of a bootstrap is the current one: acknowledging it finishes a pending re-scoping', async () => {
    const { reader, latest } = await redReader();
    reader.stopDownload();
    await reader.request(UPDATE_QUERIES, { s: reader.sessionId, q: BLUE });
    const fresh = new SyncTestClient(reader.ws, 'reader');
    fresh.sessionId = reader.sessionId;
    fresh.startDownload(0);
    await fresh.until(() => fresh.acknowledgedVersion === latest);
    expect(fresh.batches[0]).toMatchObject({ bootstrapUntil: latest, queriesVersion: 1 });
    expect([...fresh.docs.keys()]).toEqual(['cars/c2']);
    const wait = await fresh.request(WAIT_DOWNLOAD, { s: reader.sessionId });
    expect(wait.data).toEqual({
      waitForDownload: { lastDownloadedServerVersion: latest, queriesVersion: 1 },
    });
  });

  it('refuses a queriesVersion that is not one of the session, naming it', async () => {
    const { reader, latest } = await redReader();
    for (const q of [-1, 1]) {
      const refused = await reader.request(ACK, { s: reader.sessionId, v: latest, q });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'queriesVersion',
      });
    }
    const ok = await reader.request(ACK, { s: reader.sessionId, v: latest, q: 0 });
    expect(ok.data).toEqual({ acknowledgeDownload: { queriesVersion: 0 } });
  });
});
