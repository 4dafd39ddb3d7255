import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { BACKUP_EXPIRY_MS } from '../src/session/session-service.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { stream } from './helpers/stream.js';
import { SyncTestClient } from './helpers/sync-client.js';

let gw: TestGateway;
afterEach(async () => {
  await gw?.close();
});

async function client(user: string, clientId: string) {
  const c = new SyncTestClient(gw.ws(await gw.token(user)), clientId);
  await c.open([{ collection: 'cars' }]);
  c.startDownload();
  return c;
}

const car = (id: string) => ({
  collection: 'cars',
  id,
  op: 'INSERT' as const,
  document: { ownerId: 'alice', make: id },
});

/**
 * Waits turn by turn of the event loop (not by sleeping) until `done`, for at most 10 s of
 * real time (a write on its way to the writer thread and its fsync takes many turns).
 */
async function turnsUntil(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
}

const PAUSE = `mutation ($id: ID!, $direction: ProgressDirection, $until: DateTime) {
  pauseSession(id: $id, direction: $direction, until: $until) { state pausedDirections pausedUntil } }`;
const RESUME = `mutation ($id: ID!) { resumeSession(id: $id) { state pausedDirections } }`;
const STATE = `query ($id: ID!) { session(id: $id) { state pausedDirections lastDownloadedServerVersion } }`;
const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) { type at session { id state } } }`;

describe('pause and resume', () => {
  it('stops both directions of one session only, and resumes with nothing lost or repeated', async () => {
    gw = await startTestGateway();
    const a = await client('alice', 'a');
    const b = await client('alice', 'b');
    const watcher = await client('alice', 'w');
    await a.untilVersion(0);
    expect((await a.request(PAUSE, { id: a.sessionId })).data).toEqual({
      pauseSession: {
        state: 'INACTIVE',
        pausedDirections: ['UPLOAD', 'DOWNLOAD'],
        pausedUntil: null,
      },
    });

    const refused = await a.upload([car('from-a')]);
    expect(refused.errors?.[0]?.extensions?.code).toBe('SESSION_PAUSED');
    a.clientVersion -= 1; // the client keeps the change locally and sends it again later
    const fromB = await b.upload([car('from-b')]);
    await watcher.untilVersion(fromB.data!.uploadChanges.serverVersion);
    expect(b.docs.has('cars/from-a')).toBe(false);
    expect(a.docs.has('cars/from-b')).toBe(false);
    const paused = await a.request<{ session: { lastDownloadedServerVersion: number } }>(STATE, {
      id: a.sessionId,
    });
    expect(paused.data!.session.lastDownloadedServerVersion).toBe(0);

    expect((await a.request(RESUME, { id: a.sessionId })).data).toEqual({
      resumeSession: { state: 'ACTIVE', pausedDirections: [] },
    });
    const fromA = await a.upload([car('from-a')]);
    expect(fromA.errors).toBeUndefined();
    await Promise.all([
      a.until((d) => d.has('cars/from-b')),
      b.untilVersion(fromA.data!.uploadChanges.serverVersion),
    ]);
    expect(b.docs.has('cars/from-a')).toBe(true);
    expect(a.deliveries.get('cars/from-b')).toBe(1);
    expect(b.deliveries.get('cars/from-a')).toBe(1);
    expect(watcher.deliveries.get('cars/from-b')).toBe(1);
  });

  it('announces pause and resume on sessionEvents of that session only', async () => {
    gw = await startTestGateway();
    const a = await client('alice', 'a');
    const b = await client('alice', 'b');
    const aEvents = stream<{
      sessionEvents: { type: string; session: { id: string; state: string } };
    }>(a.ws, EVENTS, { id: a.sessionId });
    const bEvents = stream<{ sessionEvents: { type: string } }>(b.ws, EVENTS, { id: b.sessionId });
    await a.request(PAUSE, { id: a.sessionId });
    await a.request(RESUME, { id: a.sessionId });
    expect((await aEvents.next()).data?.sessionEvents).toMatchObject({
      type: 'PAUSED',
      session: { id: a.sessionId, state: 'INACTIVE' },
    });
    expect((await aEvents.next()).data?.sessionEvents).toMatchObject({
      type: 'RESUMED',
      session: { state: 'ACTIVE' },
    });
    await b.request(PAUSE, { id: b.sessionId });
    expect((await bEvents.next()).data?.sessionEvents.type).toBe('PAUSED');
    expect(aEvents.pending).toBe(0);
  });

  it('pauses one direction only when asked', async () => {
    gw = await startTestGateway();
    const a = await client('alice', 'a');
    const b = await client('alice', 'b');
    await a.request(PAUSE, { id: a.sessionId, direction: 'UPLOAD' });
    expect((await a.upload([car('x')])).errors?.[0]?.extensions?.code).toBe('SESSION_PAUSED');
    a.clientVersion -= 1;
    await b.upload([car('y')]);
    await a.until((d) => d.has('cars/y'));
    await a.request(RESUME, { id: a.sessionId });
    await a.request(PAUSE, { id: a.sessionId, direction: 'DOWNLOAD' });
    const up = await a.upload([car('x')]);
    expect(up.errors).toBeUndefined();
    await b.until((d) => d.has('cars/x'));
    expect(a.deliveries.get('cars/x')).toBeUndefined();
  });

  it('resumes by itself when `until` passes, on the injected clock', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock });
    const baseTimers = clock.pendingTimers;
    const a = await client('alice', 'a');
    const b = await client('alice', 'b');
    const events = stream<{ sessionEvents: { type: string } }>(a.ws, EVENTS, { id: a.sessionId });
    const until = new Date(clock.now().getTime() + 60_000).toISOString();
    const paused = await a.request(PAUSE, { id: a.sessionId, until });
    expect(paused.data).toEqual({
      pauseSession: {
        state: 'INACTIVE',
        pausedDirections: ['UPLOAD', 'DOWNLOAD'],
        pausedUntil: until,
      },
    });
    expect((await events.next()).data?.sessionEvents.type).toBe('PAUSED');
    await b.upload([car('while-paused')]);
    clock.advance(59_999);
    expect(
      (await a.request<{ session: { state: string } }>(STATE, { id: a.sessionId })).data!.session
        .state,
    ).toBe('INACTIVE');
    clock.advance(1);
    expect((await events.next()).data?.sessionEvents.type).toBe('RESUMED');
    await a.until((d) => d.has('cars/while-paused'));
    expect(clock.pendingTimers).toBe(baseTimers);
  });

  it('resumes by itself, once, when `until` passes even if the gateway that paused it is gone', async () => {
    const clock = new ManualClock();
    const env = { MULTI_GATEWAY: 'true' };
    const gwA = await startTestGateway({ clock, file: true, env });
    const others = { dataDir: gwA.dataDir, file: true, env, clock };
    const [gwB, gwC] = [await startTestGateway(others), await startTestGateway(others)];
    gw = gwB;
    try {
      const a = new SyncTestClient(gwB.ws(await gwB.token('alice')), 'a');
      await a.open([{ collection: 'cars' }]);
      const watch = async (g: TestGateway) => {
        const ws = g.ws(await g.token('alice'));
        const events = stream<{ sessionEvents: { type: string } }>(ws, EVENTS, { id: a.sessionId });
        await turnsUntil(() => g.gateway.sessions.events.count(a.sessionId) > 0);
        return events;
      };
      const [onB, onC] = [await watch(gwB), await watch(gwC)];
      const type = async (events: Awaited<ReturnType<typeof watch>>) =>
        (await events.next()).data?.sessionEvents.type;
      const until = new Date(clock.now().getTime() + 60_000).toISOString();
      const paused = await gwA.http(PAUSE, { id: a.sessionId, until }, await gwA.token('alice'));
      expect(paused.errors).toBeUndefined();
      // B and C each back the pause up as the event reaches them.
      expect([await type(onB), await type(onC)]).toEqual(['PAUSED', 'PAUSED']);
      await gwA.close();

      clock.advance(60_000 + BACKUP_EXPIRY_MS - 1);
      expect(onB.pending + onC.pending).toBe(0);
      clock.advance(1); // both backups fire; one lifts the pause
      expect([await type(onB), await type(onC)]).toEqual(['RESUMED', 'RESUMED']);
      const state = await gwB.http<{ session: { state: string } }>(
        STATE,
        { id: a.sessionId },
        await gwB.token('alice'),
      );
      expect(state.data?.session.state).toBe('ACTIVE');
      // A second RESUMED would reach both before this PAUSED (signals keep their order).
      const again = await gwC.http(PAUSE, { id: a.sessionId }, await gwC.token('alice'));
      expect(again.errors).toBeUndefined();
      expect([await type(onB), await type(onC)]).toEqual(['PAUSED', 'PAUSED']);
    } finally {
      await Promise.all([gwA, gwC].map((g) => g.close().catch(() => undefined)));
    }
  });

  it('refuses an `until` in the past, naming it', async () => {
    gw = await startTestGateway();
    const a = await client('alice', 'a');
    const r = await a.request(PAUSE, { id: a.sessionId, until: '2020-01-01T00:00:00.000Z' });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
  });

  it('stays paused across a gateway restart', async () => {
    gw = await startTestGateway({ file: true });
    const dataDir = gw.dataDir;
    const a = await client('alice', 'a');
    await a.request(PAUSE, { id: a.sessionId });
    await gw.close();
    gw = await startTestGateway({ dataDir, file: true });
    const r = await gw.http<{ session: { state: string } }>(
      STATE,
      { id: a.sessionId },
      await gw.token('alice'),
    );
    expect(r.data!.session.state).toBe('INACTIVE');
    const again = new SyncTestClient(gw.ws(await gw.token('alice')), 'a');
    await again.open([{ collection: 'cars' }]);
    again.clientVersion = 0;
    expect((await again.upload([car('z')])).errors?.[0]?.extensions?.code).toBe('SESSION_PAUSED');
  });
});
