/**
 * Token lifetime: a socket is closed with 4403 when its token expires (a timer per socket,
 * cancelled when the socket closes first), expired tokens are refused at connection_init
 * and at subscribe, and the SDK reconnects with a fresh token from its token function
 * without bothering the app, unless the fresh token is refused too (AuthenticationError).
 * Time is a ManualClock shared by the gateway's sockets and its Authenticator; one test runs
 * on the system clock through the real gateway, with a token of about two seconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { App, openSyncedDatabase, type SyncClientError } from '../client/src/index.js';
import { mintToken } from '../src/auth/jwt.js';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, TEST_SECRET, wsRequest, type TestGateway } from './helpers/gateway.js';
import { startLimitedGateway, type LimitedGateway } from './helpers/limited-gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, FAST_BACKOFF, untilDb, untilState } from './helpers/sdk.js';

const MINUTE = 60_000;
const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };

let lgw: LimitedGateway | undefined;
let gw: TestGateway | undefined;
const apps: App[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await lgw?.close();
  await gw?.close();
  lgw = gw = undefined;
});

/** Rejects after `ms`: a safety net so a bug fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface RawSocket {
  socket: WebSocket;
  /** Resolves with the first message of `type`. */
  message(type: string): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string; at: number }>;
}

/** A bare graphql-ws socket that has sent connection_init with `token`. */
async function rawSocket(url: string, token: string): Promise<RawSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  sockets.push(socket);
  const messages: Record<string, unknown>[] = [];
  const waiting = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiting) wake();
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    socket.once('close', (code, reason) =>
      resolve({ code, reason: String(reason), at: Date.now() }),
    ),
  );
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
  const message = (type: string) =>
    within(
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const found = messages.find((m) => m.type === type);
          if (!found) return;
          waiting.delete(check);
          resolve(found);
        };
        waiting.add(check);
        check();
      }),
      `a ${type} message`,
    );
  return { socket, message, closed };
}

/** Lets the event loop run (socket frames travel) without letting time pass on the clock. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('a socket whose token expires', () => {
  it('is closed with 4403 at the expiry, not before', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock });
    const token = await lgw.token('alice', new Date(clock.now().getTime() + MINUTE));
    const raw = await rawSocket(lgw.wsUrl, token);
    await raw.message('connection_ack');
    let closed = false;
    void raw.closed.then(() => (closed = true));
    clock.advance(MINUTE - 1000);
    await turns();
    expect(closed).toBe(false);
    clock.advance(1000);
    expect(await within(raw.closed, 'the close')).toMatchObject({
      code: 4403,
      reason: 'Forbidden: token expired',
    });
  });

  it('cancels its timer when the socket closes first', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock });
    const before = clock.pendingTimers;
    const token = await lgw.token('alice', new Date(clock.now().getTime() + MINUTE));
    const raw = await rawSocket(lgw.wsUrl, token);
    await raw.message('connection_ack');
    expect(clock.pendingTimers).toBe(before + 1);
    raw.socket.close();
    await within(raw.closed, 'the close');
    const deadline = Date.now() + 5000;
    while (clock.pendingTimers !== before && Date.now() < deadline) await turns(1);
    expect(clock.pendingTimers).toBe(before);
  });

  it('arms no timer for a token without an expiry', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock });
    const before = clock.pendingTimers;
    const token = await mintNoExpiry('alice');
    const client = lgw.ws(token);
    const result = await wsRequest(client, '{ sessions { edges { node { id } } } }');
    expect(result.errors).toBeUndefined();
    expect(clock.pendingTimers).toBe(before);
  });

  it('refuses an expired token at connection_init (4403) and in an operation header', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock });
    const soon = await lgw.token('alice', new Date(clock.now().getTime() + MINUTE));
    const fresh = await lgw.token('alice', new Date(clock.now().getTime() + 10 * MINUTE));
    const raw = await rawSocket(lgw.wsUrl, fresh);
    await raw.message('connection_ack');
    clock.advance(2 * MINUTE);
    const late = await rawSocket(lgw.wsUrl, soon);
    expect((await within(late.closed, 'the refusal')).code).toBe(4403);
    raw.socket.send(
      JSON.stringify({
        id: 'op',
        type: 'subscribe',
        payload: {
          query: '{ sessions { edges { node { id } } } }',
          extensions: { headers: { Authorization: `Bearer ${soon}` } },
        },
      }),
    );
    const error = (await raw.message('error')) as { payload: { extensions: { code: string } }[] };
    expect(error.payload[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });
});

/** A token without an `exp` claim. */
async function mintNoExpiry(sub: string): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

