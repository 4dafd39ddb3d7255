/**
 * One socket of the fan-out and memory scenarios (lean-socket.ts): open a sync session on
 * the shared collection and follow its streams, or hold one trivial subscription. Operation
 * ids are 1, 2, 3... per socket, so a floor can send every socket the same bytes.
 */
import { scanDeliveries } from './delivery-scan.js';
import { LeanSocket, type Operation } from './lean-socket.js';
import { monoMs } from './mono-clock.js';
import { SHARED_COLLECTION } from './shared-rules.js';

const OPEN_SESSION = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const CHANGES = `subscription ($sessionId: ID!) { changes(sessionId: $sessionId) {
  toServerVersion changes { serverVersion collection id op document } } }`;
const PROGRESS = `subscription ($sessionId: ID!) {
  progress(sessionId: $sessionId, direction: DOWNLOAD, mode: REPORT_INDEFINITELY) {
    direction progressEstimate transferredBytes transferableBytes } }`;
const STATE = `subscription ($sessionId: ID!) {
  connectionStateChanges(sessionId: $sessionId) { previous current at } }`;
const TICK = `subscription { tick }`;

/** A delivered change's upload number and its latency from the writer's send, in ms. */
export type OnDelivery = (n: number, latencyMs: number) => void;

export async function openSession(ws: LeanSocket, clientId: string): Promise<string> {
  const input = { clientId, queries: [{ collection: SHARED_COLLECTION }] };
  const data = await ws.request(OPEN_SESSION, { input });
  return (data.openSession as { id: string }).id;
}

/**
 * Subscribes; resolves at the first event (`waitFirst`) or at once. Errors and a
 * completion after that go to `onError`.
 */
function follow(
  ws: LeanSocket,
  query: string,
  variables: Record<string, unknown>,
  options: { raw?: (data: Buffer) => void; waitFirst: boolean },
  onError: (error: Error) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = !options.waitFirst;
    const fail = (error: Error) => (started ? onError(error) : reject(error));
    const first = () => ((started = true), resolve());
    const operation: Operation = {
      next: (result) =>
        result.errors?.length ? fail(new Error(result.errors[0]!.message)) : first(),
      error: fail,
      complete: () => fail(new Error(`${query.slice(0, 40)}… completed`)),
    };
    const raw = options.raw;
    if (raw) operation.raw = (data) => (raw(data), first());
    ws.subscribe(query, variables, operation);
    if (started) resolve();
  });
}

/** Reads each `changes` event's documents and times them against their send. */
function deliveries(onDelivery: OnDelivery) {
  return (data: Buffer) => {
    const now = monoMs();
    scanDeliveries(data, (n, sentAt) => onDelivery(n, now - sentAt));
  };
}

/** A session following `changes` (and, for `three`, progress and connection state). */
export async function syncSocket(
  ws: LeanSocket,
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
  const raw = deliveries(onDelivery);
  await follow(ws, CHANGES, vars, { raw, waitFirst: true }, onError);
}

/** One trivial subscription, waited for until its first value. */
export function tickSocket(ws: LeanSocket, onError: (error: Error) => void): Promise<void> {
  return follow(ws, TICK, {}, { waitFirst: true }, onError);
}
