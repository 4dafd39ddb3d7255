/**
 * The shared fan-out path (one batch object for the sessions that send the same batch,
 * executed once per operation, serialized once) against the ordinary execution: sockets
 * with the same operation receive byte-identical payloads, equal to what an ordinary
 * execution of the same subscription over HTTP (server-sent events) gives; another
 * selection gets its own; another user sees none of it; every client equals the server.
 */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { sseSubscriber } from './helpers/sse.js';
import { hlc, SyncTestClient, type ChangeInput } from './helpers/sync-client.js';

const CHANGES = `subscription ($sessionId: ID!) {
  changes(sessionId: $sessionId) {
    fromServerVersion toServerVersion latestServerVersion remainingChanges bootstrapUntil queriesVersion
    changes { serverVersion collection id op document } } }`;
const NARROW = `subscription ($sessionId: ID!) {
  changes(sessionId: $sessionId) { toServerVersion changes { id op } } }`;
/**
 * A variable below the root field: sockets that differ by it must not share results. Two
 * operations in one document, each with its own variable (`Other` is subscribed first).
 */
const WITH_DOCS = `subscription Other($sessionId: ID!, $other: Boolean!) {
  changes(sessionId: $sessionId) { toServerVersion changes { id op document @include(if: $other) } } }
subscription Docs($sessionId: ID!, $docs: Boolean!) {
  changes(sessionId: $sessionId) { toServerVersion changes { id op document @include(if: $docs) } } }`;
const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const CARS = [{ collection: 'cars' }];

interface Batch {
  toServerVersion: number;
  changes: { id: string; op: string; document?: unknown }[];
}

let gw: TestGateway;
beforeEach(async () => {
  gw = await startTestGateway();
});
afterEach(async () => {
  await gw.close();
});

