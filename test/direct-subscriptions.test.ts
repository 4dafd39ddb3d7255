/**
 * The sockets' direct execution of the gateway's own subscriptions (progress, sessionEvents,
 * connectionStateChanges; direct-subscriptions.ts) against Yoga's ordinary execution of the
 * same operations over HTTP (server-sent events): the same payloads, event for event, and
 * the same refusal for a session the viewer may not see. The session the events describe is
 * the server's session at the end. Then the masking and refusals Yoga's plugins would add.
 */
import {
  getOperationAST,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  parse,
  type GraphQLError,
} from 'graphql';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.js';
import { DirectSubscriptions } from '../src/server/direct-subscriptions.js';
import { syncErrorMasker } from '../src/server/mask-errors.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { RawGraphqlWs } from './helpers/raw-graphql-ws.js';
import { sseSubscriber } from './helpers/sse.js';

const OPEN = `mutation ($clientId: ID!) {
  openSession(input: { clientId: $clientId, queries: [{ collection: "cars" }] }) { id } }`;
const PAUSE = `mutation ($id: ID!) { pauseSession(id: $id) { state } }`;
const RESUME = `mutation ($id: ID!) { resumeSession(id: $id) { state } }`;
const SESSION = `query ($id: ID!) { session(id: $id) { id state pausedDirections } }`;
const STATE = `subscription ($id: ID!) { connectionStateChanges(sessionId: $id) {
  previous current at session { id } } }`;
