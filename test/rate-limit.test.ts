/**
 * Rate limits: the token buckets themselves (burst, refill, the wait, bounded memory), then
 * operations per user over graphql-ws and HTTP (one budget for both) and changesets per
 * client in uploadChanges, refused with LIMIT_EXCEEDED, `extensions.retryAfterMs` and
 * `retryable` (HTTP: 429 and Retry-After). Time is a ManualClock: budgets refill only when a test says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { App, openSyncedDatabase, type SyncClientError } from '../client/src/index.js';
import { ManualClock } from '../src/clock.js';
import { RateLimiter } from '../src/session/rate-limit.js';
import { wsRequest, type GqlResult } from './helpers/gateway.js';
import { startLimitedGateway, type LimitedGateway } from './helpers/limited-gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, FAST_BACKOFF } from './helpers/sdk.js';

const SESSIONS = '{ sessions { edges { node { id } } } }';
const OPEN = `mutation ($c: ID!) { openSession(input: { clientId: $c, queries: [{ collection: "cars" }] }) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) {
  uploadChanges(sessionId: $s, changesets: $cs) { lastIntegratedClientVersion } }`;
const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };

let lgw: LimitedGateway | undefined;
const apps: App[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await lgw?.close();
  lgw = undefined;
});

/** One operation's result; errors graphql-ws sends as an `error` message become `errors`. */
function request<T = Record<string, unknown>>(
  client: Parameters<typeof wsRequest>[0],
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResult<T>> {
  return wsRequest<T>(client, query, variables).catch((errors: unknown) => {
    if (Array.isArray(errors)) return { errors: errors as GqlResult['errors'] };
    throw errors;
  });
}

const extensionsOf = (result: GqlResult) =>
  result.errors?.[0]?.extensions as Record<string, unknown> | undefined;

describe('RateLimiter', () => {
  it('allows a burst of twice the rate, then refuses with the wait, and refills', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ ratePerSecond: 10, clock });
    for (let i = 0; i < 20; i++) expect(limiter.take('u')).toEqual({ ok: true });
    expect(limiter.take('u')).toEqual({ ok: false, retryAfterMs: 100 });
    expect(limiter.take('other')).toEqual({ ok: true });
    clock.advance(99);
    expect(limiter.take('u').ok).toBe(false);
    clock.advance(1);
    expect(limiter.take('u')).toEqual({ ok: true });
    expect(limiter.take('u', 5)).toEqual({ ok: false, retryAfterMs: 500 });
  });

  it('lets a cost above the burst through from a full bucket, leaving it in debt', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ ratePerSecond: 10, burst: 20, clock });
    expect(limiter.take('u', 50)).toEqual({ ok: true });
    // 30 tokens in debt: 3.1 s until one is there again.
    expect(limiter.take('u')).toEqual({ ok: false, retryAfterMs: 3100 });
    clock.advance(3100);
    expect(limiter.take('u')).toEqual({ ok: true });
  });

  it('drops idle buckets (full again) and keeps at most maxKeys', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ ratePerSecond: 10, clock, maxKeys: 500 });
    for (let i = 0; i < 400; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(400);
    clock.advance(1000);
    limiter.take('fresh');
    expect(limiter.size).toBe(401); // not idle long enough to be full yet
    clock.advance(1000);
    limiter.take('fresh');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 600; i++) limiter.take(`m${i}`);
    expect(limiter.size).toBe(500);
  });

  it('refuses a rate of 0 (that is no limiter at all)', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, clock: new ManualClock() })).toThrow(
      RangeError,
    );
  });
});

describe('operations per user', () => {
  it('share one budget across sockets, count invalid operations, and refill', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { userOpsPerSecond: 5 } });
    const alice = await lgw.token('alice');
    const [one, two] = [lgw.ws(alice), lgw.ws(alice)];
    for (let i = 0; i < 4; i++) expect((await request(one, SESSIONS)).errors).toBeUndefined();
    for (let i = 0; i < 4; i++) expect((await request(two, SESSIONS)).errors).toBeUndefined();
    expect(extensionsOf(await request(two, '{ nothingHere }'))?.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    expect((await request(one, SESSIONS)).errors).toBeUndefined();
    const refused = await request(one, SESSIONS);
    expect(refused.errors?.[0]?.message).toMatch(/at most 5 operations per second per user/);
    expect(extensionsOf(refused)).toEqual({
      code: 'LIMIT_EXCEEDED',
      retryAfterMs: 200,
      retryable: true,
    });
    expect((await request(lgw.ws(await lgw.token('bob')), SESSIONS)).errors).toBeUndefined();
    clock.advance(200);
    expect((await request(two, SESSIONS)).errors).toBeUndefined();
    expect(extensionsOf(await request(two, SESSIONS))?.code).toBe('LIMIT_EXCEEDED');
  });

  it('over HTTP: the same budget, answered 429 with Retry-After', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { userOpsPerSecond: 5 }, http: true });
    const alice = await lgw.token('alice');
    const socket = lgw.ws(alice);
    for (let i = 0; i < 5; i++) expect((await lgw.http(SESSIONS, {}, alice)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await request(socket, SESSIONS)).errors).toBeUndefined();
    const refused = await lgw.http(SESSIONS, {}, alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.errors?.[0]?.extensions).toEqual({
      code: 'LIMIT_EXCEEDED',
      retryAfterMs: 200,
      retryable: true,
    });
    expect(extensionsOf(await request(socket, SESSIONS))?.code).toBe('LIMIT_EXCEEDED');
    expect((await lgw.http(SESSIONS, {}, await lgw.token('bob'))).status).toBe(200);
    clock.advance(200);
    expect((await lgw.http(SESSIONS, {}, alice)).status).toBe(200);
  });

  it('counts anonymous HTTP requests by address', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { userOpsPerSecond: 2 }, http: true });
    for (let i = 0; i < 4; i++) await lgw.http(SESSIONS);
    expect((await lgw.http(SESSIONS)).status).toBe(429);
    expect((await lgw.http(SESSIONS, {}, await lgw.token('alice'))).status).toBe(200);
  });
});

