/**
 * A small test driver of the sync protocol over real graphql-ws sockets: a local copy of
 * the documents, changesets numbered by client version, a `changes` subscription that
 * applies batches and acknowledges them. (The app-facing SDK lives in client/.)
 */
import type { Client } from 'graphql-ws';
import { wsRequest, type GqlResult } from './gateway.js';

export interface ChangeInput {
  collection: string;
  id: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  document?: Record<string, unknown>;
  set?: Record<string, unknown>;
  unset?: string[];
}

const CHANGES = `subscription ($sessionId: ID!, $since: Int, $until: Int) {
  changes(sessionId: $sessionId, since: $since, bootstrapUntil: $until) {
  fromServerVersion toServerVersion latestServerVersion remainingChanges bootstrapUntil queriesVersion
  changes { serverVersion collection id op document } } }`;

const ACK = `mutation ($s: ID!, $v: Int!, $q: Int) {
  acknowledgeDownload(sessionId: $s, serverVersion: $v, queriesVersion: $q) { id } }`;

let hlcCounter = 0;
export function hlc(ms = Date.now()): string {
  hlcCounter = (hlcCounter + 1) % 10000;
  return `${new Date(ms).toISOString()}-${String(hlcCounter).padStart(4, '0')}`;
}

export class SyncTestClient {
  readonly docs = new Map<string, Record<string, unknown>>();
  /** How many times each `collection/id` arrived (UPSERT or REMOVE), to prove exactly-once. */
  readonly deliveries = new Map<string, number>();
  sessionId = '';
  clientVersion = 0;
  downloadedVersion = 0;
  /** The newest toServerVersion whose acknowledgement the gateway answered. */
  acknowledgedVersion = 0;
  /** How the download stream ended with an error (a close event or GraphQL errors), if it did. */
  streamError: unknown = null;
  /** Every batch received, in order. */
  readonly batches: Batch[] = [];
  /** Acknowledge with the batch's queriesVersion (false: as a client that does not know it). */
  sendQueriesVersion = true;
  /** Whether to take a batch that arrives (false: as if it was lost, neither applied nor acknowledged). */
  accept: (batch: Batch) => boolean = () => true;
  private stop: (() => void) | null = null;
  private listeners = new Set<() => void>();

  constructor(
    readonly ws: Client,
    readonly clientId: string,
  ) {}

  async open(queries: { collection: string; filter?: unknown }[]): Promise<void> {
    const r = await this.request<{ openSession: { id: string } }>(
      `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`,
      { input: { clientId: this.clientId, queries } },
    );
    this.sessionId = r.data!.openSession.id;
  }

  request<T>(query: string, variables: Record<string, unknown> = {}): Promise<GqlResult<T>> {
    return wsRequest<T>(this.ws, query, variables);
  }

  /** Makes and uploads one changeset; resolves with the raw result. */
  async upload(changes: ChangeInput[], timestamp = hlc()) {
    this.clientVersion += 1;
    return this.uploadRaw([{ clientVersion: this.clientVersion, timestamp, changes }]);
  }

  uploadRaw(changesets: unknown[], latestClientVersion?: number) {
    return this.request<{
      uploadChanges: {
        lastIntegratedClientVersion: number;
        serverVersion: number;
        compensatingWrites: { id: string; reason: string; document: unknown }[];
      };
    }>(
      `mutation ($sessionId: ID!, $changesets: [ChangesetInput!]!, $latest: Int) {
        uploadChanges(sessionId: $sessionId, changesets: $changesets, latestClientVersion: $latest) {
        lastIntegratedClientVersion serverVersion compensatingWrites { collection id reason document } } }`,
      { sessionId: this.sessionId, changesets, latest: latestClientVersion },
    );
  }

  /**
   * Starts the download stream; batches are applied and acknowledged as they come. The
   * first batch of a bootstrap replaces the local copy, as the protocol says.
   */
  startDownload(since?: number, bootstrapUntil?: number): void {
    const variables = { sessionId: this.sessionId, since, until: bootstrapUntil };
    this.stop = this.ws.subscribe(
      { query: CHANGES, variables },
      {
        next: (value) => void this.applyBatch(value.data?.changes as Batch),
        error: (e) => (this.streamError = e),
        complete: () => undefined,
      },
    );
  }

  stopDownload(): void {
    this.stop?.();
    this.stop = null;
  }

  private async applyBatch(batch: Batch | undefined): Promise<void> {
    if (!batch || !this.accept(batch)) return;
    this.batches.push(batch);
    if (batch.bootstrapUntil !== null && batch.fromServerVersion === 0) this.docs.clear();
    for (const c of batch.changes) {
      const key = `${c.collection}/${c.id}`;
      this.deliveries.set(key, (this.deliveries.get(key) ?? 0) + 1);
      if (c.op === 'REMOVE') this.docs.delete(key);
      else this.docs.set(key, c.document as Record<string, unknown>);
    }
    this.downloadedVersion = Math.max(this.downloadedVersion, batch.toServerVersion);
    for (const l of this.listeners) l();
    const q = this.sendQueriesVersion ? batch.queriesVersion : undefined;
    const ack = { s: this.sessionId, v: batch.toServerVersion, q };
    // An ack still in flight when the test tears the socket down is of no interest.
    const answer = await this.request(ACK, ack).catch(() => undefined);
    if (!answer || answer.errors) return;
    this.acknowledgedVersion = Math.max(this.acknowledgedVersion, batch.toServerVersion);
    for (const l of this.listeners) l();
  }

  /** Resolves once the local copy satisfies `predicate` (checked after every batch). */
  until(
    predicate: (docs: Map<string, Record<string, unknown>>) => boolean,
    timeoutMs = 10_000,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.docs)) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `client ${this.clientId}: condition not met; docs=${JSON.stringify([...this.docs])}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves once the stream has delivered up to at least `version`. */
  untilVersion(version: number): Promise<void> {
    return this.until(() => this.downloadedVersion >= version);
  }
}

export interface Batch {
  fromServerVersion: number;
  toServerVersion: number;
  latestServerVersion: number;
  remainingChanges: number;
  bootstrapUntil: number | null;
  queriesVersion: number;
  changes: {
    serverVersion: number;
    collection: string;
    id: string;
    op: 'UPSERT' | 'REMOVE';
    document: unknown;
  }[];
}
