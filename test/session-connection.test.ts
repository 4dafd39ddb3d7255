/**
 * A session's connection state over real graphql-ws sockets (declare, bind, close, dead
 * peers found by keep-alive), the `reconnect` mutation, and who may see or manage a session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ManualClock } from '../src/clock.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startTestGateway, type GqlResult, type TestGateway } from './helpers/gateway.js';

const OPEN = `mutation ($clientId: ID!) {
  openSession(input: { clientId: $clientId, queries: [{ collection: "cars" }] }) { id } }`;
const STATE = `query ($id: ID!) { session(id: $id) { id state connectionState } }`;
const NODE = `query ($id: ID!) { node(id: $id) { id } }`;
const WATCH = `subscription ($id: ID!) {
  connectionStateChanges(sessionId: $id) { previous current at session { id } } }`;
const CHANGES = `subscription ($id: ID!) { changes(sessionId: $id) { toServerVersion } }`;
const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) { type at session { id } } }`;
const RECONNECT = `mutation { reconnect { sessions } }`;
const PAUSE = `mutation ($id: ID!) { pauseSession(id: $id) { id state } }`;
const SESSIONS = `query ($state: SessionState, $connectionState: ConnectionState) {
  sessions(state: $state, connectionState: $connectionState) { edges { node { id } } } }`;

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type ConnectionState = 'DISCONNECTED' | 'CONNECTING' | 'CONNECTED';
interface Change {
  previous: ConnectionState;
  current: ConnectionState;
  at: string;
  session: { id: string };
}
interface SessionEvent {
  type: string;
  at: string;
  session: { id: string };
}

let gw: TestGateway | undefined;
const clients: Client[] = [];
const rawSockets: WebSocket[] = [];

afterEach(async () => {
  for (const raw of rawSockets.splice(0)) raw.terminate();
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await gw?.close();
  gw = undefined;
});

function gateway(): TestGateway {
  if (!gw) throw new Error('no gateway started');
  return gw;
}

/** Rejects after `ms` with `what` in the message: a safety net, never a timing assertion. */
function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits (turn by turn of the event loop, not by sleeping) until the gateway's state says so. */
async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A graphql-ws subscription as an async queue of results; `next` fails instead of hanging. */
interface Queue<T> {
  next(timeoutMs?: number): Promise<GqlResult<T>>;
  readonly pending: number;
  readonly completed: boolean;
  stop(): void;
}

function toErrors(error: unknown): NonNullable<GqlResult['errors']> {
  if (Array.isArray(error)) {
    return error.map((e: { message?: string; extensions?: { code?: string } }) => ({
      message: String(e.message),
      ...(e.extensions ? { extensions: e.extensions } : {}),
    }));
  }
  if (error && typeof error === 'object' && 'code' in error) {
    const close = error as { code: unknown; reason?: unknown };
    return [{ message: `socket closed: ${String(close.code)} ${String(close.reason ?? '')}` }];
  }
  return [{ message: error instanceof Error ? error.message : String(error) }];
}

function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>): Queue<T> {
  const label = query.replace(/\s+/g, ' ').slice(0, 60);
  const queue: GqlResult<T>[] = [];
  let wake: (() => void) | null = null;
  let completed = false;
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        queue.push(value as GqlResult<T>);
        wake?.();
      },
      error: (error) => {
        queue.push({ errors: toErrors(error) });
        completed = true;
        wake?.();
      },
      complete: () => {
        completed = true;
        wake?.();
      },
    },
  );
  return {
    get pending() {
      return queue.length;
    },
    get completed() {
      return completed;
    },
    stop,
    async next(timeoutMs = 5_000) {
      if (queue.length === 0) {
        if (completed) throw new Error(`${label}: completed, no more values`);
        await within(
          new Promise<void>((resolve) => (wake = resolve)),
          `${label} (next value)`,
          timeoutMs,
        ).finally(() => (wake = null));
        if (queue.length === 0) throw new Error(`${label}: completed without a value`);
      }
      return queue.shift()!;
    },
  };
}

