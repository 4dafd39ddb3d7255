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

const CHANGES = `subscription ($sessionId: ID!, $since: Int) { changes(sessionId: $sessionId, since: $since) {
  fromServerVersion toServerVersion latestServerVersion remainingChanges
  changes { serverVersion collection id op document } } }`;

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
  /** How the download stream ended with an error (a close event or GraphQL errors), if it did. */
  streamError: unknown = null;
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

  /** Starts the download stream; batches are applied and acknowledged as they come. */
  startDownload(since?: number): void {
    this.stop = this.ws.subscribe(
      { query: CHANGES, variables: { sessionId: this.sessionId, since } },
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
    if (!batch) return;
    for (const c of batch.changes) {
      const key = `${c.collection}/${c.id}`;
      this.deliveries.set(key, (this.deliveries.get(key) ?? 0) + 1);
      if (c.op === 'REMOVE') this.docs.delete(key);
      else this.docs.set(key, c.document as Record<string, unknown>);
    }
    this.downloadedVersion = Math.max(this.downloadedVersion, batch.toServerVersion);
    for (const l of this.listeners) l();
    if (batch.toServerVersion === 0) return;
    const ack = `mutation ($s: ID!, $v: Int!) { acknowledgeDownload(sessionId: $s, serverVersion: $v) { id } }`;
    // An ack still in flight when the test tears the socket down is of no interest.
    await this.request(ack, { s: this.sessionId, v: batch.toServerVersion }).catch(() => undefined);
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

interface Batch {
  toServerVersion: number;
  changes: {
    serverVersion: number;
    collection: string;
    id: string;
    op: 'UPSERT' | 'REMOVE';
    document: unknown;
  }[];
}
