/**
 * Generated graphql-ws sessions over a real WebSocket (the `ws` package): an optional valid
 * `connection_init`, then random frames (random JSON, random text and bytes, init payloads
 * of the wrong shape, subscribe messages with generated documents and wrong types, huge and
 * duplicate ids, complete / ping / pong, unknown types), and a driver that sends them, waits
 * until the gateway has dealt with them, and reports what came back.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { documentCase, type Ids } from './fuzz-documents.js';
import { bounded, RawJson, serialize, show } from './fuzz-harness.js';
import { UPLOAD, uploadCase, uploadVariables } from './fuzz-uploads.js';

export type Frame =
  | { kind: 'json'; value: unknown }
  /** `count` subscribe messages at once (past the operations a socket may run). */
  | { kind: 'burst'; count: number; query: string }
  | { kind: 'text'; text: string | RawJson }
  | { kind: 'binary'; bytes: Uint8Array };

export interface FrameCase {
  protocol: string | null;
  /** A valid connection_init first (with the fuzzing user's token). */
  init: boolean;
  frames: Frame[];
}

export interface FrameContext extends Ids {
  token: string;
  forgedToken: string;
  otherToken: string;
}

const ID_POOL = ['1', '2', '3'];

export function frameCase(ctx: FrameContext): fc.Arbitrary<FrameCase> {
  const tokenValue = fc.constantFrom<unknown>(
    ctx.token,
    ctx.forgedToken,
    ctx.otherToken,
    '',
    5,
    null,
    'Bearer x',
    { token: ctx.token },
  );
  const initPayload = fc.oneof(
    fc.record({ authToken: tokenValue }),
    fc.record({
      authToken: fc.constant(ctx.token),
      sessionIds: fc.oneof(
        fc.array(
          fc.constantFrom<unknown>(
            ctx.session,
            ctx.otherSession,
            'ses_nope',
            5,
            null,
            {},
            '__proto__',
          ),
          { maxLength: 5 },
        ),
        fc.constantFrom<unknown>('x', 5, null, {}),
        fc.constant(
          new RawJson(
            JSON.stringify(Array.from({ length: 5000 }, (_, i) => `ses_${i}`)),
            '<5000 session ids>',
          ),
        ),
      ),
    }),
    fc.constantFrom<unknown>(null, [1], 'x', 5, {}),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const id = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<unknown>(...ID_POOL) },
    fc.string({ maxLength: 8 }),
    fc.constantFrom<unknown>('', 5, null, true, {}, ['1']),
    fc
      .constantFrom(10_000, 1_000_000)
      .map((n) => new RawJson(JSON.stringify('i'.repeat(n)), `<id of ${n}>`)),
  );
  const headers = fc.oneof(
    fc.record({
      Authorization: tokenValue.map((t) => (typeof t === 'string' ? `Bearer ${t}` : t)),
    }),
    fc.constantFrom<unknown>(null, 'x', [], { authorization: 5 }, { AUTHORIZATION: 'Bearer' }),
  );
  const payload = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(documentCase(ctx), fc.option(headers, { nil: undefined }))
        .map(([d, h]) => {
          const p: Record<string, unknown> = { query: d.query, variables: d.variables };
          if ('operationName' in d) p.operationName = d.operationName;
          if (h !== undefined) p.extensions = { headers: h };
          else if ('extensions' in d) p.extensions = d.extensions;
          return p;
        }),
    },
    fc.constantFrom<unknown>(
      null,
      'x',
      [],
      {},
      { query: 5 },
      { query: '{ __typename }', variables: 'x' },
    ),
    fc.record({ query: fc.string({ maxLength: 30 }) }),
    {
      // An upload (mutated as in fuzz-uploads.ts) on the fuzzing user's session, over the socket.
      weight: 3,
      arbitrary: uploadCase.map((u) => ({
        query: UPLOAD,
        variables: uploadVariables(u, {
          sessions: { own: ctx.session, other: ctx.otherSession, closed: ctx.otherSession },
          next: 1,
          now: Date.now(),
        }),
      })),
    },
  );
  const message = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ type: fc.constant('connection_init'), payload: initPayload }),
    },
    { weight: 10, arbitrary: fc.record({ id, type: fc.constant('subscribe'), payload }) },
    { weight: 3, arbitrary: fc.record({ id, type: fc.constant('complete') }) },
    fc.record(
      { type: fc.constantFrom('ping', 'pong'), payload: fc.jsonValue({ maxDepth: 2 }) },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      {
        type: fc.constantFrom<unknown>(
          'connection_ack',
          'next',
          'error',
          'CONNECTION_INIT',
          'start',
          'stop',
          'connection_terminate',
          '',
          5,
          null,
        ),
        id,
        payload: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['type'] },
    ),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const frame: fc.Arbitrary<Frame> = fc.oneof(
    { weight: 12, arbitrary: message.map((value) => ({ kind: 'json' as const, value })) },
    fc
      .oneof(
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 20, unit: 'binary' }),
        fc.constantFrom(
          '',
          'null',
          '[]',
          '{',
          '{"type":"connection_init"}garbage',
          '{"type":"subscribe","id":"1","__proto__":{"payload":{"query":"{ __typename }"}}}',
          '{"type":"subscribe","id":"1","id":"2","payload":{"query":"{ __typename }"}}',
          '{"type":"ping","type":"connection_init"}',
        ),
      )
      .map((text) => ({ kind: 'text' as const, text })),
    fc
      .oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.constant(new TextEncoder().encode('{"type":"connection_init","payload":{}}')),
      )
      .map((bytes) => ({ kind: 'binary' as const, bytes })),
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('burst' as const),
        count: fc.constantFrom(20, 201, 300),
        query: fc.constantFrom(
          '{ __typename }',
          `subscription { sessionEvents(sessionId: "${ctx.session}") { type } }`,
          `subscription { changes(sessionId: "${ctx.session}") { toServerVersion } }`,
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(100_000, 9 * 1024 * 1024).map((n) => ({
        kind: 'text' as const,
        text: new RawJson(
          JSON.stringify({ type: 'ping', payload: 'p'.repeat(n) }),
          `<ping of ${n}>`,
        ),
      })),
    },
  );
  return fc.record({
    protocol: fc.oneof(
      { weight: 12, arbitrary: fc.constant<string | null>('graphql-transport-ws') },
      fc.constantFrom<string | null>(null, 'graphql-ws', 'nope'),
    ),
    init: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
    frames: fc.array(frame, { minLength: 1, maxLength: 8 }),
  });
}