/** A graphql-ws client that declares `sessionIds`, connected (acknowledged) when it resolves. */
async function connect(token: string, sessionIds: string[]): Promise<Client> {
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const connected = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const client = createClient({
    url: gateway().gateway.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    connectionParams: { authToken: token, sessionIds },
    on: {
      connected: () => settle?.resolve(),
      closed: (event) =>
        settle?.reject(new Error(`closed before ack: ${toErrors(event)[0]?.message}`)),
    },
  });
  clients.push(client);
  await within(connected, 'connection_ack');
  return client;
}

/** A raw graphql-transport-ws socket, acknowledged when it resolves (no client library). */
async function rawConnect(token: string, sessionIds: string[], options: WebSocket.ClientOptions) {
  const raw = new WebSocket(gateway().gateway.wsUrl, 'graphql-transport-ws', options);
  rawSockets.push(raw);
  let pings = 0;
  raw.on('ping', () => (pings += 1));
  const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
  const acked = new Promise<void>((resolve, reject) => {
    raw.on('message', (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'connection_ack') resolve();
    });
    raw.once('error', reject);
    raw.once('close', (code) => reject(new Error(`closed before ack: ${code}`)));
  });
  await within(new Promise((resolve) => raw.once('open', resolve)), 'raw socket open');
  raw.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token, sessionIds } }));
  await within(acked, 'connection_ack');
  return {
    raw,
    closed,
    pings: () => pings,
    subscribe: (id: string, query: string, variables: Record<string, unknown>) =>
      raw.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
  };
}

/** A lazy graphql-ws client that declares nothing (a watcher, or a plain client). */
function plainClient(token: string): Client {
  const client = gateway().ws(token);
  clients.push(client);
  return client;
}

async function closeClient(client: Client): Promise<void> {
  const index = clients.indexOf(client);
  if (index >= 0) clients.splice(index, 1);
  await client.dispose();
}

async function openSession(token: string, clientId: string): Promise<string> {
  const r = await gateway().http<{ openSession: { id: string } }>(OPEN, { clientId }, token);
  expect(r.errors).toBeUndefined();
  return r.data!.openSession.id;
}

async function stateOf(token: string, id: string): Promise<ConnectionState | undefined> {
  const r = await gateway().http<{ session: { connectionState: ConnectionState } | null }>(
    STATE,
    { id },
    token,
  );
  expect(r.errors).toBeUndefined();
  return r.data?.session?.connectionState;
}

/** Watches a session's connection state; resolves once the gateway holds the subscription. */
async function watch(
  token: string,
  id: string,
): Promise<Queue<{ connectionStateChanges: Change }>> {
  const topics = gateway().gateway.sessions.connections.changes;
  const before = topics.count(id);
  const q = subscribe<{ connectionStateChanges: Change }>(plainClient(token), WATCH, { id });
  await until(() => topics.count(id) > before || q.completed, 'connectionStateChanges subscribed');
  return q;
}

/** Subscribes to a session's events; resolves once the gateway holds the subscription. */
async function events(client: Client, id: string): Promise<Queue<{ sessionEvents: SessionEvent }>> {
  const topics = gateway().gateway.sessions.events;
  const before = topics.count(id);
  const q = subscribe<{ sessionEvents: SessionEvent }>(client, EVENTS, { id });
  await until(() => topics.count(id) > before || q.completed, 'sessionEvents subscribed');
  return q;
}

async function nextChange(q: Queue<{ connectionStateChanges: Change }>): Promise<Change> {
  const r = await q.next();
  expect(r.errors).toBeUndefined();
  const change = r.data!.connectionStateChanges;
  expect(change.at).toMatch(ISO_DATE_TIME);
  return change;
}

async function nextEvent(q: Queue<{ sessionEvents: SessionEvent }>): Promise<SessionEvent> {
  const r = await q.next();
  expect(r.errors).toBeUndefined();
  const event = r.data!.sessionEvents;
  expect(event.at).toMatch(ISO_DATE_TIME);
  return event;
}

