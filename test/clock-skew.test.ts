/**
 * No client stamps itself ahead of everyone: a timestamp more than the allowed skew (5
 * minutes by default, MAX_CLOCK_SKEW_MS) ahead of the gateway's clock is refused as bad
 * input, naming the field, and nothing is written. The SDK on a device whose clock runs
 * fast follows the gateway's clock instead of losing its writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../client/src/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, openCars, sdkApp } from './helpers/sdk.js';
import { hlc } from './helpers/sync-client.js';

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) { uploadChanges(sessionId: $s, changesets: $cs) {
  lastIntegratedClientVersion } }`;
const MINUTE = 60_000;

let gw: TestGateway;
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await gw?.close();
});

async function uploadAhead(aheadMs: number) {
  const token = await gw.token('alice');
  const open = await gw.http<{ openSession: { id: string } }>(
    OPEN,
    { input: { clientId: `c-${aheadMs}`, queries: [] } },
    token,
  );
  const changes = [
    { collection: 'cars', id: `car-${aheadMs}`, op: 'INSERT', document: { ownerId: 'alice' } },
  ];
  const cs = [{ clientVersion: 1, timestamp: hlc(Date.now() + aheadMs), changes }];
  return gw.http(UPLOAD, { s: open.data!.openSession.id, cs }, token);
}

describe('timestamps ahead of the gateway', () => {
  it('refuses one more than 5 minutes ahead by default, naming the field; writes nothing', async () => {
    gw = await startTestGateway();
    const refused = await uploadAhead(6 * MINUTE);
    expect(refused.errors).toMatchObject([
      {
        extensions: { code: 'BAD_USER_INPUT', field: 'changesets[0].timestamp' },
        message: expect.stringMatching(/300 s ahead of the gateway's clock \(\d{4}-/),
      },
    ]);
    expect(await gw.gateway.core.store.latestVersion()).toBe(0);
    const accepted = await uploadAhead(4 * MINUTE);
    expect(accepted.errors).toBeUndefined();
  });

  it('takes the allowed skew from MAX_CLOCK_SKEW_MS', async () => {
    gw = await startTestGateway({ env: { MAX_CLOCK_SKEW_MS: String(MINUTE) } });
    const refused = await uploadAhead(2 * MINUTE);
    expect(refused.errors?.[0]?.extensions?.field).toBe('changesets[0].timestamp');
    expect((await uploadAhead(30_000)).errors).toBeUndefined();
  });
});

describe('an SDK client whose device clock runs 10 minutes fast', () => {
  it('follows the gateway clock: every write syncs, and the client equals the server', async () => {
    gw = await startTestGateway();
    const app = await sdkApp(gw, 'alice');
    apps.push(app);
    const fast = () => Date.now() + 10 * MINUTE;
    const phone = await openCars(app, 'fast-phone', { now: fast });
    const errors = collectErrors(phone);
    await phone.syncSession.pause();
    for (const id of ['a', 'b', 'c']) await phone.write((tx) => tx.insert('cars', car(id, 'Kia')));
    await phone.syncSession.resume();
    await phone.syncSession.waitForUpload();
    await phone.write((tx) => tx.update('cars', 'a', { make: 'VW' }));
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    expect(phone.syncSession.refusedChangesets).toEqual([]);
    expect(errors).toEqual([]);
    const scope = { user: 'alice', queries: [{ collection: 'cars' }] };
    const server = await serverScope(gw.gateway.core.store, scope, 'cars');
    expect(server.map((d) => [d._id, d.make])).toEqual([
      ['a', 'VW'],
      ['b', 'Kia'],
      ['c', 'Kia'],
    ]);
    expect(clientDocs(phone, 'cars')).toEqual(server);
    const [a] = await gw.gateway.core.store.getDocuments([{ collection: 'cars', id: 'a' }]);
    const newest = Object.values(a!.state.fields).map((f) => Date.parse(f.s.slice(0, 24)));
    expect(Math.max(...newest)).toBeLessThan(Date.now() + 5 * MINUTE);
  });
});
