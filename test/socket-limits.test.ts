/**
 * Limits of the graphql-ws path that hold under abuse: sockets per user (4430), operations
 * refused before they start free their slot, the changesets of one upload counted before
 * GraphQL coerces them, and malformed frames logged once per socket at warn, without a
 * stack trace.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { App, openSyncedDatabase, type SyncClientError } from '../client/src/index.js';
import { SOCKET_LIMIT_CLOSE_CODE } from '../src/server/limits.js';
import {
  startTestGateway,
  wsRequest,
  type GqlResult,
  type TestGateway,
} from './helpers/gateway.js';
import { startLimitedGateway, type LimitedGateway } from './helpers/limited-gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, FAST_BACKOFF, untilDb, untilState } from './helpers/sdk.js';

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };
const SESSIONS = '{ sessions { edges { node { id } } } }';
const OPEN = `mutation ($c: ID!) { openSession(input: { clientId: $c, queries: [{ collection: "cars" }] }) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) {
  uploadChanges(sessionId: $s, changesets: $cs) { lastIntegratedClientVersion } }`;

let lgw: LimitedGateway | undefined;
let gw: TestGateway | undefined;
const apps: App[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
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

interface RawSocket {
  socket: WebSocket;
  acked: Promise<boolean>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A bare graphql-ws socket; sends connection_init with `token` unless it is undefined. */
async function rawSocket(url: string, token?: string | null): Promise<RawSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  socket.on('error', () => undefined);
  sockets.push(socket);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const acked = new Promise<boolean>((resolve) => {
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  await new Promise((resolve) => socket.once('open', resolve));
  if (token !== undefined) {
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
  }
  return { socket, acked, closed };
}

describe('sockets per user', () => {
  it('closes the socket past the cap with 4430, per user, and frees a place on close', async () => {
    lgw = await startLimitedGateway({ limits: { maxSocketsPerUser: 2 } });
    const alice = await lgw.token('alice');
    const [a1, a2] = [await rawSocket(lgw.wsUrl, alice), await rawSocket(lgw.wsUrl, alice)];
    expect(await a1.acked).toBe(true);
    expect(await a2.acked).toBe(true);
    const a3 = await rawSocket(lgw.wsUrl, alice);
    expect(await within(a3.closed, 'the refusal')).toEqual({
      code: SOCKET_LIMIT_CLOSE_CODE,
      reason: 'Too many sockets: at most 2 per user',
    });
    const bob = await rawSocket(lgw.wsUrl, await lgw.token('bob'));
    expect(await bob.acked).toBe(true);

    a1.socket.close();
    await a1.closed;
    // The gateway learns of the close a moment later: retry until a place is free.
    await within(
      (async () => {
        while (!(await (await rawSocket(lgw!.wsUrl, alice)).acked));
      })(),
      'a place after a close',
    );
  });

  it('tells the SDK app (LIMIT_EXCEEDED), which connects once a place is free', async () => {
    lgw = await startLimitedGateway({ limits: { maxSocketsPerUser: 1 } });
    const token = await lgw.token('alice');
    const holder = await rawSocket(lgw.wsUrl, token);
    expect(await holder.acked).toBe(true);
    const app = new App({
      url: lgw.wsUrl,
      token,
      webSocketImpl: WebSocket,
      backoff: FAST_BACKOFF,
      keepAliveMs: 1000,
    });
    apps.push(app);
    const refused = await within(
      new Promise<SyncClientError>((resolve) => app.onError(resolve)),
      'the refusal',
    );
    expect(refused.code).toBe('LIMIT_EXCEEDED');
    expect(refused.message).toMatch(/Too many sockets/);

    holder.socket.close();
    await within(untilState(app, 'CONNECTED'), 'the connection');
    const db = await openSyncedDatabase(app, { clientId: 'phone', queries: CARS.queries });
    collectErrors(db);
    await db.write((tx) => tx.insert('cars', car('c1', 'Kia')));
    await untilDb(db, () => db.snapshot.pending.length === 0, 'uploaded');
    await db.syncSession.waitForDownload();
    const store = lgw.base.gateway.core.store;
    expect(clientDocs(db, 'cars')).toEqual(await serverScope(store, CARS, 'cars'));
  });
});

describe('operations refused before they start', () => {
  it('free their slot: 250 invalid operations, then a valid one works', async () => {
    gw = await startTestGateway();
    const client = gw.ws(await gw.token('alice'));
    const invalid = [
      '{ sessions { edges { node { id } }', // a syntax error
      '{ nothingHere }', // a validation error
      'query A { __typename } query B { __typename }', // no operation to pick
    ];
    for (let i = 0; i < 250; i++) {
      const result = await request(client, invalid[i % invalid.length]!);
      expect(result.errors?.length).toBeGreaterThan(0);
    }
    const valid = await wsRequest(client, SESSIONS);
    expect(valid.errors).toBeUndefined();
    expect(valid.data).toEqual({ sessions: { edges: [] } });
  });
});

describe('changesets per upload', () => {
  const empty = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ clientVersion: i + 1, timestamp: '', changes: [] }));

  it('refuses more than the cap in variables or in a literal, naming changesets', async () => {
    lgw = await startLimitedGateway({ limits: { maxChangesPerUpload: 3 }, http: true });
    const token = await lgw.token('alice');
    const client = lgw.ws(token);
    const opened = await request<{ openSession: { id: string } }>(client, OPEN, { c: 'phone' });
    const s = opened.data!.openSession.id;
    const tooMany = await request(client, UPLOAD, { s, cs: empty(4) });
    expect(tooMany.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^changesets: 4 changesets exceed the limit of 3/),
      extensions: { code: 'BAD_USER_INPUT', field: 'changesets' },
    });
    const literal = `mutation ($s: ID!) { uploadChanges(sessionId: $s, changesets: [${empty(4)
      .map((c) => `{ clientVersion: ${c.clientVersion}, timestamp: "", changes: [] }`)
      .join(', ')}]) { lastIntegratedClientVersion } }`;
    const refused = await request(client, literal, { s });
    expect(refused.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'changesets',
    });
    const overHttp = await lgw.http(UPLOAD, { s, cs: empty(4) }, token);
    expect(overHttp.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'changesets',
    });
    // At the cap, the upload reaches the sync core (which names the bad timestamp).
    const atCap = await request(client, UPLOAD, { s, cs: empty(3) });
    expect(atCap.errors?.[0]?.extensions?.field).toBe('changesets[0].timestamp');
    const [session] = await lgw.base.gateway.core.store.getSessions([s]);
    expect(session!.lastIntegratedClientVersion).toBe(0);
  });

  it('refuses 150,000 empty changesets on the real gateway before coercing them', async () => {
    gw = await startTestGateway();
    const client = gw.ws(await gw.token('alice'));
    const opened = await request<{ openSession: { id: string } }>(client, OPEN, { c: 'phone' });
    const s = opened.data!.openSession.id;
    const result = await request(client, UPLOAD, { s, cs: empty(150_000) });
    expect(result.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^changesets: 150000 changesets exceed the limit of 1000/),
      extensions: { code: 'BAD_USER_INPUT', field: 'changesets' },
    });
    expect((await request(client, SESSIONS)).errors).toBeUndefined();
  });
});