describe('connection state', () => {
  it('goes DISCONNECTED → CONNECTING → CONNECTED → DISCONNECTED and back, emitting only real changes', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock });
    const alice = await gw.token('alice');
    const id = await openSession(alice, 'phone');
    const other = await openSession(alice, 'tablet');
    const at = () => clock.now().toISOString();

    const changes = await watch(alice, id);
    const otherChanges = await watch(alice, other);
    expect(await stateOf(alice, id)).toBe('DISCONNECTED'); // watching does not bind

    clock.advance(1_000);
    const first = await connect(alice, [id]);
    expect(await nextChange(changes)).toEqual({
      previous: 'DISCONNECTED',
      current: 'CONNECTING',
      at: at(),
      session: { id },
    });
    expect(await stateOf(alice, id)).toBe('CONNECTING');

    clock.advance(1_000);
    subscribe(first, CHANGES, { id });
    expect(await nextChange(changes)).toEqual({
      previous: 'CONNECTING',
      current: 'CONNECTED',
      at: at(),
      session: { id },
    });
    expect(await stateOf(alice, id)).toBe('CONNECTED');

    // Nothing changes: a second binding subscription on the same socket, a second socket
    // declaring the session, and that socket closing while the first is still bound. The
    // second socket also declares the other session, whose watcher tells when the gateway
    // has seen it open and close (one tracker call handles all the sessions of a socket).
    await events(first, id);
    const second = await connect(alice, [id, other]);
    expect(await nextChange(otherChanges)).toMatchObject({
      previous: 'DISCONNECTED',
      current: 'CONNECTING',
      session: { id: other },
    });
    await closeClient(second);
    expect(await nextChange(otherChanges)).toMatchObject({
      previous: 'CONNECTING',
      current: 'DISCONNECTED',
      session: { id: other },
    });
    expect(await stateOf(alice, id)).toBe('CONNECTED');

    clock.advance(1_000);
    await closeClient(first);
    // The next event is the real change: nothing was emitted for the non-changes above.
    expect(await nextChange(changes)).toEqual({
      previous: 'CONNECTED',
      current: 'DISCONNECTED',
      at: at(),
      session: { id },
    });
    expect(await stateOf(alice, id)).toBe('DISCONNECTED');

    clock.advance(1_000);
    const again = await connect(alice, [id]);
    expect(await nextChange(changes)).toEqual({
      previous: 'DISCONNECTED',
      current: 'CONNECTING',
      at: at(),
      session: { id },
    });
    expect(await stateOf(alice, id)).toBe('CONNECTING');
    clock.advance(1_000);
    await events(again, id);
    expect(await nextChange(changes)).toEqual({
      previous: 'CONNECTING',
      current: 'CONNECTED',
      at: at(),
      session: { id },
    });
    expect(await stateOf(alice, id)).toBe('CONNECTED');

    // The other session's stream carried only its own changes.
    expect(await stateOf(alice, other)).toBe('DISCONNECTED');
    expect(otherChanges.pending).toBe(0);
    expect(changes.pending).toBe(0);
  });

  it('finds a dead peer by keep-alive: CONNECTED, then DISCONNECTED without the client closing', async () => {
    gw = await startTestGateway({ env: { KEEP_ALIVE_MS: '100' } });
    const alice = await gw.token('alice');
    const id = await openSession(alice, 'phone');
    const changes = await watch(alice, id);

    // A peer that never answers pings (autoPong: false) and never closes its socket.
    const peer = await rawConnect(alice, [id], { autoPong: false });
    expect(await nextChange(changes)).toMatchObject({
      previous: 'DISCONNECTED',
      current: 'CONNECTING',
    });
    peer.subscribe('1', CHANGES, { id });
    expect(await nextChange(changes)).toMatchObject({
      previous: 'CONNECTING',
      current: 'CONNECTED',
    });

    expect(await nextChange(changes)).toMatchObject({
      previous: 'CONNECTED',
      current: 'DISCONNECTED',
    });
    expect(await within(peer.closed, 'raw socket closed by the server')).toBe(1006);
    expect(peer.pings()).toBeGreaterThan(0);
    expect(await stateOf(alice, id)).toBe('DISCONNECTED');
    expect(gw.gateway.sessions.connections.knownSessions()).toEqual([]);
  });

  // A socket that closes while its subscription is being set up (store I/O in flight) must
  // not be bound afterwards, or its session would stay CONNECTED for good.
  for (const [stream, query] of [
    ['changes', CHANGES],
    ['sessionEvents', EVENTS],
  ] as const) {
    it(`does not bind a socket that closed while its ${stream} subscription was being set up`, async () => {
      const store = new SqliteStore(':memory:');
      // Holds the next session lookup until released: the store I/O of a real database.
      let held: { reached: () => void; released: Promise<void> } | null = null;
      let release: () => void = () => undefined;
      const getSessions = store.getSessions.bind(store);
      store.getSessions = async (ids) => {
        const hold = held;
        held = null;
        if (hold) {
          hold.reached();
          await hold.released;
        }
        return getSessions(ids);
      };
      gw = await startTestGateway({ store });
      const alice = await gw.token('alice');
      const id = await openSession(alice, 'phone');
      const changes = await watch(alice, id);
      const peer = await rawConnect(alice, [id], {});
      expect(await nextChange(changes)).toMatchObject({ current: 'CONNECTING' });

      const reached = new Promise<void>((reachedLookup) => {
        held = { reached: reachedLookup, released: new Promise((r) => (release = r)) };
      });
      peer.subscribe('1', query, { id });
      await within(reached, 'the subscription looks the session up');
      peer.raw.terminate();
      expect(await nextChange(changes)).toMatchObject({
        previous: 'CONNECTING',
        current: 'DISCONNECTED',
      });
      release();

      // The next change is a real one: nothing came from the closed socket's subscription.
      await connect(alice, [id]);
      expect(await nextChange(changes)).toMatchObject({
        previous: 'DISCONNECTED',
        current: 'CONNECTING',
      });
      expect(await stateOf(alice, id)).toBe('CONNECTING');
    });
  }
});

