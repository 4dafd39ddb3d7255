import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

const CARS = [{ collection: 'cars' }];
let gw: TestGateway;

beforeEach(async () => {
  gw = await startTestGateway();
});
afterEach(async () => {
  await gw.close();
});

async function client(
  user: string,
  clientId: string,
  queries: { collection: string; filter?: unknown }[] = CARS,
) {
  const c = new SyncTestClient(gw.ws(await gw.token(user)), clientId);
  await c.open(queries);
  c.startDownload();
  return c;
}

const car = (id: string, owner: string, extra: Record<string, unknown> = {}) => ({
  collection: 'cars',
  id,
  op: 'INSERT' as const,
  document: { ownerId: owner, ...extra },
});

describe('two clients of one user and one of another', () => {
  it("converge on inserts, updates and deletes, and never see another user's documents", async () => {
    const a1 = await client('alice', 'a1');
    const a2 = await client('alice', 'a2');
    const b1 = await client('bob', 'b1');
    await a1.upload([car('c1', 'alice', { make: 'Hyundai' }), car('c2', 'alice', { make: 'Kia' })]);
    await b1.upload([car('x1', 'bob', { make: 'Volvo' })]);
    await a2.upload([{ collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'red' } }]);
    const ack = await a2.upload([{ collection: 'cars', id: 'c2', op: 'DELETE' }]);
    expect(ack.errors).toBeUndefined();
    const v = ack.data!.uploadChanges.serverVersion;
    await Promise.all([a1.untilVersion(v), a2.untilVersion(v), b1.untilVersion(3)]);
    const expected = [['cars/c1', { _id: 'c1', color: 'red', make: 'Hyundai', ownerId: 'alice' }]];
    expect([...a1.docs]).toEqual(expected);
    expect([...a2.docs]).toEqual(expected);
    expect([...b1.docs]).toEqual([['cars/x1', { _id: 'x1', make: 'Volvo', ownerId: 'bob' }]]);
  });

  it('resolves concurrent conflicting edits the same way on every client', async () => {
    const a1 = await client('alice', 'a1');
    const a2 = await client('alice', 'a2');
    await a1.upload([car('c1', 'alice', { make: 'Kia', color: 'blue', seats: 4 })]);
    const t = Date.now();
    await a2.upload(
      [{ collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'green' } }],
      hlc(t + 2),
    );
    const last = await a1.upload(
      [{ collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'red', seats: 5 } }],
      hlc(t + 1),
    );
    const v = last.data!.uploadChanges.serverVersion;
    await Promise.all([a1.untilVersion(v), a2.untilVersion(v)]);
    const expected = { _id: 'c1', color: 'green', make: 'Kia', ownerId: 'alice', seats: 5 };
    expect(a1.docs.get('cars/c1')).toEqual(expected);
    expect(a2.docs.get('cars/c1')).toEqual(expected);
  });

  it('acknowledges a re-sent changeset again without applying it twice', async () => {
    const a1 = await client('alice', 'a1');
    const changeset = {
      clientVersion: 1,
      timestamp: hlc(),
      changes: [car('c1', 'alice', { n: 1 })],
    };
    const first = await a1.uploadRaw([changeset]);
    const again = await a1.uploadRaw([changeset]);
    expect(again.data!.uploadChanges.lastIntegratedClientVersion).toBe(1);
    expect(again.data!.uploadChanges.serverVersion).toBe(first.data!.uploadChanges.serverVersion);
    expect(await gw.gateway.core.store.readHistory(0, 100)).toHaveLength(1);
  });

  it('removes a document that leaves the query, and sends one that enters it whole', async () => {
    const a1 = await client('alice', 'a1');
    const red = await client('alice', 'a2', [{ collection: 'cars', filter: { color: 'red' } }]);
    await a1.upload([car('c1', 'alice', { color: 'red', make: 'Kia' })]);
    await red.until((d) => d.has('cars/c1'));
    await a1.upload([{ collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'blue' } }]);
    await red.until((d) => !d.has('cars/c1'));
    await a1.upload([{ collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'red' } }]);
    await red.until((d) => d.get('cars/c1')?.make === 'Kia');
  });

  it('bootstraps what updateQueries brings into scope and removes what leaves it', async () => {
    const a1 = await client('alice', 'a1');
    await a1.upload([car('c1', 'alice', { color: 'red' }), car('c2', 'alice', { color: 'blue' })]);
    const a2 = await client('alice', 'a2', [{ collection: 'cars', filter: { color: 'red' } }]);
    await a2.until((d) => d.has('cars/c1') && !d.has('cars/c2'));
    const r = await a2.request(
      `mutation ($s: ID!) { updateQueries(sessionId: $s, queries: [{ collection: "cars", filter: { color: "blue" } }]) { id } }`,
      { s: a2.sessionId },
    );
    expect(r.errors).toBeUndefined();
    await a2.until((d) => d.has('cars/c2') && !d.has('cars/c1'));
  });

  it('removes what left the old scope while the client was offline, after updateQueries', async () => {
    const a1 = await client('alice', 'a1');
    await a1.upload([car('c1', 'alice', { color: 'red' }), car('c2', 'alice', { color: 'blue' })]);
    const a2 = await client('alice', 'a2', [{ collection: 'cars', filter: { color: 'red' } }]);
    await a2.until((d) => d.has('cars/c1'));
    a2.stopDownload();
    const moved = await a1.upload([
      { collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'green' } },
    ]);
    const r = await a2.request(
      `mutation ($s: ID!) { updateQueries(sessionId: $s, queries: [{ collection: "cars", filter: { color: "blue" } }]) { id } }`,
      { s: a2.sessionId },
    );
    expect(r.errors).toBeUndefined();
    a2.startDownload(a2.downloadedVersion);
    await a2.untilVersion(moved.data!.uploadChanges.serverVersion);
    await a2.until((d) => d.has('cars/c2'));
    expect([...a2.docs.keys()]).toEqual(['cars/c2']);
  });
});

