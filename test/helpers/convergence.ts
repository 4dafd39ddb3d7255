/**
 * The convergence run: three SDK clients (two of one user, one of another with a filter),
 * each behind its own fault proxy under seeded chaos (resets, partitions that hold bytes
 * and then close, latency, refused connections), random inserts, updates and deletes on
 * every client (some refused by the rules, some bad input), and a SIGKILL and restart of
 * the gateway halfway. When the faults stop and the waits return, every client's documents
 * must equal the server's scope exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { App, openSyncedDatabase, type SyncedDatabase } from '../../client/src/index.js';
import { mintToken } from '../../src/auth/jwt.js';
import { startChildGateway, type ChildGateway } from './child-gateway.js';
import { startChaos, startFaultProxy, type Chaos, type FaultProxy } from './fault-proxy.js';
import { TEST_SECRET } from './gateway.js';
import { clientDocs, fileScope, type ClientScope } from './scope.js';
import { int, pick, seededRandom } from './seeded.js';

const CLIENTS: ClientScope[] = [
  { user: 'alice', queries: [{ collection: 'cars' }] },
  { user: 'alice', queries: [{ collection: 'cars' }] },
  { user: 'bob', queries: [{ collection: 'cars', filter: { n: { $lt: 50 } } }] },
];
const IDS = Array.from({ length: 30 }, (_, i) => `car${i}`);
const STEPS = 80;
const KEEP_ALIVE_MS = 300;

interface Client {
  app: App;
  db: SyncedDatabase;
  scope: ClientScope;
}

const portOf = (g: ChildGateway) => Number(new URL(g.url).port);

async function openClient(proxy: FaultProxy, scope: ClientScope, index: number, seed: number) {
  const random = seededRandom(seed * 1000 + index);
  const app = new App({
    url: proxy.url(),
    token: await mintToken(TEST_SECRET, scope.user),
    webSocketImpl: WebSocket,
    keepAliveMs: KEEP_ALIVE_MS,
    backoff: { baseMs: 20, maxMs: 300, random },
  });
  const db = await openSyncedDatabase(app, {
    clientId: `client-${index}`,
    queries: scope.queries,
    onError: () => undefined, // refusals are expected here; every one is also listed
  });
  return { app, db, scope };
}

/** One random write: mostly the client's own documents, some refused, some bad input. */
async function randomWrite(random: () => number, client: Client): Promise<void> {
  const id = pick(random, IDS);
  const owner = random() < 0.9 ? client.scope.user : pick(random, ['alice', 'bob']);
  const roll = random();
  await client.db.write((tx) => {
    if (roll < 0.4) tx.insert('cars', { _id: id, ownerId: owner, n: int(random, 0, 99) });
    else if (roll < 0.75)
      tx.update('cars', id, { n: int(random, 0, 99), color: pick(random, ['red', 'blue']) });
    else if (roll < 0.97) tx.delete('cars', id);
    else tx.insert('cars', { _id: id, ownerId: owner, $bad: true });
  });
}

async function killAndRestart(gateway: ChildGateway, dataDir: string, proxies: FaultProxy[]) {
  await gateway.stop('SIGKILL');
  const next = await startChildGateway(dataDir, gatewayEnv());
  for (const proxy of proxies) proxy.setUpstream(portOf(next));
  return next;
}

const gatewayEnv = () => ({ JWT_SECRET: TEST_SECRET, KEEP_ALIVE_MS: String(KEEP_ALIVE_MS) });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function convergenceRun(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const dataDir = mkdtempSync(join(tmpdir(), `converge-${seed}-`));
  let gateway = await startChildGateway(dataDir, gatewayEnv());
  const proxies = await Promise.all(
    CLIENTS.map(() => startFaultProxy({ upstreamPort: portOf(gateway) })),
  );
  const clients = await Promise.all(CLIENTS.map((s, i) => openClient(proxies[i]!, s, i, seed)));
  let chaos: Chaos[] = [];
  try {
    chaos = proxies.map((proxy, i) =>
      startChaos(proxy, {
        random: seededRandom(seed * 7919 + i),
        intervalMs: 150,
        partitionMs: [50, 600],
        latencyMs: [5, 80],
      }),
    );
    for (let step = 0; step < STEPS; step += 1) {
      await randomWrite(random, pick(random, clients));
      if (step === STEPS / 2) gateway = await killAndRestart(gateway, dataDir, proxies);
      await pause(int(random, 0, 25));
    }
    await Promise.all(chaos.map((c) => c.stop()));
    await Promise.all(clients.map((c) => c.db.syncSession.waitForUpload()));
    await Promise.all(clients.map((c) => c.db.syncSession.waitForDownload()));
    const file = join(dataDir, 'gateway.sqlite');
    for (const [i, client] of clients.entries()) {
      const faults = chaos[i]!.log.join(', ');
      expect(clientDocs(client.db, 'cars'), `client ${i} (faults: ${faults})`).toEqual(
        fileScope(file, client.scope, 'cars'),
      );
    }
  } finally {
    await Promise.all(chaos.map((c) => c.stop()));
    for (const c of clients) c.db.syncSession.close();
    await Promise.all(clients.map((c) => c.app.close()));
    await Promise.all(proxies.map((p) => p.close()));
    await gateway.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