describe('connection state reported by another gateway', () => {
  it('holds while renewed, and lapses with a change event when the other gateway goes quiet', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock });
    const alice = await gw.token('alice');
    const id = await openSession(alice, 'phone');
    const changes = await watch(alice, id);
    const connections = gw.gateway.sessions.connections;
    const at = () => clock.now().toISOString();

    connections.report('gateway-b', id, 'CONNECTED'); // what ClusterLink does with its signal
    expect(await nextChange(changes)).toMatchObject({
      previous: 'DISCONNECTED',
      current: 'CONNECTED',
    });
    clock.advance(20_000);
    connections.report('gateway-b', id, 'CONNECTED'); // renewed: no change
    clock.advance(29_000);
    expect(await stateOf(alice, id)).toBe('CONNECTED');
    clock.advance(1_000); // 30 s since the renewal: gateway B is presumed gone
    expect(await nextChange(changes)).toEqual({
      previous: 'CONNECTED',
      current: 'DISCONNECTED',
      at: at(),
      session: { id },
    });
    expect(await stateOf(alice, id)).toBe('DISCONNECTED');

    connections.report('gateway-b', id, 'CONNECTING');
    connections.report('gateway-b', id, 'DISCONNECTED');
    expect(clock.pendingTimers).toBe(1); // only the gateway's own compaction timer
  });
});

