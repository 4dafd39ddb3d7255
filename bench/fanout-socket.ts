/**
 * One socket of the fan-out and memory scenarios, over graphql-ws: open a sync session on
 * the shared collection and follow its streams, or hold one trivial subscription. Operation
 * ids are 1, 2, 3... per socket, so a floor can send every socket the same bytes.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { monoMs } from './mono-clock.js';
import { SHARED_COLLECTION } from './shared-rules.js';
import { request } from './ws-client.js';

const OPEN_SESSION = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
export const CHANGES = `subscription ($sessionId: ID!) { changes(sessionId: $sessionId) {
  toServerVersion changes { serverVersion collection id op document } } }`;
const PROGRESS = `subscription ($sessionId: ID!) {
  progress(sessionId: $sessionId, direction: DOWNLOAD, mode: REPORT_INDEFINITELY) {
    direction progressEstimate transferredBytes transferableBytes } }`;
const STATE = `subscription ($sessionId: ID!) {
  connectionStateChanges(sessionId: $sessionId) { previous current at } }`;
const TICK = `subscription { tick }`;

/** A delivered change's upload number and its latency from the writer's send, in ms. */
export type OnDelivery = (n: number, latencyMs: number) => void;

interface Change {
  document?: { n?: number; sentAt?: number } | null;
}

export function openSocket(wsUrl: string, token: string): Client {
  let nextId = 0;
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined, // failures surface through the operations
    connectionParams: { authToken: token },
    generateID: () => String(++nextId),
  });
}

export async function openSession(ws: Client, clientId: string): Promise<string> {
  const input = { clientId, queries: [{ collection: SHARED_COLLECTION }] };
  const r = await request(ws, OPEN_SESSION, { input });
  return (r.data!.openSession as { id: string }).id;
}

/**
 * Subscribes; resolves at the first value (a stream with none resolves at once). Errors
 * after that go to `onError`.
 */
function follow(
  ws: Client,
  query: string,
  variables: Record<string, unknown>,
  options: { onData?: (data: Record<string, unknown>) => void; waitFirst: boolean },
  onError: (error: Error) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let first = true;
    const fail = (error: Error) => (first ? reject(error) : onError(error));
    ws.subscribe(
      { query, variables },
      {
        next: (value) => {
          if (value.errors?.length) return fail(new Error(value.errors[0]!.message));
          options.onData?.(value.data as Record<string, unknown>);
          first = false;
          resolve();
        },
        error: (error) => fail(error instanceof Error ? error : new Error(String(error))),
        complete: () => fail(new Error(`${query.slice(0, 40)}… completed`)),
      },
    );
    if (!options.waitFirst) resolve();
  });
}

/** Calls `onDelivery` for every change of every `changes` batch. */
function deliveries(onDelivery: OnDelivery) {
  return (data: Record<string, unknown>) => {
    const now = monoMs();
    const batch = data.changes as { changes: Change[] };
    for (const change of batch.changes) {
      const doc = change.document;
      if (typeof doc?.n === 'number' && typeof doc.sentAt === 'number') {
        onDelivery(doc.n, now - doc.sentAt);
      }
    }
  };
}

/** A session following `changes` (and, for `three`, progress and connection state). */
export async function syncSocket(
  ws: Client,
  clientId: string,
  three: boolean,
  onDelivery: OnDelivery,
  onError: (error: Error) => void,
): Promise<void> {
  const sessionId = await openSession(ws, clientId);
  const vars = { sessionId };
  if (three) {
    await follow(ws, STATE, vars, { waitFirst: false }, onError);
    await follow(ws, PROGRESS, vars, { waitFirst: true }, onError);
  }
  const onData = deliveries(onDelivery);
  await follow(ws, CHANGES, vars, { onData, waitFirst: true }, onError);
}

/** One trivial subscription, waited for until its first value. */
export function tickSocket(ws: Client, onError: (error: Error) => void): Promise<void> {
  return follow(ws, TICK, {}, { waitFirst: true }, onError);
}
