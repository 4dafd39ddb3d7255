import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient } from './helpers/sync-client.js';

let gw: TestGateway;
let clock: ManualClock;
/** Timers the gateway keeps by itself (the max offline time sweep). */
let baseTimers: number;
beforeEach(async () => {
  clock = new ManualClock();
  gw = await startTestGateway({ clock });
  baseTimers = clock.pendingTimers;
});
afterEach(() => gw.close());

async function client(clientId: string, download = true) {
  const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
  await c.open([{ collection: 'cars' }]);
  if (download) c.startDownload();
  return c;
}

const car = (id: string) => ({
  collection: 'cars',
  id,
  op: 'INSERT' as const,
  document: { ownerId: 'alice' },
});
const changeset = (v: number, id: string) => ({
  clientVersion: v,
  timestamp: `2026-11-26T12:00:00.00${v}Z-0001`,
  changes: [car(id)],
});

type Wait = { errors?: { extensions?: { code?: string } }[]; data?: unknown };
const WAIT_UPLOAD = `mutation ($s: ID!, $t: ID, $ms: Int) { waitForUpload(sessionId: $s, cancellationToken: $t, timeoutMs: $ms) { lastIntegratedClientVersion } }`;
const WAIT_DOWNLOAD = `mutation ($s: ID!, $t: ID, $ms: Int) { waitForDownload(sessionId: $s, cancellationToken: $t, timeoutMs: $ms) { lastDownloadedServerVersion } }`;
const TOKEN = `mutation { createCancellationToken { id cancelled } }`;
const CANCEL = `mutation ($t: ID!) { cancel(cancellationToken: $t) { id cancelled } }`;

/** Nothing of a wait is left behind: no timer, no token holder, no subscription. */
function expectNoLeftovers(sessionId: string, token?: string) {
  expect(clock.pendingTimers).toBe(baseTimers);
  expect(gw.gateway.core.sessionUpdates.count(sessionId)).toBe(0);
  if (token) expect(gw.gateway.sessions.tokens.waitersOf(token)).toBe(0);
}

/** Resolves once `n` waits are registered on the session (they subscribe to its updates). */
async function waitersRegistered(sessionId: string, n: number) {
  while (gw.gateway.core.sessionUpdates.count(sessionId) < n)
    await new Promise((r) => setImmediate(r));
}

describe('waitForUpload', () => {
  it('resolves once every changeset reported before the call is integrated', async () => {
    const a = await client('a', false);
    await a.uploadRaw([changeset(1, 'c1')], 2);
    let settled = false;
    const wait = a.request(WAIT_UPLOAD, { s: a.sessionId }).finally(() => (settled = true));
    await waitersRegistered(a.sessionId, 1);
    expect(settled).toBe(false);
    await a.uploadRaw([changeset(2, 'c2')]);
    expect((await wait).data).toEqual({ waitForUpload: { lastIntegratedClientVersion: 2 } });
    expectNoLeftovers(a.sessionId);
  });

  it('resolves at once when nothing is outstanding, leaving nothing behind', async () => {
    const a = await client('a', false);
    await a.uploadRaw([changeset(1, 'c1')], 1);
    for (let i = 0; i < 10; i += 1) await a.request(WAIT_UPLOAD, { s: a.sessionId });
    expectNoLeftovers(a.sessionId);
    expect((await a.request(WAIT_UPLOAD, { s: a.sessionId })).data).toEqual({
      waitForUpload: { lastIntegratedClientVersion: 1 },
    });
  });

  it('fails with TIMEOUT when timeoutMs passes on the clock', async () => {
    const a = await client('a', false);
    await a.uploadRaw([], 3);
    const wait = a.request(WAIT_UPLOAD, { s: a.sessionId, ms: 5000 }) as Promise<Wait>;
    await waitersRegistered(a.sessionId, 1);
    clock.advance(5000);
    expect((await wait).errors?.[0]?.extensions?.code).toBe('TIMEOUT');
    expectNoLeftovers(a.sessionId);
  });
});