const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) {
  type at session { id } } }`;
const PROGRESS = `subscription ($id: ID!) {
  progress(sessionId: $id, direction: UPLOAD, mode: REPORT_INDEFINITELY) {
    direction progressEstimate transferredBytes transferableBytes } }`;

let gw: TestGateway;
beforeEach(async () => {
  gw = await startTestGateway();
});
afterEach(async () => {
  await gw.close();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

async function openSession(token: string, clientId: string): Promise<string> {
  const r = await gw.http<{ openSession: { id: string } }>(OPEN, { clientId }, token);
  expect(r.errors).toBeUndefined();
  return r.data!.openSession.id;
}

describe('direct execution of the sessions subscriptions', () => {
  it('sends what the ordinary execution sends, event for event', async () => {
    const alice = await gw.token('alice');
    const id = await openSession(alice, 'c1');
    const stop = new AbortController();
    const sse = (query: string) => sseSubscriber(gw.gateway.url, alice, query, { id }, stop.signal);
    const stateSse = await sse(STATE);
    const eventsSse = await sse(EVENTS);
    const progressSse = await sse(PROGRESS);
    const ws = await RawGraphqlWs.open(gw.gateway.wsUrl, alice);
    ws.subscribe('state', STATE, { id });
    ws.subscribe('progress', PROGRESS, { id });
    const { sessions } = gw.gateway;
    await until(() => sessions.connections.changes.count(id) === 2);
    await until(() => progressSse.length === 1 && ws.outcome('progress').next.length === 1);

    // Binding the socket (sessionEvents over it) connects the session: one state change.
    ws.subscribe('events', EVENTS, { id });
    await until(() => sessions.events.count(id) === 2);
    await until(() => stateSse.length === 1 && ws.outcome('state').next.length === 1);
    for (const [i, mutation] of [PAUSE, RESUME].entries()) {
      expect((await gw.http(mutation, { id }, alice)).errors).toBeUndefined();
      await until(() => eventsSse.length === i + 1 && ws.outcome('events').next.length === i + 1);
    }
    stop.abort();

    expect(ws.outcome('state').next).toEqual(stateSse);
    expect(ws.outcome('events').next).toEqual(eventsSse);
    expect(ws.outcome('progress').next).toEqual(progressSse);
    const types = eventsSse.map((e) => (e as { data: { sessionEvents: { type: string } } }).data);
    expect(types.map((d) => d.sessionEvents.type)).toEqual(['PAUSED', 'RESUMED']);
    const state = (stateSse[0] as { data: { connectionStateChanges: { current: string } } }).data;
    expect(state.connectionStateChanges.current).toBe('CONNECTED');
    // What the events said is the server's session: connected, active, nothing paused.
    const server = await gw.http<{ session: { state: string; pausedDirections: string[] } }>(
      SESSION,
      { id },
      alice,
    );
    expect(server.data!.session).toEqual({ id, state: 'ACTIVE', pausedDirections: [] });
    ws.close();
  });

  it('codes a refused variable as every refusal on a socket: BAD_USER_INPUT, no HTTP status', async () => {
    const alice = await gw.token('alice');
    const id = await openSession(alice, 'c1');
    const ws = await RawGraphqlWs.open(gw.gateway.wsUrl, alice);
    const query = `subscription ($id: ID!, $d: ProgressDirection!) {
      progress(sessionId: $id, direction: $d, mode: REPORT_INDEFINITELY) { direction } }`;
    ws.subscribe('p', query, { id, d: 'SIDEWAYS' });
    const outcome = await ws.ended('p');
    const [refusal] = outcome.next[0]!.errors!;
    expect(refusal!.message).toMatch(/\$d.*SIDEWAYS/);
    expect(refusal!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    ws.close();
  });

  it("refuses another user's session as the ordinary execution does", async () => {
    const alice = await gw.token('alice');
    const bob = await gw.token('bob');
    const id = await openSession(alice, 'c1');
    const ws = await RawGraphqlWs.open(gw.gateway.wsUrl, bob);
    for (const query of [STATE, EVENTS, PROGRESS]) {
      const stop = new AbortController();
      const sse = await sseSubscriber(gw.gateway.url, bob, query, { id }, stop.signal);
      ws.subscribe(query, query, { id });
      const outcome = await ws.ended(query);
      await until(() => sse.length === 1);
      stop.abort();
      expect(outcome.errors).toBeNull();
      expect(outcome.next).toEqual(sse);
      const [refusal] = (sse[0] as { errors: { extensions: { code: string } }[] }).errors;
      expect(refusal!.extensions.code).toBe('NOT_FOUND');
    }
    ws.close();
  });
});

/**
 * The refusals and failures a session's streams seldom meet, through the direct path's own
 * class on a small schema of its own (the same graphql-js subscribe and execute).
 */
describe('DirectSubscriptions', () => {
  const events = (...steps: (number | Error)[]) =>
    async function* () {
      for (const step of steps) {
        if (step instanceof Error) throw step;
        yield step;
      }
    };
  const field = (subscribe: () => AsyncGenerator<number>, resolve = (n: number) => n) => ({
    type: new GraphQLNonNull(GraphQLInt),
    args: { n: { type: GraphQLInt } },
    subscribe,
    resolve,
  });
  let source = events();
  const event = { shared: true };
  const sharedEvents = async function* () {
    yield event;
  };
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { x: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        ticks: field(() => source()),
        // Shared by its subscribers (shared-execution.ts): an event object, a value Int refuses.
        changes: {
          type: GraphQLInt,
          subscribe: () => sharedEvents(),
          resolve: () => 'not a number',
        },
        broken: field(
          () => source(),
          (n) => {
            if (n === 2) throw new Error('a secret detail');
            if (n === 3) throw new SyncError('NOT_FOUND', 'no such thing');
            return n;
          },
        ),
      },
    }),
  });

  function subscribe(query: string, variables: Record<string, unknown> = {}, closing = false) {
    const answered: unknown[] = [];
    const sink = { errorAnswered: (code: unknown) => answered.push(code) };
    const direct = new DirectSubscriptions(
      () => closing,
      syncErrorMasker(pino({ level: 'silent' }), sink),
    );
    const document = parse(query);
    const operation = getOperationAST(document)!;
    const args = { schema, document, variableValues: variables };
    return { answered, result: direct.subscribe(args, operation) };
  }

  it('masks and counts an error its subscribers share once, as Yoga does', async () => {
    const answered: unknown[] = [];
    const sink = { errorAnswered: (code: unknown) => answered.push(code) };
    const direct = new DirectSubscriptions(
      () => false,
      syncErrorMasker(pino({ level: 'silent' }), sink),
    );
    const document = parse('subscription { changes }');
    const args = { schema, document, variableValues: {} };
    const results = [];
    for (let i = 0; i < 3; i++) {
      const subscribed = await direct.subscribe(args, getOperationAST(document)!);
      const step = await (subscribed as AsyncGenerator<{ errors?: unknown[] }>).next();
      results.push(step.value!);
    }
    expect(results[1]!.errors![0]).toBe(results[0]!.errors![0]);
    expect(plain(results[2]!.errors![0])).toMatchObject({ message: /Int cannot represent/ });
    expect(answered).toEqual([undefined]);
  });

  const stream = async (query: string) =>
    (await subscribe(query).result) as AsyncGenerator<{ data?: unknown; errors?: unknown[] }>;
  const plain = (error: unknown) => JSON.parse(JSON.stringify(error)) as Record<string, unknown>;

  it('masks an event whose execution failed, but not a refusal of ours', async () => {
    source = events(1, 2, 3);
    const results = await stream('subscription { broken }');
    expect((await results.next()).value).toEqual({ data: { broken: 1 } });
    const secret = (await results.next()).value!;
    expect(secret.errors!.map(plain)).toEqual([
      {
        message: 'Unexpected error.',
        path: ['broken'],
        locations: [{ line: 1, column: 16 }],
        extensions: { code: 'INTERNAL_SERVER_ERROR', unexpected: true },
      },
    ]);
    const refused = (await results.next()).value!;
    expect(refused.errors!.map(plain)).toEqual([
      {
        message: 'no such thing',
        path: ['broken'],
        locations: [{ line: 1, column: 16 }],
        extensions: { code: 'NOT_FOUND' },
      },
    ]);
    expect((await results.next()).done).toBe(true);
  });

  it('masks a stream that fails, and passes an abort on as it is', async () => {
    source = events(1, new Error('a secret detail'));
    const failing = await stream('subscription { ticks }');
    await failing.next();
    await expect(failing.next()).rejects.toThrow(/^Unexpected error\.$/);
    const abort = new DOMException('stopped', 'AbortError');
    source = events(abort);
    await expect((await stream('subscription { ticks }')).next()).rejects.toBe(abort);
  });

  it('codes a refused variable, and refuses everything while the gateway shuts down', async () => {
    const { result, answered } = subscribe('subscription ($n: Int) { ticks(n: $n) }', { n: 'x' });
    const refused = (await result) as unknown as { errors: { extensions: { code: string } }[] };
    expect(refused.errors.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(answered).toEqual(['BAD_USER_INPUT']);
    source = () => {
      throw new Error('subscribed while closing');
    };
    const closing = await subscribe('subscription { ticks }', {}, true).result;
    expect((closing as { errors: GraphQLError[] }).errors.map((e) => e.extensions.code)).toEqual([
      'SHUTTING_DOWN',
    ]);
  });
});