describe('changesets per client', () => {
  const hlc = (clock: ManualClock) => `${clock.now().toISOString()}-0000`;
  const inserts = (clock: ManualClock, from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      clientVersion: from + i,
      timestamp: hlc(clock),
      changes: [
        {
          collection: 'cars',
          id: `car-${from + i}`,
          op: 'INSERT',
          document: { ownerId: 'alice', make: 'Kia' },
        },
      ],
    }));

  it('refuses an upload past the client budget before anything is written', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({
      clock,
      limits: { clientChangesetsPerSecond: 5 },
      http: true,
    });
    const alice = await lgw.token('alice');
    const client = lgw.ws(alice);
    const open = async (c: string) =>
      (await request<{ openSession: { id: string } }>(client, OPEN, { c })).data!.openSession.id;
    const [phone, tablet] = [await open('phone'), await open('tablet')];
    const upload = (s: string, cs: unknown[]) => request(client, UPLOAD, { s, cs });
    expect((await upload(phone, inserts(clock, 1, 6))).errors).toBeUndefined();
    expect((await upload(phone, inserts(clock, 7, 4))).errors).toBeUndefined();
    const refused = await upload(phone, inserts(clock, 11, 2));
    expect(refused.errors?.[0]?.message).toMatch(
      /^changesets: client phone may upload at most 5 changesets per second/,
    );
    expect(extensionsOf(refused)).toEqual({
      code: 'LIMIT_EXCEEDED',
      retryAfterMs: 400,
      retryable: true,
    });
    const store = lgw.base.gateway.core.store;
    expect((await store.getSessions([phone]))[0]!.lastIntegratedClientVersion).toBe(10);
    // Reports (no changesets) are never refused; another client has a budget of its own.
    expect((await upload(phone, [])).errors).toBeUndefined();
    expect((await upload(tablet, inserts(clock, 1, 2))).errors).toBeUndefined();
    // Someone else's session is not theirs to drain (the sync core refuses it).
    const bob = lgw.ws(await lgw.token('bob'));
    const foreign = await request(bob, UPLOAD, { s: tablet, cs: inserts(clock, 3, 8) });
    expect(extensionsOf(foreign)?.code).toBe('NOT_FOUND');
    expect((await upload(tablet, inserts(clock, 3, 8))).errors).toBeUndefined();

    const overHttp = await lgw.http(UPLOAD, { s: phone, cs: inserts(clock, 11, 2) }, alice);
    expect(overHttp.status).toBe(429);
    expect(overHttp.headers.get('retry-after')).toBe('1');
    expect(overHttp.body.errors?.[0]?.extensions).toEqual({
      code: 'LIMIT_EXCEEDED',
      retryAfterMs: 400,
      retryable: true,
    });
    clock.advance(400);
    expect((await upload(phone, inserts(clock, 11, 2))).errors).toBeUndefined();
    expect((await store.getSessions([phone]))[0]!.lastIntegratedClientVersion).toBe(12);
  });

  it('the SDK retries a refused upload and converges once the budget refills', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { clientChangesetsPerSecond: 2 } });
    const app = new App({
      url: lgw.wsUrl,
      token: await lgw.token('alice'),
      webSocketImpl: WebSocket,
      backoff: FAST_BACKOFF,
      keepAliveMs: 1000,
    });
    apps.push(app);
    const db = await openSyncedDatabase(app, { clientId: 'phone', queries: CARS.queries });
    const errors: SyncClientError[] = collectErrors(db);
    await db.syncSession.waitForDownload();
    // The first four take the whole burst; the clock stands still, so the rest are refused.
    for (let i = 0; i < 4; i++) await db.write((tx) => tx.insert('cars', car(`c${i}`, 'Kia')));
    await db.syncSession.waitForUpload();
    for (let i = 4; i < 12; i++) await db.write((tx) => tx.insert('cars', car(`c${i}`, 'Kia')));
    const deadline = Date.now() + 15_000;
    while (db.snapshot.pending.length > 0) {
      if (Date.now() > deadline) throw new Error('the uploads never went through');
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await db.syncSession.waitForDownload();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'LIMIT_EXCEEDED')).toBe(true);
    const store = lgw.base.gateway.core.store;
    expect(clientDocs(db, 'cars')).toEqual(await serverScope(store, CARS, 'cars'));
    expect(clientDocs(db, 'cars')).toHaveLength(12);
  });
});
