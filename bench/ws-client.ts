/**
 * A minimal sync client over a real graphql-ws socket, for the bench: open a session,
 * upload one-insert changesets numbered 1, 2, 3..., and follow the `changes` stream.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const OPEN_SESSION = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($sessionId: ID!, $changesets: [ChangesetInput!]!) {
  uploadChanges(sessionId: $sessionId, changesets: $changesets) {
    lastIntegratedClientVersion serverVersion compensatingWrites { id reason } } }`;
const CHANGES = `subscription ($sessionId: ID!) { changes(sessionId: $sessionId) {
  toServerVersion changes { serverVersion collection id op document } } }`;

export const COLLECTION = 'cars';

interface Result {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string }[];
}

interface UploadAck {
  lastIntegratedClientVersion: number;
  serverVersion: number;
  compensatingWrites: { id: string; reason: string }[];
}

export interface Batch {
  toServerVersion: number;
  changes: { serverVersion: number; collection: string; id: string; op: string }[];
}

/** Runs one query or mutation and returns its single result; GraphQL errors throw. */
export function request(client: Client, query: string, variables = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    let result: Result | undefined;
    client.subscribe(
      { query, variables },
      {
        next: (value) => (result = value as Result),
        error: reject,
        complete: () => (result ? resolve(checked(result)) : reject(new Error('no result'))),
      },
    );
  });
}

function checked(result: Result): Result {
  if (result.errors?.length) throw new Error(`GraphQL: ${result.errors[0]!.message}`);
  return result;
}

let hlcCounter = 0;
/** Hybrid logical clock timestamp: 2026-11-26T19:55:08.123Z-0001. */
export function hlc(): string {
  hlcCounter = (hlcCounter + 1) % 10_000;
  return `${new Date().toISOString()}-${String(hlcCounter).padStart(4, '0')}`;
}

export class BenchClient {
  readonly ws: Client;
  sessionId = '';
  clientVersion = 0;

  constructor(
    wsUrl: string,
    token: string,
    readonly userId: string,
    readonly clientId: string,
  ) {
    this.ws = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined, // failures surface through the operations
      connectionParams: { authToken: token },
    });
  }

  async open(): Promise<void> {
    const input = { clientId: this.clientId, queries: [{ collection: COLLECTION }] };
    const r = await request(this.ws, OPEN_SESSION, { input });
    this.sessionId = (r.data!.openSession as { id: string }).id;
  }

  /** Uploads the next changeset: one INSERT owned by this client's user. */
  uploadInsert(docId: string): Promise<UploadAck> {
    return this.uploadInserts([docId]);
  }

  /** Uploads the next changeset: one INSERT per id, each owned by this client's user. */
  async uploadInserts(docIds: readonly string[]): Promise<UploadAck> {
    this.clientVersion += 1;
    const n = this.clientVersion;
    const changeset = {
      clientVersion: n,
      timestamp: hlc(),
      changes: docIds.map((id) => ({
        collection: COLLECTION,
        id,
        op: 'INSERT',
        document: { ownerId: this.userId, make: 'Kia', n },
      })),
    };
    const r = await request(this.ws, UPLOAD, {
      sessionId: this.sessionId,
      changesets: [changeset],
    });
    const ack = r.data!.uploadChanges as UploadAck;
    if (ack.compensatingWrites.length > 0) throw new Error(ack.compensatingWrites[0]!.reason);
    return ack;
  }

  /** Follows the download stream; returns the function that stops it. */
  follow(onBatch: (batch: Batch) => void, onError: (error: unknown) => void): () => void {
    return this.ws.subscribe(
      { query: CHANGES, variables: { sessionId: this.sessionId } },
      {
        next: (value) => {
          if (value.errors?.length) onError(new Error(value.errors[0]!.message));
          else onBatch((value.data as { changes: Batch }).changes);
        },
        error: onError,
        complete: () => undefined,
      },
    );
  }

  dispose(): Promise<void> {
    return Promise.resolve(this.ws.dispose());
  }
}
