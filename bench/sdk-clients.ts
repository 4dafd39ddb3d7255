/**
 * The client side of the SDK scenarios (run in the client process), each beside the raw
 * protocol doing the same transfer:
 *
 * - live sync: one client writes N one-insert changesets, another receives them all; the
 *   SDK (App, openSyncedDatabase, memory storage) against two bare graphql-ws clients that
 *   upload in batches of the same size and apply the stream to a Map;
 * - catch-up: a fresh client downloads every document of the collection; the SDK's first
 *   sync against a bare client following `changes(since: 0)` into a Map;
 * - backlog: a client uploads N one-insert changesets over a slow link (link-proxy.ts); the
 *   SDK against bare clients uploading the same batches one at a time, and two at a time.
 */
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { App, openSyncedDatabase, type SyncedDatabase } from '../client/src/index.js';
import { startLink } from './link-proxy.js';
import { hlc, request } from './ws-client.js';

/** What the SDK sends in one upload (its default): changesets up to 1,000 changes. */
export const UPLOAD_CHANGES = 1000;
const COLLECTION = 'cars';

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) {
  uploadChanges(sessionId: $s, changesets: $cs) { lastIntegratedClientVersion } }`;
const ACK = `mutation ($s: ID!, $v: Int!) { acknowledgeDownload(sessionId: $s, serverVersion: $v) { id } }`;
const CHANGES = `subscription ($s: ID!, $since: Int) { changes(sessionId: $s, since: $since) {
  toServerVersion latestServerVersion bootstrapUntil changes { collection id op document } } }`;

export interface Target {
  wsUrl: string;
  token: string;
  userId: string;
}

const unique = () => `${process.pid}-${process.hrtime.bigint()}`;

// ---- the SDK ----

async function sdkClient(t: Target, clientId: string): Promise<SyncedDatabase & { app: App }> {
  const app = new App({ url: t.wsUrl, token: t.token, webSocketImpl: WebSocket });
  const db = await openSyncedDatabase(app, { clientId, queries: [{ collection: COLLECTION }] });
  return Object.assign(db, { app });
}

async function closeSdk(db: SyncedDatabase & { app: App }): Promise<void> {
  db.syncSession.close();
  await db.app.close();
}

/** Resolves once the database holds `count` documents of the collection. */
function untilCount(db: SyncedDatabase, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (db.all(COLLECTION).length >= count) return resolve();
    let have = db.all(COLLECTION).length;
    const stop = db.onChange((keys) => {
      have = keys.length > 0 ? db.all(COLLECTION).length : have;
      if (have < count) return;
      stop();
      resolve();
    });
  });
}

export async function sdkLive(t: Target, changes: number): Promise<number> {
  const [writer, reader] = await Promise.all([
    sdkClient(t, `sdk-w-${unique()}`),
    sdkClient(t, `sdk-r-${unique()}`),
  ]);
  await Promise.all([writer.syncSession.waitForDownload(), reader.syncSession.waitForDownload()]);
  const base = reader.all(COLLECTION).length;
  const start = performance.now();
  const arrived = untilCount(reader, base + changes);
  const run = unique();
  for (let i = 0; i < changes; i++) {
    void writer.write((tx) =>
      tx.insert(COLLECTION, { _id: `l-${run}-${i}`, ownerId: t.userId, make: 'Kia', n: i }),
    );
  }
  await arrived;
  const ms = performance.now() - start;
  await Promise.all([closeSdk(writer), closeSdk(reader)]);
  return ms;
}

/** Until the first bootstrap is complete (what `waitForDownload` would wait for, without its cost). */
function untilBootstrapped(db: SyncedDatabase): Promise<void> {
  return new Promise((resolve) => {
    if (db.meta.bootstrapped) return resolve();
    const stop = db.onChange(() => db.meta.bootstrapped && (stop(), resolve()));
  });
}

export async function sdkCatchUp(t: Target, expected: number): Promise<number> {
  const start = performance.now();
  const reader = await sdkClient(t, `sdk-c-${unique()}`);
  await untilBootstrapped(reader);
  const ms = performance.now() - start;
  const have = reader.all(COLLECTION).length;
  await closeSdk(reader);
  if (have !== expected) throw new Error(`SDK catch-up: ${have} documents, not ${expected}`);
  return ms;
}

// ---- the raw protocol, for the floor ----

interface Raw {
  ws: Client;
  sessionId: string;
}

async function rawClient(t: Target, clientId: string): Promise<Raw> {
  const ws = createClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authToken: t.token },
  });
  const input = { clientId, queries: [{ collection: COLLECTION }] };
  const r = await request(ws, OPEN, { input });
  return { ws, sessionId: (r.data!.openSession as { id: string }).id };
}

type RawBatch = {
  toServerVersion: number;
  latestServerVersion: number;
  bootstrapUntil: number | null;
  changes: { collection: string; id: string; op: string; document: unknown }[];
};

/** Follows `changes` into a Map, acknowledging (one at a time, the newest); `done` decides. */
function follow(
  raw: Raw,
  since: number,
  done: (docs: Map<string, unknown>, b: RawBatch) => boolean,
) {
  const docs = new Map<string, unknown>();
  let [acked, acking] = [0, false];
  const ack = (v: number) => {
    if (acking || v <= acked) return;
    acking = true;
    request(raw.ws, ACK, { s: raw.sessionId, v }).then(
      () => ([acked, acking] = [v, false]),
      () => (acking = false), // the socket closed: the run is over
    );
  };
  return new Promise<void>((resolve, reject) => {
    const stop = raw.ws.subscribe(
      { query: CHANGES, variables: { s: raw.sessionId, since } },
      {
        next: ({ data, errors }) => {
          if (errors?.length) return reject(new Error(errors[0]!.message));
          const batch = (data as { changes: RawBatch }).changes;
          for (const c of batch.changes) {
            const key = `${c.collection}/${c.id}`;
            if (c.op === 'UPSERT') docs.set(key, c.document);
            else docs.delete(key);
          }
          ack(batch.toServerVersion);
          if (!done(docs, batch)) return;
          stop();
          resolve();
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
}

export async function rawLive(t: Target, changes: number): Promise<number> {
  const writer = await rawClient(t, `raw-w-${unique()}`);
  const reader = await rawClient(t, `raw-r-${unique()}`);
  let base = -1;
  let bootstrapped: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (bootstrapped = resolve));
  const arrived = follow(reader, 0, (docs, b) => {
    if (base < 0 && b.bootstrapUntil !== null && b.toServerVersion >= b.bootstrapUntil) {
      base = docs.size;
      bootstrapped();
    }
    return base >= 0 && docs.size >= base + changes;
  });
  await ready;
  const start = performance.now();
  await uploadInserts(t, writer, changes);
  await arrived;
  const ms = performance.now() - start;
  await Promise.all([writer.ws.dispose(), reader.ws.dispose()]);
  return ms;
}

/**
 * One-insert changesets, UPLOAD_CHANGES to an upload, `inFlight` uploads at a time (the SDK
 * keeps two), the next sent as soon as the oldest is answered.
 */
async function uploadInserts(t: Target, writer: Raw, changes: number, inFlight = 2) {
  const run = unique();
  const insert = (i: number) => ({
    clientVersion: i + 1,
    timestamp: hlc(),
    changes: [
      {
        collection: COLLECTION,
        id: `r-${run}-${i}`,
        op: 'INSERT',
        document: { ownerId: t.userId, make: 'Kia', n: i },
      },
    ],
  });
  const sent: Promise<void>[] = [];
  for (let from = 0; from < changes; from += UPLOAD_CHANGES) {
    const count = Math.min(UPLOAD_CHANGES, changes - from);
    const cs = Array.from({ length: count }, (_, i) => insert(from + i));
    sent.push(
      request(writer.ws, UPLOAD, { s: writer.sessionId, cs }).then((r) => {
        if (r.errors?.length) throw new Error(`raw upload: ${r.errors[0]!.message}`);
      }),
    );
    if (sent.length >= inFlight) await sent.shift();
  }
  await Promise.all(sent);
}

// ---- a backlog over a slow link ----

/** The link's delay each way, in ms (BENCH_LINK_MS, 25 by default). */
export const LINK_MS = Number(process.env.BENCH_LINK_MS ?? 25);

/**
 * An SDK client with `changes` one-insert changesets to upload, over a link of LINK_MS each
 * way: ms from the first write until every one is acknowledged (`waitForUpload`).
 */
export async function sdkBacklog(t: Target, changes: number): Promise<number> {
  const link = await startLink(t.wsUrl, LINK_MS);
  const writer = await sdkClient({ ...t, wsUrl: link.url }, `sdk-b-${unique()}`);
  try {
    await writer.syncSession.waitForDownload();
    const run = unique();
    const start = performance.now();
    const writes = Array.from({ length: changes }, (_, i) =>
      writer.write((tx) =>
        tx.insert(COLLECTION, { _id: `b-${run}-${i}`, ownerId: t.userId, make: 'Kia', n: i }),
      ),
    );
    await Promise.all(writes);
    await writer.syncSession.waitForUpload();
    return performance.now() - start;
  } finally {
    await closeSdk(writer);
    await link.close();
  }
}

/** The raw protocol uploading the same, over the same link, `inFlight` uploads at a time. */
async function rawBacklog(t: Target, changes: number, inFlight: number): Promise<number> {
  const link = await startLink(t.wsUrl, LINK_MS);
  const writer = await rawClient({ ...t, wsUrl: link.url }, `raw-b-${unique()}`);
  try {
    const start = performance.now();
    await uploadInserts(t, writer, changes, inFlight);
    return performance.now() - start;
  } finally {
    await writer.ws.dispose();
    await link.close();
  }
}

export const rawBacklogOne = (t: Target, changes: number) => rawBacklog(t, changes, 1);
export const rawBacklogTwo = (t: Target, changes: number) => rawBacklog(t, changes, 2);

export async function rawCatchUp(t: Target, expected: number): Promise<number> {
  const start = performance.now();
  const reader = await rawClient(t, `raw-c-${unique()}`);
  let size = 0;
  await follow(reader, 0, (docs, b) => {
    size = docs.size;
    return b.bootstrapUntil !== null && b.toServerVersion >= b.bootstrapUntil;
  });
  const ms = performance.now() - start;
  await reader.ws.dispose();
  if (size !== expected) throw new Error(`raw catch-up: ${size} documents, not ${expected}`);
  return ms;
}