describe('re-scoping after updateQueries', () => {
  const BLUE = `mutation ($s: ID!) { updateQueries(sessionId: $s, queries: [{ collection: "cars", filter: { color: "blue" } }]) { id } }`;

  it('is sent again when the client left before acknowledging it', async () => {
    const a1 = await client('alice', 'a1');
    await a1.upload([car('c1', 'alice', { color: 'red' }), car('c2', 'alice', { color: 'blue' })]);
    const a2 = await client('alice', 'a2', [{ collection: 'cars', filter: { color: 'red' } }]);
    await a2.until((d) => d.has('cars/c1'));
    a2.stopDownload();
    expect((await a2.request(BLUE, { s: a2.sessionId })).errors).toBeUndefined();

    // A stream that receives the re-scoping, but whose client drops before acknowledging.
    const lost = await new Promise<unknown>((resolve, reject) => {
      const stop = a2.ws.subscribe(
        {
          query: `subscription ($s: ID!, $v: Int) { changes(sessionId: $s, since: $v) { changes { id op } } }`,
          variables: { s: a2.sessionId, v: a2.downloadedVersion },
        },
        {
          next: (v) => {
            stop();
            resolve(v.data);
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    expect(lost).toEqual({
      changes: {
        changes: [
          { id: 'c1', op: 'REMOVE' },
          { id: 'c2', op: 'UPSERT' },
        ],
      },
    });

    // A client that does not acknowledge queries versions.
    a2.sendQueriesVersion = false;
    a2.startDownload(a2.downloadedVersion);
    await a2.until((d) => d.has('cars/c2') && !d.has('cars/c1'));
    // Once the client acknowledges past it, the re-scoping is done: any commit lets it do so,
    // even one outside its scope (an empty batch goes out while the re-scoping waits).
    const v = (await a1.upload([car('c3', 'alice', { color: 'red' })])).data!.uploadChanges;
    await a2.untilVersion(v.serverVersion);
    const stored = async () => (await gw.gateway.core.store.getSessions([a2.sessionId]))[0];
    // The acknowledgement's write is on its way (to the writer thread, and its fsync).
    await vi.waitFor(async () => expect((await stored())?.rescopeFrom).toBeNull(), {
      timeout: 10_000,
      interval: 5,
    });
  });

  it('keeps every former scope until one reaches the client', async () => {
    const a1 = await client('alice', 'a1');
    await a1.upload([
      car('c1', 'alice', { color: 'red' }),
      car('c2', 'alice', { color: 'green' }),
      car('c3', 'alice', { color: 'blue' }),
    ]);
    const a2 = await client('alice', 'a2', [{ collection: 'cars', filter: { color: 'red' } }]);
    await a2.until((d) => d.has('cars/c1'));
    const GREEN = BLUE.replace('blue', 'green');
    expect((await a2.request(GREEN, { s: a2.sessionId })).errors).toBeUndefined();
    await a2.until((d) => d.has('cars/c2') && !d.has('cars/c1'));
    expect((await a2.request(BLUE, { s: a2.sessionId })).errors).toBeUndefined();
    await a2.until((d) => d.has('cars/c3') && !d.has('cars/c2'));
    expect([...a2.docs.keys()]).toEqual(['cars/c3']);
  });
});

describe('graceful shutdown', () => {
  it('answers an upload in flight before it closes the socket', async () => {
    const a1 = await client('alice', 'a1');
    const changes = Array.from({ length: 500 }, (_, i) => car(`c${i}`, 'alice', { i }));
    const upload = a1.upload(changes);
    while (gw.gateway.core.uploadsInFlight === 0) await new Promise((r) => setImmediate(r));
    const closing = gw.gateway.close();
    const ack = await upload;
    await closing;
    expect(ack.data?.uploadChanges.lastIntegratedClientVersion).toBe(1);
    gw = await startTestGateway();
  });
});

describe('errors over graphql-ws', () => {
  it('carry their code through the socket too', async () => {
    const ws = gw.ws(await gw.token('alice'));
    const errors = await new Promise<unknown[]>((resolve) => {
      ws.subscribe(
        { query: 'subscription { changes(sessionId: "ses_nope") { toServerVersion } }' },
        {
          next: (v) => resolve(v.errors as unknown[]),
          error: (e) => resolve([e]),
          complete: () => undefined,
        },
      );
    });
    expect(errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });
});