describe('waitForDownload', () => {
  it('resolves when the client has acknowledged every version in its scope that existed at the call', async () => {
    const reader = await client('reader', false);
    const writer = await client('writer', false);
    const ack = await writer.upload([car('c1')]);
    const wait = reader.request(WAIT_DOWNLOAD, { s: reader.sessionId });
    await waitersRegistered(reader.sessionId, 1);
    reader.startDownload();
    expect((await wait).data).toEqual({
      waitForDownload: { lastDownloadedServerVersion: ack.data!.uploadChanges.serverVersion },
    });
    expectNoLeftovers(reader.sessionId);
  });
});

describe('cancellation', () => {
  it('one token cancels several waits at once, of both kinds, with CANCELLED', async () => {
    const a = await client('a', false);
    const writer = await client('w', false);
    await writer.upload([car('c1')]);
    await a.uploadRaw([], 4);
    const token = (await a.request<{ createCancellationToken: { id: string } }>(TOKEN)).data!
      .createCancellationToken.id;
    const waits = [
      a.request(WAIT_UPLOAD, { s: a.sessionId, t: token }),
      a.request(WAIT_DOWNLOAD, { s: a.sessionId, t: token }),
      a.request(WAIT_UPLOAD, { s: a.sessionId, t: token }),
    ] as Promise<Wait>[];
    await waitersRegistered(a.sessionId, 3);
    expect((await a.request(CANCEL, { t: token })).data).toEqual({
      cancel: { id: token, cancelled: true },
    });
    for (const w of await Promise.all(waits))
      expect(w.errors?.[0]?.extensions?.code).toBe('CANCELLED');
    expectNoLeftovers(a.sessionId, token);
    const late = (await a.request(WAIT_UPLOAD, { s: a.sessionId, t: token })) as Wait;
    expect(late.errors?.[0]?.extensions?.code).toBe('CANCELLED');
  });

  it("another user's token cannot be used or cancelled", async () => {
    const a = await client('a', false);
    const token = (await a.request<{ createCancellationToken: { id: string } }>(TOKEN)).data!
      .createCancellationToken.id;
    const r = await gw.http(CANCEL, { t: token }, await gw.token('bob'));
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('an aborted wait', () => {
  it('ends when its HTTP request is aborted, leaving nothing behind', async () => {
    const a = await client('a', false);
    await a.uploadRaw([], 9);
    const body = JSON.stringify({ query: WAIT_UPLOAD, variables: { s: a.sessionId, ms: 60_000 } });
    const request = httpRequest(gw.gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await gw.token('alice')}`,
      },
    });
    request.on('error', () => undefined);
    request.end(body);
    await waitersRegistered(a.sessionId, 1);
    expect(clock.pendingTimers).toBe(baseTimers + 1);
    request.destroy();
    while (gw.gateway.core.sessionUpdates.count(a.sessionId) > 0)
      await new Promise((r) => setImmediate(r));
    expectNoLeftovers(a.sessionId);
  });

  it('ends when its client completes the operation on the socket', async () => {
    const a = await client('a', false);
    await a.uploadRaw([], 9);
    const stop = a.ws.subscribe(
      { query: WAIT_UPLOAD, variables: { s: a.sessionId, ms: 60_000 } },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await waitersRegistered(a.sessionId, 1);
    stop();
    while (gw.gateway.core.sessionUpdates.count(a.sessionId) > 0)
      await new Promise((r) => setImmediate(r));
    expectNoLeftovers(a.sessionId);
  });

  it('ends when its socket closes', async () => {
    const a = await client('a', false);
    await a.uploadRaw([], 9);
    void a.request(WAIT_UPLOAD, { s: a.sessionId, ms: 60_000 }).catch(() => undefined);
    await waitersRegistered(a.sessionId, 1);
    await a.ws.dispose();
    while (gw.gateway.core.sessionUpdates.count(a.sessionId) > 0)
      await new Promise((r) => setImmediate(r));
    expectNoLeftovers(a.sessionId);
  });
});
