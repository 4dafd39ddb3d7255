/**
 * Every refusal carries `extensions.code`, over HTTP and graphql-ws alike, and a coded
 * refusal is never a 500 or a 4500 (regressions found by the fuzzing suite).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeReason } from '../src/server/ws.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

interface Refusal {
  message: string;
  extensions?: Record<string, unknown> & { code?: string };
}
interface Answer {
  data?: unknown;
  errors?: Refusal[];
}

const OPEN = `mutation ($c: ID!) {
  openSession(input: { clientId: $c, queries: [{ collection: "cars" }] }) { id } }`;
const REFUSED_SUBSCRIPTION = 'subscription { changes(sessionId: "ses_nope") { toServerVersion } }';
const SESSIONS_FIRST = 'query ($f: Int) { sessions(first: $f) { edges { cursor } } }';

let gw: TestGateway | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await gw?.close();
  gw = undefined;
});

/** A gateway whose error lines (level >= 50) are kept. */
async function gatewayWithErrors(): Promise<{ gw: TestGateway; errors: string[] }> {
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(String(chunk)) as { level: number; msg: string; err?: unknown };
      if (line.level >= 50) errors.push(`${line.msg} ${JSON.stringify(line.err ?? '')}`);
      done();
    },
  });
  gw = await startTestGateway({ logger: pino({ level: 'info' }, sink) });
  return { gw, errors };
}

