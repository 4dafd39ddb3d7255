/**
 * Back-pressure at the socket (ws.ts, socket-operations.ts): past MAX_OPERATIONS_PER_SOCKET
 * an operation waits for a slot in arrival order instead of being refused, so a client's
 * consecutive uploads do not cascade into failures; only past the bound on waiting ones
 * (count and message bytes) is one refused, with a retryable LIMIT_EXCEEDED, nothing of
 * it written, and the client goes on from that exact version.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { ManualClock, type Clock } from '../src/clock.js';
import type { SyncStore } from '../src/store/port.js';
import {
  startTestGateway,
  wsRequest,
  type GqlResult,
  type TestGateway,
} from './helpers/gateway.js';
import { startLimitedGateway, type LimitedGateway } from './helpers/limited-gateway.js';
import { RawGraphqlWs, type RawOutcome } from './helpers/raw-graphql-ws.js';
import { serverScope } from './helpers/scope.js';
import { hlc } from './helpers/sync-client.js';

const OPEN = `mutation ($c: ID!) { openSession(input: { clientId: $c, queries: [{ collection: "cars" }] }) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) {
  uploadChanges(sessionId: $s, changesets: $cs) { lastIntegratedClientVersion serverVersion } }`;
/** A subscription that answers at once and runs until completed: it holds a slot. */
const HOLD = `subscription ($s: ID!) {
  progress(sessionId: $s, direction: UPLOAD, mode: REPORT_INDEFINITELY) { progressEstimate } }`;
const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };

let gw: TestGateway | undefined;
let lgw: LimitedGateway | undefined;
const raws: RawGraphqlWs[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  await gw?.close();
  await lgw?.close();
  gw = lgw = undefined;
});

interface UploadAck {
  uploadChanges: { lastIntegratedClientVersion: number; serverVersion: number };
}

/** Changeset `v` of one insert, `car-<v>`. */
const changeset = (v: number, clock?: Clock) => ({
  clientVersion: v,
  timestamp: hlc(clock?.now().getTime()),
  changes: [
    {
      collection: 'cars',
      id: `car-${v}`,
      op: 'INSERT',
      document: { make: `make-${v}`, ownerId: 'alice' },
    },
  ],
});

/** Rejects after `ms`: a safety net so a bug fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One operation's result; errors graphql-ws sends as an `error` message become `errors`. */
function request<T>(client: Client, query: string, variables: Record<string, unknown>) {
  return wsRequest<T>(client, query, variables).catch((errors: unknown) => {
    if (Array.isArray(errors)) return { errors: errors as GqlResult['errors'] } as GqlResult<T>;
    throw errors;
  });
}