// ---------------------------------------------------------------------------------------------

export interface FrameOutcome {
  /** The messages the gateway sent, parsed (or their text when not JSON). */
  messages: unknown[];
  /** How the gateway closed the socket, if it did before we closed it. */
  serverClose: { code: number; reason: string } | null;
  /** The handshake was refused (an HTTP answer instead of a WebSocket). */
  refused: string | null;
  /** Whether the last probe (a `{ __typename }` subscribe) was answered. */
  probed: boolean;
}

/** The text a frame is sent as. */
const frameData = (f: Frame): string | Uint8Array | (string | Uint8Array)[] =>
  f.kind === 'burst'
    ? Array.from({ length: f.count }, (_, i) =>
        JSON.stringify({ id: `burst-${i}`, type: 'subscribe', payload: { query: f.query } }),
      )
    : f.kind === 'binary'
      ? f.bytes
      : f.kind === 'text'
        ? f.text instanceof RawJson
          ? f.text.json
          : f.text
        : serialize(f.value);

/**
 * Opens a socket, sends the frames, then checks the gateway still answers on it: when it
 * acknowledged the connection and the socket is open, a last subscribe of `{ __typename }`
 * must complete within the hang bound.
 */
export async function runFrames(
  wsUrl: string,
  c: FrameCase,
  initToken: string,
): Promise<FrameOutcome> {
  const ws = c.protocol === null ? new WebSocket(wsUrl) : new WebSocket(wsUrl, c.protocol);
  const messages: unknown[] = [];
  let acked = false;
  let serverClose: FrameOutcome['serverClose'] = null;
  let clientClosing = false;
  let refused: string | null = null;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  const until = (what: string, ready: () => boolean) =>
    bounded(
      what,
      new Promise<void>((resolve) => {
        const check = () => {
          if (ready()) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
      }),
    );
  let closed = false;
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // kept as text
    }
    messages.push(value);
    if ((value as { type?: unknown })?.type === 'connection_ack') acked = true;
    notify();
  });
  ws.on('open', notify);
  ws.on('unexpected-response', (_req, res) => {
    refused = `HTTP ${res.statusCode}`;
    res.resume();
    closed = true;
    notify();
  });
  ws.on('error', (error) => {
    refused ??= `error ${error.message}`;
    notify();
  });
  ws.on('close', (code, reason) => {
    if (!clientClosing) serverClose = { code, reason: reason.toString() };
    closed = true;
    notify();
  });
  await until('the WebSocket handshake', () => ws.readyState !== WebSocket.CONNECTING || closed);
  if (ws.readyState !== WebSocket.OPEN) {
    return { messages, serverClose, refused: refused ?? 'not opened', probed: false };
  }
  const send = (data: string | Uint8Array) =>
    new Promise<void>((resolve) => {
      if (ws.readyState !== WebSocket.OPEN) return resolve();
      ws.send(data, { binary: typeof data !== 'string' }, () => resolve());
    });
  if (c.init) {
    await send(JSON.stringify({ type: 'connection_init', payload: { authToken: initToken } }));
  }
  for (const f of c.frames) {
    const data = frameData(f);
    for (const one of Array.isArray(data) ? data : [data]) await send(one);
  }
  const sentInit =
    c.init ||
    c.frames.some(
      (f) => f.kind === 'json' && (f.value as { type?: unknown })?.type === 'connection_init',
    );
  let probed = false;
  if (sentInit && ws.readyState === WebSocket.OPEN) {
    // An init may still be being authenticated: wait for its answer or the close.
    await until('the connection_ack or a close', () => acked || closed).catch((error) => {
      // No answer to an init within the bound is a hang only when the init was ours.
      if (c.init) throw error;
    });
  }
  if (acked && ws.readyState === WebSocket.OPEN) {
    const probeId = `probe-${Math.random().toString(36).slice(2)}`;
    await send(
      JSON.stringify({ id: probeId, type: 'subscribe', payload: { query: '{ __typename }' } }),
    );
    await until(`the probe subscribe after ${show(c.frames.map((f) => f.kind))}`, () => {
      if (closed) return true;
      return messages.some((m) => {
        const msg = m as { id?: unknown; type?: unknown };
        return msg.id === probeId && (msg.type === 'complete' || msg.type === 'error');
      });
    });
    probed = !closed;
  } else if (ws.readyState === WebSocket.OPEN) {
    // Nothing to probe: give the gateway a moment to answer what it was sent.
    await new Promise((r) => setTimeout(r, 20));
  }
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
    clientClosing = true;
    ws.close(1000);
    await until('the close', () => closed).catch(() => ws.terminate());
  }
  return { messages, serverClose, refused, probed };
}