describe('reconnect', () => {
  it('asks one session when given its id: its owner or an admin, no one else', async () => {
    gw = await startTestGateway();
    const alice = await gw.token('alice');
    const a1 = await openSession(alice, 'one-a1');
    const a2 = await openSession(alice, 'one-a2');
    const a1Events = await events(await connect(alice, [a1]), a1);
    const a2Events = await events(await connect(alice, [a2]), a2);
    const one = `mutation ($id: ID!) { reconnect(sessionId: $id) { sessions } }`;
    expect((await gw.http(one, { id: a1 }, alice)).data).toEqual({ reconnect: { sessions: 1 } });
    expect(await nextEvent(a1Events)).toMatchObject({ type: 'RECONNECT_REQUESTED' });
    const bob = await gw.token('bob');
    const refused = await gw.http(one, { id: a2 }, bob);
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const root = await gw.token('root', ['admin']);
    expect((await gw.http(one, { id: a2 }, root)).data).toEqual({ reconnect: { sessions: 1 } });
    expect(await nextEvent(a2Events)).toMatchObject({ type: 'RECONNECT_REQUESTED' });
    expect(a1Events.pending).toBe(0);
  });

  it("asks every session of the caller (all, for an admin) through sessionEvents, and no one else's", async () => {
    gw = await startTestGateway();
    const alice = await gw.token('alice');
    const bob = await gw.token('bob');
    const a1 = await openSession(alice, 'a1');
    const a2 = await openSession(alice, 'a2');
    const b1 = await openSession(bob, 'b1');
    const a1Events = await events(await connect(alice, [a1]), a1);
    const a2Events = await events(await connect(alice, [a2]), a2);
    const bEvents = await events(await connect(bob, [b1]), b1);

    expect((await gw.http(RECONNECT, {}, alice)).data).toEqual({ reconnect: { sessions: 2 } });
    expect(await nextEvent(a1Events)).toMatchObject({
      type: 'RECONNECT_REQUESTED',
      session: { id: a1 },
    });
    expect(await nextEvent(a2Events)).toMatchObject({
      type: 'RECONNECT_REQUESTED',
      session: { id: a2 },
    });

    // Bob's own reconnect is the next event on his stream, and the only one: nothing came
    // from alice's (a stray RECONNECT_REQUESTED would come before PAUSED).
    expect((await gw.http(RECONNECT, {}, bob)).data).toEqual({ reconnect: { sessions: 1 } });
    expect(await nextEvent(bEvents)).toMatchObject({
      type: 'RECONNECT_REQUESTED',
      session: { id: b1 },
    });
    expect((await gw.http(PAUSE, { id: b1 }, bob)).errors).toBeUndefined();
    expect((await nextEvent(bEvents)).type).toBe('PAUSED');
    expect(a1Events.pending + a2Events.pending).toBe(0);

    const root = await gw.token('root', ['admin']);
    expect((await gw.http(RECONNECT, {}, root)).data).toEqual({ reconnect: { sessions: 3 } });
    for (const [q, id] of [
      [a1Events, a1],
      [a2Events, a2],
      [bEvents, b1],
    ] as const) {
      expect(await nextEvent(q)).toMatchObject({ type: 'RECONNECT_REQUESTED', session: { id } });
    }
  });
});