/** Sends `send(1)` to `send(total)` in order, keeping `inFlight` of them unanswered. */
async function pipeline<T>(total: number, inFlight: number, send: (v: number) => Promise<T>) {
  const results: T[] = new Array<T>(total);
  let next = 1;
  const lane = async () => {
    while (next <= total) {
      const v = next++;
      results[v - 1] = await send(v);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return results;
}

async function lastIntegrated(store: SyncStore, sessionId: string): Promise<number> {
  return (await store.getSessions([sessionId]))[0]!.lastIntegratedClientVersion;
}

/** The ids of the cars the server holds for alice, in order of their number. */
async function carIds(store: SyncStore): Promise<string[]> {
  const docs = await serverScope(store, CARS, 'cars');
  return docs.map((d) => String(d._id)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
}

const carsUpTo = (n: number) => Array.from({ length: n }, (_, i) => `car-${i + 1}`);

/** The extensions of the operation's first error: of its error message, or of its result. */
const codeOf = (outcome: RawOutcome) =>
  (outcome.errors ?? outcome.next[0]?.errors)?.[0]?.extensions as
    Record<string, unknown> | undefined;

/** A raw socket of alice's with a session open on it. */
async function rawWithSession(url: string, token: string, clientId = 'phone') {
  const raw = await RawGraphqlWs.open(url, token);
  raws.push(raw);
  raw.subscribe('open', OPEN, { c: clientId });
  const opened = await within(raw.ended('open'), 'openSession');
  const session = (opened.next[0]!.data as { openSession: { id: string } }).openSession.id;
  return { raw, session };
}

/** Starts `n` operations that hold their slots until completed, once all have started. */
async function hold(raw: RawGraphqlWs, session: string, n: number, name = 'hold') {
  const ids = Array.from({ length: n }, (_, i) => `${name}-${i}`);
  for (const id of ids) raw.subscribe(id, HOLD, { s: session });
  await within(Promise.all(ids.map((id) => raw.firstNext(id))), 'the holders');
  return ids;
}

describe('uploads in flight past the per-socket limit', () => {
  it('256 in flight, 2,000 in all, on one socket: every upload succeeds, each change once', async () => {
    // The rate limits are off: what is tested is the socket's limit (200) alone.
    gw = await startTestGateway({
      env: { USER_OPS_PER_SECOND: '0', CLIENT_CHANGESETS_PER_SECOND: '0' },
    });
    const client = gw.ws(await gw.token('alice'));
    const opened = await request<{ openSession: { id: string } }>(client, OPEN, { c: 'phone' });
    const s = opened.data!.openSession.id;
    const upload = (v: number) => request<UploadAck>(client, UPLOAD, { s, cs: [changeset(v)] });
    const results = await within(pipeline(2000, 256, upload), 'the uploads', 60_000);

    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(results.map((r) => r.data!.uploadChanges.lastIntegratedClientVersion)).toEqual(
      Array.from({ length: 2000 }, (_, i) => i + 1),
    );
    const store = gw.gateway.core.store;
    expect(await lastIntegrated(store, s)).toBe(2000);
    expect(await carIds(store)).toEqual(carsUpTo(2000));
    // Each change made one version: none was integrated twice.
    const versions = results.map((r) => r.data!.uploadChanges.serverVersion);
    expect(new Set(versions).size).toBe(2000);
    expect(Math.max(...versions)).toBe(2000);
  }, 90_000);

  it('start in arrival order: 60 uploads wait behind 4 running operations, then run', async () => {
    lgw = await startLimitedGateway({ limits: { maxOperationsPerSocket: 4 } });
    const { raw, session } = await rawWithSession(lgw.wsUrl, await lgw.token('alice'));
    const store = lgw.base.gateway.core.store;
    const holders = await hold(raw, session, 4);
    for (let v = 1; v <= 60; v++)
      raw.subscribe(`u${v}`, UPLOAD, { s: session, cs: [changeset(v)] });
    await raw.drained();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(raw.endedIds.filter((id) => id.startsWith('u'))).toEqual([]);
    expect(await lastIntegrated(store, session)).toBe(0);
    // Four slots free at once: the waiting ones start four at a time, in order.
    for (const id of holders) raw.complete(id);
    const outcomes = await within(
      Promise.all(Array.from({ length: 60 }, (_, i) => raw.ended(`u${i + 1}`))),
      'the uploads',
    );
    expect(outcomes.filter((o) => o.errors)).toEqual([]);
    expect(await carIds(store)).toEqual(carsUpTo(60));
  });
});

describe('past the bound on waiting operations', () => {
  const limits = { maxOperationsPerSocket: 4, maxWaitingOperationsPerSocket: 8 };

  it('refuses with a retryable LIMIT_EXCEEDED, writes nothing of it, and takes v again', async () => {
    lgw = await startLimitedGateway({ limits });
    const { raw, session } = await rawWithSession(lgw.wsUrl, await lgw.token('alice'));
    const store = lgw.base.gateway.core.store;
    const holders = await hold(raw, session, 4);
    for (let v = 1; v <= 12; v++)
      raw.subscribe(`u${v}`, UPLOAD, { s: session, cs: [changeset(v)] });
    // 8 wait; the 4 past the bound are refused at once, the holders still running.
    for (let v = 9; v <= 12; v++) {
      const refused = await within(raw.ended(`u${v}`), `upload ${v}`);
      expect(codeOf(refused)).toEqual({ code: 'LIMIT_EXCEEDED', retryable: true });
      expect(refused.errors![0]!.message).toMatch(/at most 4 operations per socket/);
    }
    expect(raw.endedIds.filter((id) => id.startsWith('u'))).toEqual(['u9', 'u10', 'u11', 'u12']);
    expect(await lastIntegrated(store, session)).toBe(0);
    expect(await carIds(store)).toEqual([]);

    for (const id of holders) raw.complete(id);
    for (let v = 1; v <= 8; v++) expect((await raw.ended(`u${v}`)).errors).toBeNull();
    expect(await lastIntegrated(store, session)).toBe(8);
    expect(await carIds(store)).toEqual(carsUpTo(8));

    // The client sends the refused ones again, from the exact version.
    for (let v = 9; v <= 12; v++)
      raw.subscribe(`r${v}`, UPLOAD, { s: session, cs: [changeset(v)] });
    for (let v = 9; v <= 12; v++) {
      const retried = await within(raw.ended(`r${v}`), `retry ${v}`);
      expect(retried.errors).toBeNull();
      const ack = retried.next[0]!.data as unknown as UploadAck;
      expect(ack.uploadChanges.lastIntegratedClientVersion).toBe(v);
    }
    expect(await carIds(store)).toEqual(carsUpTo(12));
  });

  it('bounds the waiting ones by bytes too', async () => {
    const waitingBytes = 64 * 1024;
    lgw = await startLimitedGateway({
      limits: {
        ...limits,
        maxWaitingOperationsPerSocket: 100,
        maxWaitingBytesPerSocket: waitingBytes,
      },
    });
    const { raw, session } = await rawWithSession(lgw.wsUrl, await lgw.token('alice'));
    const holders = await hold(raw, session, 4);
    // Changesets of about 20 KiB: three fit in 64 KiB, the fourth does not.
    const big = (v: number) => {
      const cs = changeset(v);
      (cs.changes[0]!.document as Record<string, unknown>).notes = 'x'.repeat(20 * 1024);
      return [cs];
    };
    for (let v = 1; v <= 5; v++) raw.subscribe(`u${v}`, UPLOAD, { s: session, cs: big(v) });
    for (const v of [4, 5]) {
      expect(codeOf(await within(raw.ended(`u${v}`), `upload ${v}`))?.retryable).toBe(true);
    }
    for (const id of holders) raw.complete(id);
    for (let v = 1; v <= 3; v++) expect((await raw.ended(`u${v}`)).errors).toBeNull();
    raw.subscribe('r4', UPLOAD, { s: session, cs: big(4) });
    expect((await within(raw.ended('r4'), 'the retry')).errors).toBeNull();
    expect(await carIds(lgw.base.gateway.core.store)).toEqual(carsUpTo(4));
  });

  it('a waiting operation the client completes, or whose socket closes, never runs', async () => {
    lgw = await startLimitedGateway({ limits });
    const token = await lgw.token('alice');
    const { raw, session } = await rawWithSession(lgw.wsUrl, token);
    const store = lgw.base.gateway.core.store;
    const holders = await hold(raw, session, 4);
    raw.subscribe('u1', UPLOAD, { s: session, cs: [changeset(1)] });
    raw.subscribe('u2', UPLOAD, { s: session, cs: [changeset(2)] });
    raw.complete('u1');
    raw.complete('u2');
    raw.subscribe('u3', UPLOAD, { s: session, cs: [changeset(1)] }); // v1 again, new id
    for (const id of holders) raw.complete(id);
    expect((await within(raw.ended('u3'), 'the upload')).errors).toBeNull();
    expect(raw.outcome('u1')).toEqual({ next: [], errors: null });
    expect(raw.outcome('u2')).toEqual({ next: [], errors: null });
    expect(await carIds(store)).toEqual(['car-1']);

    // Waiting when the socket closes: dropped; another socket takes v2 next.
    await hold(raw, session, 4, 'again');
    for (let v = 2; v <= 6; v++) raw.subscribe(`w${v}`, UPLOAD, { s: session, cs: [changeset(v)] });
    raw.close();
    await raw.closed;
    const other = await RawGraphqlWs.open(lgw.wsUrl, token);
    raws.push(other);
    other.subscribe('v2', UPLOAD, { s: session, cs: [changeset(2)] });
    expect((await within(other.ended('v2'), 'v2 on another socket')).errors).toBeNull();
    expect(await lastIntegrated(store, session)).toBe(2);
  });

  it('no slot within the wait: refused the same way, nothing written, and v goes again', async () => {
    lgw = await startLimitedGateway({ limits: { ...limits, maxSocketWaitMs: 300 } });
    const { raw, session } = await rawWithSession(lgw.wsUrl, await lgw.token('alice'));
    const store = lgw.base.gateway.core.store;
    const holders = await hold(raw, session, 4);
    const sent = Date.now();
    raw.subscribe('u1', UPLOAD, { s: session, cs: [changeset(1)] });
    const expired = await within(raw.ended('u1'), 'the expiry');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
    expect(codeOf(expired)).toEqual({ code: 'LIMIT_EXCEEDED', retryable: true });
    expect(expired.errors![0]!.message).toMatch(/^no slot within 300 ms/);
    expect(await lastIntegrated(store, session)).toBe(0);
    raw.complete(holders[0]!);
    raw.subscribe('r1', UPLOAD, { s: session, cs: [changeset(1)] });
    expect((await within(raw.ended('r1'), 'the retry')).errors).toBeNull();
    expect(await carIds(store)).toEqual(['car-1']);
  });

  it('a rate-limit refusal in a pipeline: nothing written from v on, and v goes again', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { clientChangesetsPerSecond: 5 } });
    const { raw, session } = await rawWithSession(lgw.wsUrl, await lgw.token('alice'));
    const store = lgw.base.gateway.core.store;
    const send = (prefix: string, v: number) =>
      raw.subscribe(`${prefix}${v}`, UPLOAD, { s: session, cs: [changeset(v, clock)] });
    // A burst of 10 goes through; 11 and 12 are refused (the clock stands still).
    for (let v = 1; v <= 12; v++) send('u', v);
    const outcomes = await within(
      Promise.all(Array.from({ length: 12 }, (_, i) => raw.ended(`u${i + 1}`))),
      'the uploads',
    );
    expect(outcomes.slice(0, 10).filter((o) => o.errors)).toEqual([]);
    for (const refused of outcomes.slice(10)) {
      expect(codeOf(refused)).toMatchObject({ code: 'LIMIT_EXCEEDED', retryable: true });
    }
    expect(await lastIntegrated(store, session)).toBe(10);
    expect(await carIds(store)).toEqual(carsUpTo(10));
    clock.advance(1000);
    for (let v = 11; v <= 12; v++) send('r', v);
    for (let v = 11; v <= 12; v++) expect((await raw.ended(`r${v}`)).errors).toBeNull();
    expect(await carIds(store)).toEqual(carsUpTo(12));
  });
});

