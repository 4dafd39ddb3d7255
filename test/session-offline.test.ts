import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, wsRequest, type TestGateway } from './helpers/gateway.js';
import { stream } from './helpers/stream.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

const MAX_OFFLINE = 60_000;
const SWEEP = 10_000;
const CURSOR_REFRESH = 5_000;
const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) { type } }`;

let gw: TestGateway;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  gw = await startTestGateway({
    clock,
    env: {
      MAX_OFFLINE_MS: String(MAX_OFFLINE),
      COMPACT_INTERVAL_MS: String(SWEEP),
      CURSOR_REFRESH_MS: String(CURSOR_REFRESH),
    },
  });
});
afterEach(() => gw.close());

async function client(clientId: string) {
  const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
  await c.open([{ collection: 'cars' }]);
  return c;
}

const car = (id: string) => ({
  collection: 'cars',
  id,
  op: 'INSERT' as const,
  document: { ownerId: 'alice' },
});

/** Lets the sweep that the clock just fired finish its store work (fails after 10 s). */
async function settle(check: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the gateway did not settle within 10 s');
    await new Promise((r) => setImmediate(r));
  }
}

describe('max offline time', () => {
  it('a client past it gets CLIENT_RESET_REQUIRED on its next request', async () => {
    const a = await client('a');
    await a.upload([car('c1')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE - 1);
    expect((await a.upload([car('c2')], hlc(clock.now().getTime()))).errors).toBeUndefined();
    clock.advance(MAX_OFFLINE + 1);
    const late = await a.upload([car('c3')], hlc(clock.now().getTime()));
    expect(late.errors?.[0]?.extensions?.code).toBe('CLIENT_RESET_REQUIRED');
    const ack = await a.request(
      `mutation ($s: ID!) { acknowledgeDownload(sessionId: $s, serverVersion: 0) { id } }`,
      { s: a.sessionId },
    );
    expect(ack.errors?.[0]?.extensions?.code).toBe('CLIENT_RESET_REQUIRED');
  });

  it('the sweep tells it on sessionEvents and compacts older history; other clients are untouched', async () => {
    const a = await client('a');
    const b = await client('b');
    await a.upload([car('old')], hlc(clock.now().getTime()));
    // An admin watches: watching does not connect the session (its client is away).
    const admin = gw.ws(await gw.token('root', ['admin']));
    const events = stream<{ sessionEvents: { type: string } }>(admin, EVENTS, { id: a.sessionId });
    await wsRequest(admin, '{ __typename }');
    clock.advance(MAX_OFFLINE / 2);
    await b.upload([car('recent')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE / 2 + SWEEP);
    expect((await events.next()).data?.sessionEvents.type).toBe('CLIENT_RESET_REQUIRED');
    await settle(async () => (await gw.gateway.core.store.readHistory(0, 10)).length === 1);
    expect((await gw.gateway.core.store.readHistory(0, 10))[0]?.id).toBe('recent');
    expect((await b.upload([car('b2')], hlc(clock.now().getTime()))).errors).toBeUndefined();
  });

  it('a client that must reset hears it as soon as it watches its events', async () => {
    const a = await client('a');
    clock.advance(MAX_OFFLINE + 1);
    const events = stream<{ sessionEvents: { type: string } }>(a.ws, EVENTS, { id: a.sessionId });
    expect((await events.next()).data?.sessionEvents.type).toBe('CLIENT_RESET_REQUIRED');
  });

  it('resets by opening the session again and bootstrapping, keeping its client versions', async () => {
    const a = await client('a');
    await a.upload([car('a1')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE + 1);
    const b = await client('b');
    expect((await b.upload([car('b1')], hlc(clock.now().getTime()))).errors).toBeUndefined();
    expect(
      (await a.upload([car('a2')], hlc(clock.now().getTime()))).errors?.[0]?.extensions?.code,
    ).toBe('CLIENT_RESET_REQUIRED');
    a.clientVersion -= 1; // the refused change stays local, to be replayed after the reset
    await a.open([{ collection: 'cars' }]);
    a.startDownload(0);
    await a.until((d) => d.has('cars/a1') && d.has('cars/b1'));
    expect(
      (await a.upload([car('a2')], hlc(clock.now().getTime()))).data?.uploadChanges
        .lastIntegratedClientVersion,
    ).toBe(2);
  });
});

const SESSION = `query ($id: ID!) { session(id: $id) { resetRequired lastSyncedAt connectionState } }`;
type SessionView = { resetRequired: boolean; lastSyncedAt: string; connectionState: string };

/** The session as an admin reads it over HTTP. */
async function view(id: string): Promise<SessionView> {
  const r = await gw.http<{ session: SessionView }>(
    SESSION,
    { id },
    await gw.token('root', ['admin']),
  );
  return r.data!.session;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('only a client really away is reset', () => {
  it('a connected idle session survives the sweep past the max offline time; a disconnected one is reset', async () => {
    const idle = await client('idle');
    const away = await client('away');
    idle.startDownload();
    away.startDownload();
    await settle(async () => (await view(away.sessionId)).connectionState === 'CONNECTED');
    await away.ws.dispose();
    await settle(async () => (await view(away.sessionId)).connectionState === 'DISCONNECTED');

    clock.advance(MAX_OFFLINE + SWEEP);
    await settle(async () => (await view(away.sessionId)).resetRequired);
    expect(await view(idle.sessionId)).toMatchObject({
      resetRequired: false,
      connectionState: 'CONNECTED',
    });
    const upload = await idle.upload([car('i1')], hlc(clock.now().getTime()));
    expect(upload.errors).toBeUndefined();
  });

  it('a session connected through another gateway survives the sweep while that gateway reports it', async () => {
    const a = await client('a');
    // What the signals from another gateway of the deployment bring (see src/cluster).
    const report = () => gw.gateway.sessions.connections.report('gw-b', a.sessionId, 'CONNECTED');
    for (let t = 0; t <= MAX_OFFLINE + SWEEP; t += SWEEP) {
      report(); // renewed, as ClusterLink does, before the report's 30 s lapse
      clock.advance(SWEEP);
    }
    await a.request('{ __typename }'); // lets the sweeps just fired finish their store work
    expect(await view(a.sessionId)).toMatchObject({
      resetRequired: false,
      connectionState: 'CONNECTED',
    });
    clock.advance(MAX_OFFLINE + 2 * SWEEP); // no more reports: it lapses, and is away
    await settle(async () => (await view(a.sessionId)).resetRequired);
  });

  it('counts the offline time from the disconnect, and shows lastSyncedAt and resetRequired', async () => {
    const a = await client('a');
    const opened = clock.now().getTime();
    expect(await view(a.sessionId)).toMatchObject({
      resetRequired: false,
      lastSyncedAt: iso(opened),
    });
    a.startDownload();
    await settle(async () => (await view(a.sessionId)).connectionState === 'CONNECTED');
    clock.advance(MAX_OFFLINE - SWEEP / 2); // connected all along: the sweeps keep it current
    const left = clock.now().getTime();
    await a.ws.dispose();
    await settle(async () => (await view(a.sessionId)).lastSyncedAt === iso(left));

    clock.advance(MAX_OFFLINE - SWEEP / 2); // a sweep has run past the horizon of `opened`
    expect((await view(a.sessionId)).resetRequired).toBe(false);
    clock.advance(SWEEP);
    await settle(async () => (await view(a.sessionId)).resetRequired);
  });

  it("a stream's start counts as synced, without a write when the session was synced within the second", async () => {
    const store = gw.gateway.core.store;
    const touch = store.touchSessions.bind(store);
    const touched: string[][] = [];
    store.touchSessions = (ids, at) => {
      touched.push([...ids]);
      return touch(ids, at);
    };
    const a = await client('a');
    a.startDownload();
    await a.until(() => a.batches.length > 0);
    await gw.gateway.core.drain();
    expect(touched).toEqual([]); // opened just now: nothing to write
    a.stopDownload();

    clock.advance(5_000);
    const started = clock.now().getTime();
    a.startDownload();
    await a.until(() => a.batches.length > 1);
    await settle(async () => (await view(a.sessionId)).lastSyncedAt === iso(started));
    expect(touched).toEqual([[a.sessionId]]);
  });

  it('a client whose queries see nothing new while others write keeps its cursor fresh, and is not reset after compaction', async () => {
    const reader = new SyncTestClient(gw.ws(await gw.token('alice')), 'reader');
    await reader.open([{ collection: 'cars', filter: { color: 'red' } }]);
    reader.startDownload();
    await reader.until(() => reader.batches.length > 0);
    const writer = await client('writer');
    // Twice the max offline time of writes the reader does not see; old history is compacted.
    for (let i = 0; i < (2 * MAX_OFFLINE) / SWEEP; i++) {
      const sent = await writer.upload([car(`w${i}`)], hlc(clock.now().getTime()));
      const version = sent.data!.uploadChanges.serverVersion;
      for (let waited = 0; waited < SWEEP; waited += CURSOR_REFRESH / 2) {
        clock.advance(CURSOR_REFRESH / 2);
        await new Promise((r) => setTimeout(r, 1));
      }
      await reader.until(() => reader.acknowledgedVersion >= version);
    }
    await settle(async () => (await gw.gateway.core.store.readHistory(0, 1))[0]?.version !== 1);
    expect(reader.docs.size).toBe(0);
    const empty = reader.batches.slice(1);
    expect(empty.length).toBeGreaterThan(0);
    expect(empty.every((b) => b.changes.length === 0)).toBe(true);

    // It reconnects from its acknowledged version, and is not told to reset.
    reader.stopDownload();
    const before = reader.batches.length;
    reader.startDownload();
    await reader.until(() => reader.batches.length > before);
    expect(reader.streamError).toBeNull();
    expect((await view(reader.sessionId)).resetRequired).toBe(false);
  });
});

describe('waitForDownload', () => {
  const WAIT = `mutation ($s: ID!, $ms: Int) { waitForDownload(sessionId: $s, timeoutMs: $ms) {
    lastDownloadedServerVersion } }`;

  it('waits for the latest version when the history after the acknowledged one was compacted', async () => {
    const reader = new SyncTestClient(gw.ws(await gw.token('alice')), 'reader');
    await reader.open([{ collection: 'cars', filter: { color: 'red' } }]);
    const writer = await client('writer');
    await writer.upload([car('w1')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE / 2);
    // The reader keeps current by uploading notes, which its queries do not see.
    const note = {
      collection: 'notes',
      id: 'n1',
      op: 'INSERT' as const,
      document: { ownerId: 'alice' },
    };
    await reader.upload([note], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE / 2 + SWEEP);
    await settle(async () => (await gw.gateway.core.store.readHistory(0, 10)).length === 1);
    const latest = await gw.gateway.core.store.latestVersion();

    const early = reader.request(WAIT, { s: reader.sessionId, ms: 1000 });
    await settle(async () => gw.gateway.core.sessionUpdates.count(reader.sessionId) === 1);
    clock.advance(1000);
    expect((await early).errors?.[0]?.extensions?.code).toBe('TIMEOUT');

    reader.startDownload(); // nothing acknowledged yet: a bootstrap, up to the latest version
    const wait = await reader.request(WAIT, { s: reader.sessionId });
    expect(wait.data).toEqual({ waitForDownload: { lastDownloadedServerVersion: latest } });
  });
});
