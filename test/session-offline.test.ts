import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { stream } from './helpers/stream.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

const MAX_OFFLINE = 60_000;
const SWEEP = 10_000;
const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) { type } }`;

let gw: TestGateway;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  gw = await startTestGateway({
    clock,
    env: { MAX_OFFLINE_MS: String(MAX_OFFLINE), COMPACT_INTERVAL_MS: String(SWEEP) },
  });
});
afterEach(() => gw.close());

async function client(clientId: string) {
  const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
  await c.open([{ collection: 'cars' }]);
  return c;
}

const car = (id: string) => ({
  collection: 'cars',
  id,
  op: 'INSERT' as const,
  document: { ownerId: 'alice' },
});

/** Lets the sweep that the clock just fired finish its store work. */
async function settle(check: () => Promise<boolean>) {
  while (!(await check())) await new Promise((r) => setImmediate(r));
}

describe('max offline time', () => {
  it('a client past it gets CLIENT_RESET_REQUIRED on its next request', async () => {
    const a = await client('a');
    await a.upload([car('c1')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE - 1);
    expect((await a.upload([car('c2')], hlc(clock.now().getTime()))).errors).toBeUndefined();
    clock.advance(MAX_OFFLINE + 1);
    const late = await a.upload([car('c3')], hlc(clock.now().getTime()));
    expect(late.errors?.[0]?.extensions?.code).toBe('CLIENT_RESET_REQUIRED');
    const ack = await a.request(
      `mutation ($s: ID!) { acknowledgeDownload(sessionId: $s, serverVersion: 0) { id } }`,
      { s: a.sessionId },
    );
    expect(ack.errors?.[0]?.extensions?.code).toBe('CLIENT_RESET_REQUIRED');
  });

  it('the sweep tells it on sessionEvents and compacts older history; other clients are untouched', async () => {
    const a = await client('a');
    const b = await client('b');
    await a.upload([car('old')], hlc(clock.now().getTime()));
    const events = stream<{ sessionEvents: { type: string } }>(a.ws, EVENTS, { id: a.sessionId });
    await a.request('{ __typename }');
    clock.advance(MAX_OFFLINE / 2);
    await b.upload([car('recent')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE / 2 + SWEEP);
    expect((await events.next()).data?.sessionEvents.type).toBe('CLIENT_RESET_REQUIRED');
    await settle(async () => (await gw.gateway.core.store.readHistory(0, 10)).length === 1);
    expect((await gw.gateway.core.store.readHistory(0, 10))[0]?.id).toBe('recent');
    expect((await b.upload([car('b2')], hlc(clock.now().getTime()))).errors).toBeUndefined();
  });

  it('a client that must reset hears it as soon as it watches its events', async () => {
    const a = await client('a');
    clock.advance(MAX_OFFLINE + 1);
    const events = stream<{ sessionEvents: { type: string } }>(a.ws, EVENTS, { id: a.sessionId });
    expect((await events.next()).data?.sessionEvents.type).toBe('CLIENT_RESET_REQUIRED');
  });

  it('resets by opening the session again and bootstrapping, keeping its client versions', async () => {
    const a = await client('a');
    await a.upload([car('a1')], hlc(clock.now().getTime()));
    clock.advance(MAX_OFFLINE + 1);
    const b = await client('b');
    expect((await b.upload([car('b1')], hlc(clock.now().getTime()))).errors).toBeUndefined();
    expect(
      (await a.upload([car('a2')], hlc(clock.now().getTime()))).errors?.[0]?.extensions?.code,
    ).toBe('CLIENT_RESET_REQUIRED');
    a.clientVersion -= 1; // the refused change stays local, to be replayed after the reset
    await a.open([{ collection: 'cars' }]);
    a.startDownload(0);
    await a.until((d) => d.has('cars/a1') && d.has('cars/b1'));
    expect(
      (await a.upload([car('a2')], hlc(clock.now().getTime()))).data?.uploadChanges
        .lastIntegratedClientVersion,
    ).toBe(2);
  });
});