async function post(
  body: unknown,
  options: { accept?: string; token?: string } = {},
): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(gw!.gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.accept ? { accept: options.accept } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

async function postJson(body: unknown, token?: string) {
  const r = await post(body, { token });
  return { status: r.status, body: JSON.parse(r.text) as Answer };
}

interface Socket {
  socket: WebSocket;
  /** The next message for an operation id: its `next` payload or its `error` payload. */
  answer(id: string): Promise<{ type: string; payload: unknown }>;
  send(message: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

/** A bare graphql-ws socket, acknowledged after a connection_init with `token`. */
async function openSocket(token: string | null): Promise<Socket> {
  const socket = new WebSocket(gw!.gateway.wsUrl, 'graphql-transport-ws');
  socket.on('error', () => undefined);
  sockets.push(socket);
  const messages: { id?: string; type: string; payload: unknown }[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as (typeof messages)[number]);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const until = async <T>(find: () => T | undefined): Promise<T> => {
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(
    JSON.stringify({ type: 'connection_init', payload: token ? { authToken: token } : {} }),
  );
  await until(() => messages.find((m) => m.type === 'connection_ack'));
  return {
    socket,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    answer: (id) =>
      until(() => messages.find((m) => m.id === id && (m.type === 'next' || m.type === 'error'))),
  };
}

/** The errors of an operation sent on a fresh socket (from `error` or from `next`). */
async function wsErrors(payload: Record<string, unknown>, token: string | null = null) {
  const s = await openSocket(token);
  s.send({ id: '1', type: 'subscribe', payload });
  const answer = await s.answer('1');
  return answer.type === 'error'
    ? (answer.payload as Refusal[])
    : (answer.payload as Answer).errors;
}

const codes = (errors: Refusal[] | undefined) => (errors ?? []).map((e) => e.extensions?.code);

describe('a subscription refused over HTTP', () => {
  it('answers as a refused query does (200, coded), not 500', async () => {
    gw = await startTestGateway();
    const token = await gw.token('alice');
    // A refused query or mutation: 200 with the coded error.
    const query = await postJson({ query: '{ __typename nope }' }, token);
    expect(query.status).toBe(200);
    const json = await post({ query: REFUSED_SUBSCRIPTION }, { token });
    expect(json.status).toBe(query.status);
    const body = JSON.parse(json.text) as Answer;
    expect(body.data).toBeUndefined();
    expect(codes(body.errors)).toEqual(['NOT_FOUND']);
    const sse = await post({ query: REFUSED_SUBSCRIPTION }, { token, accept: 'text/event-stream' });
    expect(sse.status).toBe(200);
    expect(sse.type).toMatch(/^text\/event-stream/);
    expect(sse.text).toContain('"code":"NOT_FOUND"');
    // Anonymous: UNAUTHENTICATED, 200 too.
    const anonymous = await postJson({ query: REFUSED_SUBSCRIPTION });
    expect(anonymous.status).toBe(200);
    expect(codes(anonymous.body.errors)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('a duplicate operation id too long for a close reason', () => {
  it('closes the socket with 4409, its reason cut to 123 bytes, and logs no error', async () => {
    const started = await gatewayWithErrors();
    const token = await started.gw.token('alice');
    const opened = await started.gw.http<{ openSession: { id: string } }>(
      OPEN,
      { c: 'phone' },
      token,
    );
    const sessionId = opened.data!.openSession.id;
    const s = await openSocket(token);
    const id = 'x'.repeat(110);
    const query = `subscription { sessionEvents(sessionId: "${sessionId}") { type } }`;
    s.send({ id, type: 'subscribe', payload: { query } });
    s.send({ id, type: 'subscribe', payload: { query } });
    const closed = await s.closed;
    expect(closed.code).toBe(4409);
    expect(Buffer.byteLength(closed.reason)).toBe(123);
    expect(`Subscriber for ${id} already exists`.startsWith(closed.reason)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started.errors).toEqual([]);
  });

  it('cuts a reason in UTF-8 without splitting a character', () => {
    expect(closeReason('short')).toBe('short');
    expect(closeReason(undefined)).toBeUndefined();
    const cut = closeReason('é'.repeat(100)) ?? '';
    expect(cut).toBe('é'.repeat(61));
    expect(Buffer.byteLength(cut)).toBe(122);
    expect(closeReason(`a${'😀'.repeat(40)}`)).toBe(`a${'😀'.repeat(30)}`);
    expect(closeReason('x'.repeat(123))).toBe('x'.repeat(123));
    expect(closeReason('x'.repeat(124))).toBe('x'.repeat(123));
  });
});

describe('refusals over graphql-ws are coded as over HTTP', () => {
  it('a syntax error: GRAPHQL_PARSE_FAILED (without the HTTP extension)', async () => {
    gw = await startTestGateway();
    // On a fresh gateway: nothing cached by an HTTP request.
    const errors = await wsErrors({ query: '{ x' });
    expect(errors?.[0]?.message).toMatch(/^Syntax Error: /);
    expect(codes(errors)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(errors?.[0]?.extensions).not.toHaveProperty('http');
    const http = await postJson({ query: '{ x' });
    expect(codes(http.body.errors)).toEqual(['GRAPHQL_PARSE_FAILED']);
    // Once HTTP has parsed (and cached) it, the socket's answer is the same.
    expect(codes(await wsErrors({ query: '{ x' }))).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('an operationName that names no operation: OPERATION_RESOLUTION_FAILURE', async () => {
    gw = await startTestGateway();
    const payload = { query: '{ __typename }', operationName: 'Other' };
    const errors = await wsErrors(payload);
    expect(codes(errors)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    const http = await postJson(payload);
    expect(codes(http.body.errors)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    // Two operations and no name.
    const two = { query: 'query A { __typename } query B { __typename }' };
    expect(codes(await wsErrors(two))).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    // A socket still answers the operation it names.
    const s = await openSocket(null);
    s.send({ id: 'b', type: 'subscribe', payload: { ...two, operationName: 'B' } });
    expect((await s.answer('b')).payload).toEqual({ data: { __typename: 'Query' } });
  });

  it('a validation error: GRAPHQL_VALIDATION_FAILED; a guard keeps its own code', async () => {
    gw = await startTestGateway();
    for (const query of [
      '{ nope }',
      'subscription ($s: Int) { changes(sessionId: $s) { toServerVersion } }',
      'query ($v: Int) { __typename }',
      '{ __typename(x: 1) }',
      // graphql-js's validation throws on this one (a subscription's @skip without `if`).
      'subscription { changes @skip(sessionId: "x") { toServerVersion } }',
    ]) {
      const errors = await wsErrors({ query });
      expect(errors?.length).toBeGreaterThan(0);
      expect(new Set(codes(errors))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect(errors?.[0]?.extensions).not.toHaveProperty('http');
      const http = await postJson({ query });
      expect(new Set(codes(http.body.errors))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    }
    const repeated = `{ ${'__typename '.repeat(11)}}`;
    expect(codes(await wsErrors({ query: repeated }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('variables that do not coerce', () => {
  /** `n` changesets, each a variable given "x": every one refused in coercion. */
  const manyBad = (n: number) => {
    const names = Array.from({ length: n }, (_, i) => `v${i}`);
    const defs = names.map((v) => `$${v}: ChangesetInput!`).join(', ');
    const list = names.map((v) => `$${v}`).join(', ');
    return {
      query: `mutation (${defs}) {
        uploadChanges(sessionId: "ses_x", changesets: [${list}]) { lastIntegratedClientVersion } }`,
      variables: Object.fromEntries(names.map((v) => [v, 'x'])),
    };
  };
  const cases = [
    ['an invalid value', { query: SESSIONS_FIRST, variables: { f: 'x' } }, /got invalid value/],
    [
      'a missing required one',
      { query: 'query ($s: ID!) { session(id: $s) { id } }', variables: {} },
      /of required type "ID!" was not provided/,
    ],
    [
      'a null for a non-null one',
      { query: 'query ($s: ID!) { session(id: $s) { id } }', variables: { s: null } },
      /must not be null/,
    ],
    ['too many invalid ones', manyBad(60), /^Too many errors processing variables/],
    [
      'an invalid one in a subscription',
      {
        query: 'subscription ($s: ID!) { changes(sessionId: $s) { toServerVersion } }',
        variables: { s: { a: 1 } },
      },
      /got invalid value/,
    ],
  ] as const;

  it.each(cases)('%s: BAD_USER_INPUT over HTTP', async (_name, payload, message) => {
    gw = await startTestGateway();
    const token = await gw.token('alice');
    const { status, body } = await postJson(payload, token);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.some((e) => message.test(e.message))).toBe(true);
    expect(new Set(codes(body.errors))).toEqual(new Set(['BAD_USER_INPUT']));
  });

  it.each(cases)('%s: BAD_USER_INPUT over graphql-ws', async (_name, payload, message) => {
    gw = await startTestGateway();
    const errors = await wsErrors(payload, await gw.token('alice'));
    expect(errors?.some((e) => message.test(e.message))).toBe(true);
    expect(new Set(codes(errors))).toEqual(new Set(['BAD_USER_INPUT']));
  });
});
