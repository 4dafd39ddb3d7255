/**
 * One socket of the fan-out and memory scenarios (lean-socket.ts): open a sync session on
 * the shared collection and follow its streams, or hold one trivial subscription. Operation
 * ids are 1, 2, 3... per socket, so a floor can send every socket the same bytes.
 */
import { numberAfter, scanDeliveries } from './delivery-scan.js';
import { LeanSocket, type Operation } from './lean-socket.js';
import { monoMs } from './mono-clock.js';
import { SHARED_COLLECTION } from './shared-rules.js';

const OPEN_SESSION = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
/** `since`, given after a reconnect: the newest toServerVersion the session received. */
const CHANGES = `subscription ($sessionId: ID!, $since: Int) {
  changes(sessionId: $sessionId, since: $since) {
  toServerVersion changes { serverVersion collection id op document } } }`;
/** `changes` as a session that acknowledges reads it (the SDK's selection adds queriesVersion). */
const CHANGES_ACKED = `subscription ($sessionId: ID!, $since: Int) {
  changes(sessionId: $sessionId, since: $since) {
  toServerVersion queriesVersion changes { serverVersion collection id op document } } }`;
/** The SDK's acknowledgement (client/src/downloader.ts, AcknowledgeDownloadDocument). */
const ACKNOWLEDGE = `mutation ($sessionId: ID!, $serverVersion: Int!, $queriesVersion: Int) {
  acknowledgeDownload(sessionId: $sessionId, serverVersion: $serverVersion,
    queriesVersion: $queriesVersion) { lastDownloadedServerVersion } }`;
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

const TO_SERVER_VERSION = Buffer.from('"toServerVersion":');
const QUERIES_VERSION = Buffer.from('"queriesVersion":');

/**
 * Acknowledges a session's batches as the SDK's Acknowledger does (client/src/downloader.ts):
 * `acknowledgeDownload` with the newest batch's toServerVersion and queriesVersion, one at a
 * time; a batch arriving while one is in flight only raises the target (coalesced). A
 * failure is reported and not retried.
 */
class Acknowledger {
  private target = { version: 0, queries: null as number | null };
  private sent = 0;
  private busy = false;

  constructor(
    private readonly ws: LeanSocket,
    private readonly sessionId: string,
    private readonly onAck: () => void,
    private readonly onError: (error: Error) => void,
  ) {}

  /** A batch arrived: its bytes, and its toServerVersion read from them. */
  want(data: Buffer, version: number | null): void {
    if (version === null || version <= this.target.version) return;
    this.target = { version, queries: numberAfter(data, QUERIES_VERSION) };
    void this.send();
  }

  private async send(): Promise<void> {
    if (this.busy || this.target.version === this.sent) return;
    this.busy = true;
    const { version, queries } = this.target;
    try {
      const variables = {
        sessionId: this.sessionId,
        serverVersion: version,
        queriesVersion: queries,
      };
      await this.ws.request(ACKNOWLEDGE, variables);
      this.onAck();
    } catch (error) {
      this.onError(new Error(`acknowledgeDownload: ${(error as Error).message}`));
    } finally {
      this.sent = version;
      this.busy = false;
    }
    void this.send(); // a newer batch may have come meanwhile
  }
}

/** Reads each `changes` event's documents and times them against their send. */
function deliveries(options: SyncSocketOptions, acks: Acknowledger | null) {
  const { onDelivery, onVersion } = options;
  return (data: Buffer) => {
    const now = monoMs();
    scanDeliveries(data, (n, sentAt) => onDelivery(n, now - sentAt));
    if (!acks && !onVersion) return;
    const version = numberAfter(data, TO_SERVER_VERSION);
    acks?.want(data, version);
    if (version !== null) onVersion?.(version);
  };
}

export interface SyncSocketOptions {
  /** Also follow progress and connection state (the memory scenario). */
  three?: boolean;
  /** Acknowledge each batch, as the SDK does (`acknowledgeDownload`, coalesced). */
  ack?: boolean;
  onDelivery: OnDelivery;
  /** Each batch's toServerVersion (what a reconnect passes as `since`). */
  onVersion?: (version: number) => void;
  /** Follow `changes` after this version (a reconnect), not after the acknowledged one. */
  since?: number;
  onError: (error: Error) => void;
  /** The session is open (its `changes` not yet acknowledged). */
  onSession?: () => void;
  /** An acknowledgement was answered. */
  onAck?: () => void;
}

/**
 * A session following `changes` (and, for `three`, progress and connection state); several
 * may share one socket.
 */
export async function syncSocket(
  ws: LeanSocket,
  clientId: string,
  options: SyncSocketOptions,
): Promise<void> {
  const { onError } = options;
  const sessionId = await openSession(ws, clientId);
  options.onSession?.();
  const vars = { sessionId };
  const changesVars = options.since === undefined ? vars : { ...vars, since: options.since };
  if (options.three) {
    await follow(ws, STATE, vars, { waitFirst: false }, onError);
    await follow(ws, PROGRESS, vars, { waitFirst: true }, onError);
  }
  const onAck = options.onAck ?? (() => undefined);
  const acks = options.ack ? new Acknowledger(ws, sessionId, onAck, onError) : null;
  const raw = deliveries(options, acks);
  const query = options.ack ? CHANGES_ACKED : CHANGES;
  await follow(ws, query, changesVars, { raw, waitFirst: true }, onError);
}

/** One trivial subscription, waited for until its first value. */
export function tickSocket(ws: LeanSocket, onError: (error: Error) => void): Promise<void> {
  return follow(ws, TICK, {}, { waitFirst: true }, onError);
}
