/**
 * The operator's log lines, from a real gateway whose pino logger writes into the test:
 * one line per event (start, ready, shutdown; a session opened, paused, resumed, made to
 * reset, closed; a write refused; an authentication failure over HTTP and over a socket;
 * a socket closed for a limit or at its token's expiry), each with its request id, session
 * id and user where they exist. Time moves on a ManualClock.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import pino from 'pino';
import WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintToken } from '../src/auth/jwt.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { ManualClock } from '../src/clock.js';
import { attachGraphqlWs } from '../src/server/ws.js';
import { createGatewayYoga } from '../src/server/yoga.js';
import { logFormat } from '../src/server/logging.js';
import { REFUSALS_LOGGED_PER_UPLOAD } from '../src/server/sync-log.js';
import { startTestGateway, TEST_SECRET, type TestGateway } from './helpers/gateway.js';
import { hlc } from './helpers/sync-client.js';

interface Line {
  level: number;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

function capture() {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const of = (event: string) => lines.filter((l) => l.event === event);
  return { lines, logger, of };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startTestGateway>[0] = {}) {
  const log = capture();
  const gw = await startTestGateway({ logger: log.logger, ...options });
  cleanups.push(() => gw.close());
  return { gw, ...log };
}

/** A GraphQL POST with a request id of the test's choosing. */
async function post(
  gw: TestGateway,
  requestId: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const response = await fetch(gw.gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-request-id': requestId,
    },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.headers.get('x-request-id')).toBe(requestId);
  return (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown[] };
}

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($sessionId: ID!, $changesets: [ChangesetInput!]!) {
  uploadChanges(sessionId: $sessionId, changesets: $changesets) { serverVersion } }`;

async function openSession(gw: TestGateway, token: string, requestId = 'open-1') {
  const input = { clientId: 'phone-1', queries: [{ collection: 'cars' }] };
  const opened = await post(gw, requestId, token, OPEN, { input });
  return opened.data!.openSession!.id;
}

/** A socket that connects at once; `closed` resolves with its close code. */
function socket(url: string, token: string) {
  let connected!: () => void;
  let closed!: (code: number) => void;
  const events = {
    connected: new Promise<void>((r) => (connected = r)),
    closed: new Promise<number>((r) => (closed = r)),
  };
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: { authToken: token },
    on: {
      connected: () => connected(),
      closed: (event) => closed((event as { code: number }).code),
    },
    onNonLazyError: () => undefined,
  });
  cleanups.push(() => client.dispose());
  return events;
}

describe('the gateway', () => {
  it('logs its start, its readiness and its shutdown with the reason, one line each', async () => {
    const { gw, of } = await start();
    expect(of('gateway.starting')).toEqual([
      expect.objectContaining({ store: 'sqlite', devMode: false, msg: 'gateway starting' }),
    ]);
    expect(of('gateway.ready')).toEqual([
      expect.objectContaining({
        url: gw.gateway.url,
        port: gw.gateway.port,
        gatewayId: expect.any(String),
      }),
    ]);
    await gw.gateway.close('SIGTERM');
    expect(of('gateway.shutting_down')).toEqual([
      expect.objectContaining({ reason: 'SIGTERM', msg: 'gateway shutting down' }),
    ]);
    expect(of('gateway.stopped')).toEqual([
      expect.objectContaining({ reason: 'SIGTERM', cut: false, durationMs: expect.any(Number) }),
    ]);
  });
});

describe("a session's life", () => {
  it('is one line per event, with the request id, the session id and the user', async () => {
    const { gw, of } = await start();
    const alice = await gw.token('alice');
    const sessionId = await openSession(gw, alice, 'req-open');
    await openSession(gw, alice, 'req-reopen');
    const id = { id: sessionId };
    await post(gw, 'req-pause', alice, `mutation ($id: ID!) { pauseSession(id: $id) { id } }`, id);
    await post(
      gw,
      'req-resume',
      alice,
      `mutation ($id: ID!) { resumeSession(id: $id) { id } }`,
      id,
    );
    await post(gw, 'req-close', alice, `mutation ($id: ID!) { closeSession(id: $id) }`, id);
    const who = { sessionId, userId: 'alice' };
    expect(of('session.opened')).toEqual([
      expect.objectContaining({ ...who, requestId: 'req-open', clientId: 'phone-1', level: 30 }),
    ]);
    expect(of('session.reopened')).toEqual([
      expect.objectContaining({ ...who, requestId: 'req-reopen' }),
    ]);
    expect(of('session.paused')).toEqual([
      expect.objectContaining({
        ...who,
        requestId: 'req-pause',
        directions: ['UPLOAD', 'DOWNLOAD'],
        until: null,
      }),
    ]);
    expect(of('session.resumed')).toEqual([
      expect.objectContaining({ ...who, requestId: 'req-resume', by: 'user' }),
    ]);
    expect(of('session.closed')).toEqual([
      expect.objectContaining({ ...who, requestId: 'req-close' }),
    ]);
  });

  it("says when a pause's until resumes it, and when a session must reset", async () => {
    const clock = new ManualClock();
    const env = { MAX_OFFLINE_MS: '60000', COMPACT_INTERVAL_MS: '120000' };
    const { gw, of } = await start({ clock, env });
    const alice = await gw.token('alice');
    const sessionId = await openSession(gw, alice);
    const until = new Date(clock.now().getTime() + 30_000).toISOString();
    const pause = `mutation ($id: ID!, $until: DateTime) { pauseSession(id: $id, until: $until) { id } }`;
    await post(gw, 'req-pause', alice, pause, { id: sessionId, until });
    clock.advance(30_001);
    await vi.waitFor(() =>
      expect(of('session.resumed')).toEqual([
        expect.objectContaining({ sessionId, userId: null, by: 'until' }),
      ]),
    );
    clock.advance(120_000); // the sweep finds the session offline past 60 s
    await vi.waitFor(() =>
      expect(of('session.reset_required')).toEqual([
        expect.objectContaining({ sessionId, reason: 'offline', msg: 'session must reset' }),
      ]),
    );
  });
});

describe('a refused write', () => {
  it('is one line with its collection, id and reason, never its document', async () => {
    const { gw, of } = await start();
    const alice = await gw.token('alice');
    const sessionId = await openSession(gw, alice);
    const document = { ownerId: 'bob', secret: 'do not log me' };
    const changes = [{ collection: 'cars', id: 'x1', op: 'INSERT', document }];
    await post(gw, 'req-up', alice, UPLOAD, {
      sessionId,
      changesets: [{ clientVersion: 1, timestamp: hlc(), changes }],
    });
    const lines = of('write.refused');
    expect(lines).toEqual([
      expect.objectContaining({
        requestId: 'req-up',
        sessionId,
        userId: 'alice',
        collection: 'cars',
        id: 'x1',
        code: 'PERMISSION_DENIED',
        reason: expect.stringMatching(/^PERMISSION_DENIED: INSERT refused by/),
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('do not log me');
  });

  it(`is one line each up to ${REFUSALS_LOGGED_PER_UPLOAD} per upload, then one line with the count`, async () => {
    const { gw, of } = await start();
    const alice = await gw.token('alice');
    const sessionId = await openSession(gw, alice);
    const changes = Array.from({ length: REFUSALS_LOGGED_PER_UPLOAD + 2 }, (_, i) => ({
      collection: 'cars',
      id: `x${i}`,
      op: 'INSERT',
      document: { ownerId: 'bob' },
    }));
    await post(gw, 'req-up', alice, UPLOAD, {
      sessionId,
      changesets: [{ clientVersion: 1, timestamp: hlc(), changes }],
    });
    const lines = of('write.refused');
    expect(lines).toHaveLength(REFUSALS_LOGGED_PER_UPLOAD + 1);
    expect(lines.at(-1)).toMatchObject({
      more: 2,
      sessionId,
      userId: 'alice',
      requestId: 'req-up',
    });
  });
});

describe('an authentication failure', () => {
  it('over HTTP is one line with the request id', async () => {
    const { gw, of } = await start();
    await post(gw, 'req-bad-token', 'not-a-token', '{ __typename }');
    expect(of('auth.failed')).toEqual([
      expect.objectContaining({
        transport: 'http',
        requestId: 'req-bad-token',
        level: 40,
        reason: expect.any(String),
      }),
    ]);
  });

  it('at a socket is one line when the socket is closed with 4403', async () => {
    const { gw, of } = await start();
    const refused = socket(gw.gateway.wsUrl, 'not-a-token');
    expect(await refused.closed).toBe(4403);
    await vi.waitFor(() =>
      expect(of('auth.failed')).toEqual([
        expect.objectContaining({
          transport: 'socket',
          code: 4403,
          remoteAddress: expect.any(String),
        }),
      ]),
    );
  });
});

describe('a socket closed for a limit', () => {
  it('past the sockets per user (4430) is one line naming the user', async () => {
    const { gw, of } = await start({ env: { MAX_SOCKETS_PER_USER: '1' } });
    const alice = await gw.token('alice');
    await socket(gw.gateway.wsUrl, alice).connected;
    const second = socket(gw.gateway.wsUrl, alice);
    expect(await second.closed).toBe(4430);
    expect(of('socket.closed')).toEqual([
      expect.objectContaining({ code: 4430, userId: 'alice', max: 1, level: 40 }),
    ]);
  });

  it("at its token's expiry (4403) is one line with the socket and the user", async () => {
    const clock = new ManualClock();
    const { gw, logger, of } = await start({ clock });
    // The sockets of this server run on the ManualClock (the gateway's own use the system clock).
    const services = { ...gw.gateway, auth: new Authenticator(TEST_SECRET, false, clock) };
    const yoga = createGatewayYoga(services, logger);
    const server = createServer((req, res) => void yoga(req, res));
    const ws = attachGraphqlWs(server, yoga, services, {
      keepAliveMs: 0,
      maxPayloadBytes: 1 << 20,
      clock,
      logger,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await ws.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const token = await mintToken(
      TEST_SECRET,
      'alice',
      [],
      new Date(clock.now().getTime() + 60_000),
    );
    const open = socket(url, token);
    await open.connected;
    clock.advance(60_001);
    expect(await open.closed).toBe(4403);
    expect(of('socket.closed')).toEqual([
      expect.objectContaining({
        code: 4403,
        userId: 'alice',
        socketId: expect.any(String),
        level: 30,
      }),
    ]);
    expect(of('auth.failed')).toEqual([]);
  });
});

describe('the log format', () => {
  it('is LOG_FORMAT, else pretty only in development on a terminal', () => {
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }, false)).toBe('pretty');
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ NODE_ENV: 'production' }, true)).toBe('json');
    expect(() => logFormat({ LOG_FORMAT: 'xml' })).toThrow(/^LOG_FORMAT: "xml" is neither/);
  });
});
