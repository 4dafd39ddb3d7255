/**
 * Several gateway processes on one store (a SQLite file; a MongoDB replica set where one is
 * available) behave as one deployment: whatever the
 * caller's gateway and the client's gateway, changes, pauses, reconnects, waits,
 * cancellations and connection states reach across.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/jwt.js';
import { startChildGateway, type ChildGateway } from './helpers/child-gateway.js';
import { stream } from './helpers/stream.js';
import { SyncTestClient } from './helpers/sync-client.js';

const SECRET = 'multi-gateway-secret-multi-gateway-secret';
const mongodbUri = inject('mongodbUri');

/** The same behaviour, whatever store the gateways share. */
function multiGatewaySuite(name: string, storeEnv: () => Record<string, string>) {
  describe(name, () => {
    let dir: string;
    let a: ChildGateway;
    let b: ChildGateway;
    let c: ChildGateway;
    let alice: string;
    const clients: Client[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'multi-gw-'));
      const env = { JWT_SECRET: SECRET, ...storeEnv() };
      [a, b, c] = await Promise.all([
        startChildGateway(dir, env),
        startChildGateway(dir, env),
        startChildGateway(dir, env),
      ]);
      alice = await mintToken(SECRET, 'alice');
    }, 60_000);

    afterAll(async () => {
      await Promise.all(clients.map((cl) => cl.dispose()));
      await Promise.all([a, b, c].map((g) => g?.stop('SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    });

    function ws(gateway: ChildGateway, params: Record<string, unknown> = {}): Client {
      const client = createClient({
        url: gateway.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: { authToken: alice, ...params },
      });
      clients.push(client);
      return client;
    }

    async function syncClient(gateway: ChildGateway, clientId: string) {
      const client = new SyncTestClient(ws(gateway), clientId);
      await client.open([{ collection: 'cars' }]);
      return client;
    }

    const car = (id: string) => ({
      collection: 'cars',
      id,
      op: 'INSERT' as const,
      document: { ownerId: 'alice' },
    });
    const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) { type } }`;

    it('a change uploaded through one reaches a client connected to another', async () => {
      const onA = await syncClient(a, 'writer-a');
      const onB = await syncClient(b, 'reader-b');
      const onC = await syncClient(c, 'reader-c');
      onB.startDownload();
      onC.startDownload();
      await onA.upload([car('from-a')]);
      await Promise.all([
        onB.until((d) => d.has('cars/from-a')),
        onC.until((d) => d.has('cars/from-a')),
      ]);
    });

    it('a pause sent to one gateway stops the client on another, and a resume restarts it', async () => {
      const onB = await syncClient(b, 'paused-b');
      const events = stream<{ sessionEvents: { type: string } }>(onB.ws, EVENTS, {
        id: onB.sessionId,
      });
      const admin = ws(a);
      await new SyncTestClient(admin, 'control').request(
        `mutation ($id: ID!) { pauseSession(id: $id) { state } }`,
        { id: onB.sessionId },
      );
      expect((await events.next()).data?.sessionEvents.type).toBe('PAUSED');
      const refused = await onB.upload([car('while-paused')]);
      expect(refused.errors?.[0]?.extensions?.code).toBe('SESSION_PAUSED');
      onB.clientVersion -= 1;
      await new SyncTestClient(admin, 'control').request(
        `mutation ($id: ID!) { resumeSession(id: $id) { state } }`,
        { id: onB.sessionId },
      );
      expect((await events.next()).data?.sessionEvents.type).toBe('RESUMED');
      expect((await onB.upload([car('after-resume')])).errors).toBeUndefined();
    });

    it('reconnect asked on one gateway reaches clients on the others', async () => {
      const onC = await syncClient(c, 'reconnect-c');
      const events = stream<{ sessionEvents: { type: string } }>(onC.ws, EVENTS, {
        id: onC.sessionId,
      });
      await onC.request('{ __typename }');
      const r = await new SyncTestClient(ws(a), 'x').request<{ reconnect: { sessions: number } }>(
        `mutation { reconnect { sessions } }`,
      );
      expect(r.data?.reconnect.sessions).toBeGreaterThanOrEqual(1);
      expect((await events.next()).data?.sessionEvents.type).toBe('RECONNECT_REQUESTED');
    });

    it('a wait on one gateway ends when the client uploads through another, or when a token is cancelled on a third', async () => {
      const onB = await syncClient(b, 'waited-b');
      await onB.uploadRaw([], 1);
      const waiter = new SyncTestClient(ws(a), 'waiter');
      const done = waiter.request(
        `mutation ($s: ID!) { waitForUpload(sessionId: $s) { lastIntegratedClientVersion } }`,
        { s: onB.sessionId },
      );
      await onB.upload([car('waited')]);
      expect((await done).data).toEqual({ waitForUpload: { lastIntegratedClientVersion: 1 } });

      await onB.uploadRaw([], 5);
      const token = (
        await waiter.request<{ createCancellationToken: { id: string } }>(
          `mutation { createCancellationToken { id } }`,
        )
      ).data!.createCancellationToken.id;
      const held = waiter.request(
        `mutation ($s: ID!, $t: ID) { waitForUpload(sessionId: $s, cancellationToken: $t) { id } }`,
        { s: onB.sessionId, t: token },
      );
      const cancelled = await new SyncTestClient(ws(c), 'canceller').request(
        `mutation ($t: ID!) { cancel(cancellationToken: $t) { cancelled } }`,
        { t: token },
      );
      expect(cancelled.data).toEqual({ cancel: { cancelled: true } });
      expect((await held).errors?.[0]?.extensions?.code).toBe('CANCELLED');
    });

    it("connection state shows the client's real connection, wherever it is", async () => {
      const onB = await syncClient(b, 'connected-b');
      const watcher = new SyncTestClient(ws(a), 'watcher');
      const changes = stream<{ connectionStateChanges: { previous: string; current: string } }>(
        watcher.ws,
        `subscription ($id: ID!) { connectionStateChanges(sessionId: $id) { previous current } }`,
        { id: onB.sessionId },
      );
      await watcher.request('{ __typename }');
      onB.startDownload();
      expect((await changes.next()).data?.connectionStateChanges).toEqual({
        previous: 'DISCONNECTED',
        current: 'CONNECTED',
      });
      const state = await watcher.request<{ session: { connectionState: string } }>(
        `query ($id: ID!) { session(id: $id) { connectionState } }`,
        { id: onB.sessionId },
      );
      expect(state.data?.session.connectionState).toBe('CONNECTED');
      await onB.ws.dispose();
      expect((await changes.next()).data?.connectionStateChanges).toEqual({
        previous: 'CONNECTED',
        current: 'DISCONNECTED',
      });
    });
  });
}

multiGatewaySuite('three gateways on one SQLite file', () => ({ MULTI_GATEWAY: 'true' }));
if (mongodbUri) {
  multiGatewaySuite('three gateways on one MongoDB replica set', () => ({
    MONGODB_URI: mongodbUri,
    MONGODB_DB: `multi_${process.pid}_${Date.now()}`,
  }));
} else {
  describe.skip(`three gateways on MongoDB (skipped: ${inject('mongodbSkipReason')})`, () => {
    it('shares changes, pauses, reconnects, waits and connection states', () => undefined);
  });
}
