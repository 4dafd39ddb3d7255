/**
 * A shutdown that stops: once `close()` (or SIGTERM) begins, new HTTP requests get 503 with
 * `Connection: close`, new WebSockets are refused and new operations on open sockets too;
 * uploads in flight commit and answer; keep-alive connections close (idle ones at once, busy
 * ones after their response); whatever is left is cut at the shutdown timeout, so the
 * process exits within it. Time is a ManualClock in-process; only the CLI test waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ManualClock } from '../src/clock.js';
import type { SyncStore } from '../src/store/port.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startChildGateway, type ChildGateway } from './helpers/child-gateway.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

/** A store whose integrations wait until `release()`. */
function gatedStore() {
  const inner = new SqliteStore(':memory:');
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered = 0;
  const integrate: SyncStore['integrate'] = async (...args) => {
    entered += 1;
    await gate;
    return inner.integrate(...args);
  };
  const store = new Proxy(inner, {
    get: (target, prop) => {
      if (prop === 'integrate') return integrate;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: store as SyncStore, release, entered: () => entered };
}

interface Raw {
  socket: Socket;
  text: () => string;
  closed: Promise<void>;
}

/** A raw TCP connection to the gateway, writing `data` at once. */
async function raw(port: number, data: string): Promise<Raw> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  socket.write(data);
  return { socket, text: () => text, closed };
}

const GET_HEALTH = 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n';
/** A POST whose body never finishes: the connection stays busy. */
const PARTIAL_POST =
  'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
  'Content-Length: 100\r\n\r\n{"query":';
const UPGRADE =
  'GET /graphql HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  socketClosed: Promise<void>;
}

/** One HTTP request on a connection of its own (kept alive unless the server says no). */
function send(url: string, method: string, body?: unknown, token?: string): Promise<Answer> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, headers: res.headers, body: text, socketClosed });
      });
    });
    const socketClosed = new Promise<void>((done) =>
      req.once('socket', (socket) => socket.once('close', () => done())),
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The status of a WebSocket handshake that the server refuses. */
function refusedUpgrade(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('open', () => reject(new Error('the WebSocket opened during the shutdown')));
    socket.on('error', () => {});
  });
}

const UPLOAD = `mutation ($sessionId: ID!, $changesets: [ChangesetInput!]!) {
  uploadChanges(sessionId: $sessionId, changesets: $changesets) { lastIntegratedClientVersion } }`;

const car = (id: string) => ({
  collection: 'cars',
  id,
  op: 'INSERT' as const,
  document: { ownerId: 'alice' },
});
const changeset = (clientVersion: number, id: string) => ({
  clientVersion,
  timestamp: hlc(),
  changes: [car(id)],
});

/** How long a condition may take on a busy machine (vi.waitFor's default is 1 s). */
const WAIT = { timeout: 10_000 };

let gw: TestGateway | undefined;
let child: ChildGateway | undefined;
afterEach(async () => {
  await gw?.close();
  await child?.stop();
  gw = child = undefined;
});

describe('close()', () => {
  it('refuses what is new, lets uploads in flight answer, and closes keep-alive connections', async () => {
    const gated = gatedStore();
    gw = await startTestGateway({ store: gated.store, clock: new ManualClock() });
    const { port, url, wsUrl } = gw.gateway;
    const alice = await gw.token('alice');
    const onWs = new SyncTestClient(gw.ws(alice), 'ws-client');
    await onWs.open([{ collection: 'cars' }]);
    const onHttp = new SyncTestClient(gw.ws(alice), 'http-client');
    await onHttp.open([{ collection: 'cars' }]);
    const idle = await raw(port, GET_HEALTH);
    await vi.waitFor(() => expect(idle.text()).toContain('"status":"ok"'), WAIT);

    const wsUpload = onWs.upload([car('over-ws')]);
    const variables = { sessionId: onHttp.sessionId, changesets: [changeset(1, 'over-http')] };
    const httpUpload = send(url, 'POST', { query: UPLOAD, variables }, alice);
    await vi.waitFor(() => expect(gated.entered()).toBe(2), WAIT);

    const closing = gw.gateway.close();
    await idle.closed; // an idle keep-alive connection closes at once
    const refused = await send(url, 'POST', { query: '{ __typename }' });
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('SHUTTING_DOWN');
    expect(await refusedUpgrade(wsUrl)).toBe(503);
    const late = await onWs.request('{ __typename }');
    expect(late.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    // A subscription of the socket's own (direct-subscriptions.ts) is refused alike.
    const lateStream = await onWs.request(
      'subscription ($id: ID!) { connectionStateChanges(sessionId: $id) { current } }',
      { id: onWs.sessionId },
    );
    expect(lateStream.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');

    gated.release();
    const answered = await httpUpload;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body).data.uploadChanges.lastIntegratedClientVersion).toBe(1);
    expect(answered.headers.connection).toBe('close');
    await answered.socketClosed; // a busy keep-alive connection closes after its response
    expect((await wsUpload).data?.uploadChanges.lastIntegratedClientVersion).toBe(1);
    await closing;
  });

  it('cuts the connections still open at the shutdown timeout, and not before', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock, env: { SHUTDOWN_TIMEOUT_MS: '5000' } });
    const busy = await raw(gw.gateway.port, PARTIAL_POST);
    const deaf = await raw(gw.gateway.port, UPGRADE); // never answers a close frame
    await vi.waitFor(() => expect(deaf.text()).toContain('101 Switching Protocols'), WAIT);
    let done = false;
    const closing = gw.gateway.close().then(() => (done = true));
    // The WebSocket was asked to close (1001): the shutdown now waits on both connections.
    await vi.waitFor(() => expect(deaf.text()).toMatch(/\x88[\s\S]{1,2}\x03\xe9/), WAIT);
    expect(done).toBe(false);
    clock.advance(4999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    clock.advance(1);
    await closing;
    await Promise.all([busy.closed, deaf.closed]);
  });

  it('is idempotent', async () => {
    gw = await startTestGateway();
    const first = gw.gateway.close();
    expect(gw.gateway.close()).toBe(first);
    await first;
  });
});

describe('SIGTERM', () => {
  it('refuses new requests with 503, closes idle connections and exits 0 within the timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-gw-shutdown-'));
    try {
      const env = {
        JWT_SECRET: 'shutdown-secret-shutdown-secret-shutdown',
        SHUTDOWN_TIMEOUT_MS: '6000',
        LOG_LEVEL: 'info',
      };
      child = await startChildGateway(dir, env);
      const port = Number(new URL(child.url).port);
      const lines: string[] = [];
      createInterface({ input: child.proc.stdout! }).on('line', (line) => lines.push(line));
      const idle = await raw(port, GET_HEALTH);
      await vi.waitFor(() => expect(idle.text()).toContain('"status":"ok"'), WAIT);
      const busy = await raw(port, PARTIAL_POST); // holds the shutdown until the timeout
      const exited = once(child.proc, 'exit');
      child.proc.kill('SIGTERM');
      await vi.waitFor(() => expect(lines).toContain('SIGTERM: shutting down'), WAIT);
      await idle.closed;
      const refused = await send(child.url, 'GET');
      expect(refused.status).toBe(503);
      expect(refused.headers.connection).toBe('close');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0); // the graceful path, not the backstop (which exits 1)
      // The whole close came back, the store's writer thread included, before the exit.
      expect(lines.some((l) => l.includes('"event":"gateway.stopped"'))).toBe(true);
      await busy.closed;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