/** Node's garbage collector, reached without --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function memoryInUse(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

describe('a client flooding subscribe messages', () => {
  it('cannot make the gateway hold more than the bound while its slots are taken', async () => {
    const waitingBytes = 1024 * 1024;
    lgw = await startLimitedGateway({
      limits: {
        maxOperationsPerSocket: 2,
        maxWaitingOperationsPerSocket: 10,
        maxWaitingBytesPerSocket: waitingBytes,
        maxSocketWaitMs: 120_000,
        userOpsPerSecond: 0,
      },
    });
    const { raw, session } = await rawWithSession(lgw.wsUrl, await lgw.token('mallory'));
    const holders = await hold(raw, session, 2);
    const before = await memoryInUse();
    // 2,000 messages of 64 KiB (125 MiB) sent as fast as the socket takes them.
    const padding = 'x'.repeat(64 * 1024);
    const flood = 2000;
    for (let i = 0; i < flood; i++) {
      raw.subscribe(`f${i}`, '{ __typename }', { padding });
      if (i % 50 === 49) await raw.drained(4 * 1024 * 1024);
    }
    // 10 wait (640 KiB, within the 1 MiB); every other one is refused at once.
    const refusals = async () => {
      while (raw.endedIds.filter((id) => id.startsWith('f')).length < flood - 10) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await within(refusals(), 'the refusals', 60_000);
    const held = (await memoryInUse()) - before;
    expect(held).toBeLessThan(16 * 1024 * 1024);
    const waiting = Array.from({ length: flood }, (_, i) => `f${i}`).filter(
      (id) => !raw.endedIds.includes(id),
    );
    expect(waiting).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}`));
    for (const id of raw.endedIds.filter((i) => i.startsWith('f'))) {
      expect(codeOf(raw.outcome(id))).toEqual({ code: 'LIMIT_EXCEEDED', retryable: true });
    }
    // The socket still answers: the waiting ones run once the slots are free.
    for (const id of holders) raw.complete(id);
    for (const id of waiting) expect((await within(raw.ended(id), id)).errors).toBeNull();
  }, 90_000);
});