/** A socket that keeps each `next` message's payload exactly as the bytes it came in. */
async function rawSubscriber(
  token: string,
  sessionId: string,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
) {
  const socket = new WebSocket(gw.gateway.wsUrl, 'graphql-transport-ws');
  const payloads: string[] = [];
  socket.on('message', (data, isBinary) => {
    // Text frames only, whether the gateway sent a string or its shared bytes.
    if (isBinary) payloads.push('a binary frame');
    const text = String(data);
    const prefix = '{"id":"s","type":"next","payload":';
    if (text.startsWith(prefix)) payloads.push(text.slice(prefix.length, -1));
  });
  await new Promise((resolve) => socket.once('open', resolve));
  const acked = new Promise((resolve) => socket.once('message', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
  await acked;
  const payload = { query, operationName, variables: { sessionId, ...variables } };
  socket.send(JSON.stringify({ type: 'subscribe', id: 's', payload }));
  return { socket, payloads };
}

async function openSession(token: string, clientId: string): Promise<string> {
  const r = await gw.http<{ openSession: { id: string } }>(
    OPEN,
    { input: { clientId, queries: CARS } },
    token,
  );
  return r.data!.openSession.id;
}

const lastVersion = (payloads: string[]) =>
  payloads.length === 0
    ? 0
    : (JSON.parse(payloads.at(-1)!) as { data: { changes: Batch } }).data.changes.toServerVersion;

/** Inserts c1, c3, c5...; each updated once (i = 2, 6, 10...), then deleted (4, 8, 12...). */
function changeNumber(i: number): ChangeInput {
  if (i % 4 === 0) return { collection: 'cars', id: `c${i - 3}`, op: 'DELETE' };
  if (i % 2 === 0) return { collection: 'cars', id: `c${i - 1}`, op: 'UPDATE', set: { n: i } };
  const document = { ownerId: 'alice', n: i, t: 'é"\u2028' };
  return { collection: 'cars', id: `c${i}`, op: 'INSERT', document };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('shared fan-out', () => {
  it('gives sockets of the same operation the same bytes, equal to the ordinary execution', async () => {
    const alice = await gw.token('alice');
    const bob = await gw.token('bob');
    const writer = new SyncTestClient(gw.ws(alice), 'writer');
    await writer.open(CARS);
    const same = await Promise.all(
      ['a1', 'a2', 'a3'].map(async (c) =>
        rawSubscriber(alice, await openSession(alice, c), CHANGES),
      ),
    );
    const narrow = await rawSubscriber(alice, await openSession(alice, 'n1'), NARROW);
    const other = await rawSubscriber(bob, await openSession(bob, 'b1'), CHANGES);
    const otherVars = { other: true };
    const other2 = await rawSubscriber(
      alice,
      await openSession(alice, 'o1'),
      WITH_DOCS,
      otherVars,
      'Other',
    );
    const [withDocs, withoutDocs] = await Promise.all(
      [true, false].map(async (docs) =>
        rawSubscriber(alice, await openSession(alice, `d-${docs}`), WITH_DOCS, { docs }, 'Docs'),
      ),
    );
    const stop = new AbortController();
    const sessionId = await openSession(alice, 'h1');
    const sse = await sseSubscriber(gw.gateway.url, alice, CHANGES, { sessionId }, stop.signal);
    const everyone = [...same, narrow, other, other2, withDocs!, withoutDocs!];
    // First the bootstrap of an empty scope, then the first batch of the history.
    await until(() => everyone.every((s) => s.payloads.length === 2) && sse.length === 2);
    for (let i = 1; i <= 13; i++) {
      const ack = await writer.upload([changeNumber(i)], hlc());
      expect(ack.errors).toBeUndefined();
      const v = ack.data!.uploadChanges.serverVersion;
      // One write at a time, every stream caught up first: every batch is (v - 1, v].
      await until(
        () => [...same, narrow].every((s) => lastVersion(s.payloads) === v) && sse.length === i + 2,
      );
    }
    stop.abort();
    const [first, ...rest] = same;
    for (const s of rest) expect(s.payloads).toEqual(first!.payloads);
    expect(first!.payloads.map((p) => JSON.parse(p))).toEqual(sse);
    const narrowed = sse.map((p) => {
      const b = (p as { data: { changes: Batch } }).data.changes;
      return {
        data: {
          changes: {
            toServerVersion: b.toServerVersion,
            changes: b.changes.map((c) => ({ id: c.id, op: c.op })),
          },
        },
      };
    });
    expect(narrow.payloads.map((p) => JSON.parse(p))).toEqual(narrowed);
    // The same document with another value of a variable below the root: its own results.
    const documents = (p: string) =>
      (JSON.parse(p) as { data: { changes: Batch } }).data.changes.changes.map((c) => c.document);
    expect(withDocs!.payloads.flatMap(documents).filter((d) => d !== undefined)).not.toEqual([]);
    expect(withoutDocs!.payloads.flatMap(documents)).toEqual(
      withoutDocs!.payloads.flatMap(documents).map(() => undefined),
    );
    expect(withoutDocs!.payloads.map((p) => JSON.parse(p))).toEqual(narrowed);
    // Bob's stream saw none of Alice's documents.
    const bobs = other.payloads.map((p) => JSON.parse(p) as { data: { changes: Batch } });
    expect(bobs.flatMap((b) => b.data.changes.changes)).toEqual([]);
    // Every client equals the server: Alice's streams hold what the server holds.
    const held = new Map<string, unknown>();
    for (const p of sse) {
      for (const c of (p as { data: { changes: Batch } }).data.changes.changes) {
        if (c.op === 'REMOVE') held.delete(c.id);
        else held.set(c.id, c.document);
      }
    }
    const server = await gw.http<{ documents: { edges: { node: { _id: string } }[] } }>(
      `{ documents(collection: "cars", first: 100) { edges { node } } }`,
      {},
      alice,
    );
    const onServer = new Map(server.data!.documents.edges.map((e) => [e.node._id, e.node]));
    expect(held).toEqual(onServer);
    expect(held.size).toBeGreaterThan(0);
    for (const s of everyone) s.socket.terminate();
  });
});