describe('malformed frames', () => {
  const cases: [string, (s: WebSocket) => void, number, RegExp][] = [
    ['not JSON', (s) => s.send('not json'), 4400, /^not JSON$/],
    [
      'a type only a server sends',
      (s) => s.send(JSON.stringify({ type: 'next', id: '1', payload: {} })),
      4400,
      /"next" message, which only a server sends/,
    ],
    ['an unknown type', (s) => s.send(JSON.stringify({ type: 'bogus' })), 4400, /unknown type/],
    [
      'a bad shape',
      (s) => s.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: 1 } })),
      4400,
      /"subscribe" message of the wrong shape/,
    ],
    [
      'invalid UTF-8 in a text frame',
      (s) => s.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false }),
      1007,
      /^invalid WebSocket frame: .*UTF-8/,
    ],
    [
      'a frame past the size limit',
      (s) => s.send('x'.repeat(70_000)),
      1009,
      /^invalid WebSocket frame: Max payload size exceeded/,
    ],
  ];

  it.each(cases)(
    '%s: closed and logged once at warn, without a stack',
    async (_, send, code, problem) => {
      const consoleError = vi.spyOn(console, 'error');
      lgw = await startLimitedGateway({ maxPayloadBytes: 64 * 1024 });
      const raw = await rawSocket(lgw.wsUrl, await lgw.token('alice'));
      expect(await raw.acked).toBe(true);
      send(raw.socket);
      send(raw.socket);
      expect((await within(raw.closed, 'the close')).code).toBe(code);
      // A second socket, well formed, shows the first one's handling is over.
      const next = await rawSocket(lgw.wsUrl, await lgw.token('bob'));
      expect(await next.acked).toBe(true);
      const warnings = lgw.logs.filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        msg: 'graphql-ws: malformed message; closing the socket',
        problem: expect.stringMatching(problem),
        socketId: expect.any(String),
      });
      expect(JSON.stringify(lgw.logs)).not.toMatch(/stack|"err"/);
      expect(consoleError).not.toHaveBeenCalled();
    },
  );
});