describe('authorization', () => {
  it('lets no one else read, manage or watch a session: null or NOT_FOUND, and nothing changes', async () => {
    gw = await startTestGateway();
    const alice = await gw.token('alice');
    const bob = await gw.token('bob');
    const id = await openSession(alice, 'phone');
    await openSession(bob, 'bobs-phone');
    const changes = await watch(alice, id);

    expect((await gw.http(STATE, { id }, alice)).data).toEqual({
      session: { id, state: 'ACTIVE', connectionState: 'DISCONNECTED' },
    });
    expect((await gw.http(NODE, { id }, alice)).data).toEqual({ node: { id } });
    const read = await gw.http(STATE, { id }, bob);
    expect(read).toEqual({ data: { session: null } });
    expect(await gw.http(NODE, { id }, bob)).toEqual({ data: { node: null } });

    const mutations: [string, string][] = [
      ['pauseSession', `mutation ($id: ID!) { pauseSession(id: $id) { id } }`],
      ['resumeSession', `mutation ($id: ID!) { resumeSession(id: $id) { id } }`],
      [
        'waitForUpload',
        `mutation ($id: ID!) { waitForUpload(sessionId: $id, timeoutMs: 3000) { id } }`,
      ],
      [
        'waitForDownload',
        `mutation ($id: ID!) { waitForDownload(sessionId: $id, timeoutMs: 3000) { id } }`,
      ],
      ['closeSession', `mutation ($id: ID!) { closeSession(id: $id) }`],
      [
        'updateQueries',
        `mutation ($id: ID!) { updateQueries(sessionId: $id, queries: [{ collection: "cars" }]) { id } }`,
      ],
    ];
    for (const [name, mutation] of mutations) {
      const r = await gw.http(mutation, { id }, bob);
      expect({ name, data: r.data, code: r.errors?.[0]?.extensions?.code }).toEqual({
        name,
        data: null,
        code: 'NOT_FOUND',
      });
    }

    // Bob's socket declares alice's session and tries every stream of it.
    const bobSocket = await connect(bob, [id]);
    for (const query of [EVENTS, WATCH, CHANGES]) {
      const q = subscribe<unknown>(bobSocket, query, { id });
      const r = await q.next();
      expect({ query, data: r.data ?? null, code: r.errors?.[0]?.extensions?.code }).toEqual({
        query,
        data: null,
        code: 'NOT_FOUND',
      });
    }
    expect(gw.gateway.sessions.connections.changes.count(id)).toBe(1); // alice's watcher only
    expect(gw.gateway.sessions.events.count(id)).toBe(0);

    // Nothing happened to alice's session: still ACTIVE, open and DISCONNECTED, and the next
    // connection state change her watcher sees is her own client's.
    expect((await gw.http(STATE, { id }, alice)).data).toEqual({
      session: { id, state: 'ACTIVE', connectionState: 'DISCONNECTED' },
    });
    await connect(alice, [id]);
    expect(await nextChange(changes)).toMatchObject({
      previous: 'DISCONNECTED',
      current: 'CONNECTING',
    });
  });

  it('filters sessions by state and connection state, for the viewer only (all, for an admin)', async () => {
    gw = await startTestGateway();
    const alice = await gw.token('alice');
    const bob = await gw.token('bob');
    const root = await gw.token('root', ['admin']);
    const paused = await openSession(alice, 'paused');
    const connected = await openSession(alice, 'connected');
    const connecting = await openSession(alice, 'connecting');
    const idle = await openSession(alice, 'idle');
    const bobs = await openSession(bob, 'bobs');
    expect((await gw.http(PAUSE, { id: paused }, alice)).errors).toBeUndefined();
    expect((await gw.http(PAUSE, { id: bobs }, bob)).errors).toBeUndefined();

    const watchers = [await watch(alice, connected), await watch(bob, bobs)];
    subscribe(await connect(alice, [connected]), CHANGES, { id: connected });
    subscribe(await connect(bob, [bobs]), CHANGES, { id: bobs });
    await connect(alice, [connecting]);
    for (const w of watchers) {
      expect(await nextChange(w)).toMatchObject({ current: 'CONNECTING' });
      expect(await nextChange(w)).toMatchObject({ current: 'CONNECTED' });
    }

    const list = async (token: string, filter: Record<string, string>) => {
      const r = await gateway().http<{ sessions: { edges: { node: { id: string } }[] } }>(
        SESSIONS,
        filter,
        token,
      );
      expect(r.errors).toBeUndefined();
      return r.data!.sessions.edges.map((e) => e.node.id).sort();
    };
    const sorted = (...ids: string[]) => [...ids].sort();

    expect(await list(alice, {})).toEqual(sorted(paused, connected, connecting, idle));
    expect(await list(alice, { state: 'INACTIVE' })).toEqual([paused]);
    expect(await list(alice, { state: 'ACTIVE' })).toEqual(sorted(connected, connecting, idle));
    expect(await list(alice, { connectionState: 'CONNECTED' })).toEqual([connected]);
    expect(await list(alice, { connectionState: 'CONNECTING' })).toEqual([connecting]);
    expect(await list(alice, { connectionState: 'DISCONNECTED' })).toEqual(sorted(paused, idle));
    expect(await list(alice, { state: 'INACTIVE', connectionState: 'CONNECTED' })).toEqual([]);
    expect(await list(bob, { state: 'INACTIVE' })).toEqual([bobs]);
    expect(await list(bob, { connectionState: 'CONNECTED' })).toEqual([bobs]);
    expect(await list(bob, { state: 'INACTIVE', connectionState: 'CONNECTED' })).toEqual([bobs]);
    expect(await list(root, { state: 'INACTIVE' })).toEqual(sorted(paused, bobs));
    expect(await list(root, { connectionState: 'CONNECTED' })).toEqual(sorted(connected, bobs));
  });
});