describe('the SDK, when its token expires', () => {
  function sdkApp(url: string, token: () => Promise<string>, errors: SyncClientError[]) {
    const app = new App({
      url,
      token,
      webSocketImpl: WebSocket,
      backoff: FAST_BACKOFF,
      keepAliveMs: 1000,
    });
    app.onError((e) => errors.push(e));
    apps.push(app);
    return app;
  }

  async function expectSameAsServer(db: Parameters<typeof clientDocs>[0]) {
    const store = lgw!.base.gateway.core.store;
    expect(clientDocs(db, 'cars')).toEqual(await serverScope(store, CARS, 'cars'));
  }

  it('reconnects at once with a fresh token from its token function, reporting nothing', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock });
    let calls = 0;
    const token = () => {
      calls += 1;
      return lgw!.token('alice', new Date(clock.now().getTime() + MINUTE));
    };
    const errors: SyncClientError[] = [];
    const app = sdkApp(lgw.wsUrl, token, errors);
    const db = await openSyncedDatabase(app, { clientId: 'phone', queries: CARS.queries });
    const sessionErrors = collectErrors(db);
    await db.write((tx) => tx.insert('cars', car('before', 'Kia')));
    await db.syncSession.waitForUpload();
    expect(calls).toBe(1);

    const states: string[] = [];
    app.onConnectionChange((_, current) => states.push(current));
    clock.advance(MINUTE);
    await within(
      (async () => {
        while (calls < 2 || app.connectionState !== 'CONNECTED') await turns(1);
      })(),
      'a reconnection',
    );
    expect(calls).toBe(2);
    expect(states).toEqual(['DISCONNECTED', 'CONNECTING', 'CONNECTED']);

    await db.write((tx) => tx.insert('cars', car('after', 'VW')));
    await db.syncSession.waitForUpload();
    await db.syncSession.waitForDownload();
    expect(errors).toEqual([]);
    expect(sessionErrors).toEqual([]);
    expect(db.get('cars', 'after')).toBeDefined();
    await expectSameAsServer(db);
  });

  it('reports AuthenticationError when the token function keeps giving the expired token', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock });
    const first = await lgw.token('alice', new Date(clock.now().getTime() + MINUTE));
    let fresh: string | null = null;
    const errors: SyncClientError[] = [];
    const app = sdkApp(lgw.wsUrl, async () => fresh ?? first, errors);
    const db = await openSyncedDatabase(app, { clientId: 'phone', queries: CARS.queries });
    const sessionErrors = collectErrors(db);
    await db.syncSession.waitForDownload();

    const refused = new Promise<SyncClientError>((resolve) => app.onError(resolve));
    clock.advance(MINUTE);
    const error = await within(refused, 'the refusal');
    expect(error.name).toBe('AuthenticationError');
    expect(error.code).toBe('UNAUTHENTICATED');
    await db.write((tx) => tx.insert('cars', car('offline', 'Kia')));

    fresh = await lgw.token('alice', new Date(clock.now().getTime() + 10 * MINUTE));
    app.reconnect();
    await within(untilState(app, 'CONNECTED'), 'the reconnection');
    await untilDb(db, () => db.snapshot.pending.length === 0, 'uploaded');
    await db.syncSession.waitForDownload();
    expect(errors.every((e) => e.name === 'AuthenticationError')).toBe(true);
    expect(sessionErrors.length).toBeGreaterThan(0);
    expect(sessionErrors.every((e) => e.name === 'AuthenticationError')).toBe(true);
    await expectSameAsServer(db);
  });
});

describe('on the real gateway and the system clock', () => {
  it('closes a socket with 4403 once its two-second token expires', async () => {
    gw = await startTestGateway();
    const token = await mintToken(TEST_SECRET, 'alice', [], '2s');
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    const raw = await rawSocket(gw.gateway.wsUrl, token);
    await raw.message('connection_ack');
    const closed = await within(raw.closed, 'the close at expiry');
    expect(closed).toMatchObject({ code: 4403, reason: 'Forbidden: token expired' });
    // Timers never fire early by more than a millisecond or so: not before the expiry.
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000 - 20);
  });
});
