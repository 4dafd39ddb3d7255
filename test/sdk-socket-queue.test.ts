/**
 * The SDK against a gateway whose per-socket limits are low: several databases of one app
 * share its socket, write many changesets, and end equal to the server (every document,
 * nothing lost or doubled), whether their operations wait for a slot
 * (MAX_OPERATIONS_PER_SOCKET, through the gateway's configuration) or are refused past the
 * bound on waiting ones (LIMIT_EXCEEDED, retryable) and sent again from the same version.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  App,
  openSyncedDatabase,
  type SyncClientError,
  type SyncedDatabase,
} from '../client/src/index.js';
import { ManualClock } from '../src/clock.js';
import type { SyncStore } from '../src/store/port.js';
import { startTestGateway, wsRequest, type TestGateway } from './helpers/gateway.js';
import { startLimitedGateway, type LimitedGateway } from './helpers/limited-gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, collectErrors, FAST_BACKOFF, until } from './helpers/sdk.js';

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };
const DATABASES = 3;
const WRITES = 60;

let gw: TestGateway | undefined;
let lgw: LimitedGateway | undefined;
const apps: App[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await gw?.close();
  await lgw?.close();
  gw = lgw = undefined;
});

function app(url: string, token: string): App {
  const made = new App({
    url,
    token,
    webSocketImpl: WebSocket,
    backoff: FAST_BACKOFF,
    keepAliveMs: 1000,
  });
  apps.push(made);
  return made;
}

/**
 * Each database writes WRITES changesets (an insert, then an update of every third car),
 * without waiting for the uploads; resolves once every one is acknowledged and downloaded.
 */
async function writeAndSync(dbs: SyncedDatabase[], pauseMs = 0): Promise<void> {
  await Promise.all(
    dbs.map(async (db, d) => {
      for (let i = 0; i < WRITES; i++) {
        const id = `d${d}-c${i}`;
        await db.write((tx) => tx.insert('cars', car(id, `make-${i}`)));
        if (i % 3 === 2) await db.write((tx) => tx.update('cars', `d${d}-c${i - 1}`, { seen: i }));
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }),
  );
  await until(() => dbs.every((db) => db.snapshot.pending.length === 0), 'the uploads');
  for (const db of dbs) await db.syncSession.waitForDownload();
}

type Http = (query: string) => Promise<{ data?: unknown }>;
const SESSIONS = '{ sessions { edges { node { clientId lastIntegratedClientVersion } } } }';

/** Each session's last integrated client version, by client id, as the gateway tells. */
async function integrated(http: Http): Promise<Map<string, number>> {
  type Node = { clientId: string; lastIntegratedClientVersion: number };
  const data = (await http(SESSIONS)).data as { sessions: { edges: { node: Node }[] } };
  const nodes = data.sessions.edges.map((e) => e.node);
  return new Map(nodes.map((n) => [n.clientId, n.lastIntegratedClientVersion]));
}

/**
 * Every database equals the server, which holds each car once, as written, and has
 * integrated every changeset of every database.
 */
async function expectConverged(dbs: SyncedDatabase[], store: SyncStore, http: Http) {
  const server = await serverScope(store, CARS, 'cars');
  expect(server).toHaveLength(DATABASES * WRITES);
  for (let d = 0; d < DATABASES; d++) {
    for (let i = 0; i < WRITES; i++) {
      const doc = server.find((x) => x._id === `d${d}-c${i}`);
      const seen = i % 3 === 1 && i + 1 < WRITES ? { seen: i + 1 } : {};
      expect(doc).toEqual({ ...car(`d${d}-c${i}`, `make-${i}`), ...seen });
    }
  }
  for (const db of dbs) expect(clientDocs(db, 'cars')).toEqual(server);
  const versions = await integrated(http);
  for (const db of dbs) expect(versions.get(db.clientId)).toBe(db.meta.clientVersion);
}

interface Attempt {
  /** The operation's root field: uploadChanges, openSession, ... */
  field: string;
  sessionId?: string;
  /** An upload's first changeset's client version. */
  from?: number;
  /** Refused as retryable (LIMIT_EXCEEDED). */
  refused: boolean;
  /** Requests sent before this one; and before its answer came. */
  sent: number;
  answered: number;
}

type UploadVariables = { sessionId?: string; changesets?: { clientVersion: number }[] };

/** Observes the app's requests (the real ones, unchanged): what each was, whether refused. */
function watchRequests(shared: App): Attempt[] {
  const attempts: Attempt[] = [];
  let requests = 0;
  const request = shared.request.bind(shared);
  shared.request = ((document, variables, signal) => {
    const answer = request(document, variables, signal);
    const field = /\{\s*(\w+)/.exec(String(document))?.[1] ?? '?';
    const { sessionId, changesets } = variables as UploadVariables;
    const attempt = { field, sessionId, from: changesets?.[0]?.clientVersion, sent: requests++ };
    answer.then(
      () => attempts.push({ ...attempt, refused: false, answered: requests }),
      (e: SyncClientError) =>
        attempts.push({ ...attempt, refused: e.retryable, answered: requests }),
    );
    return answer;
  }) as App['request'];
  return attempts;
}

/**
 * After each refused upload, the session's next one sent once the refusal was known starts
 * at the same version (one already in flight behind it, the SDK sending two at once, does not
 * count: its answer is dropped).
 */
function expectRetriedFromSameVersion(attempts: Attempt[]): void {
  const uploads = attempts
    .filter((a) => a.field === 'uploadChanges' && a.from !== undefined)
    .sort((a, b) => a.sent - b.sent);
  expect(uploads.filter((a) => a.refused).length).toBeGreaterThan(0);
  for (const attempt of uploads.filter((a) => a.refused)) {
    const next = uploads.find(
      (a) => a.sent >= attempt.answered && a.sessionId === attempt.sessionId,
    );
    expect(next?.from).toBe(attempt.from);
  }
}

/** The databases, opened at once: their sessions are opened together on the one socket. */
function openAll(shared: App): Promise<SyncedDatabase[]> {
  const open = (d: number) =>
    openSyncedDatabase(shared, { clientId: `device-${d}`, queries: CARS.queries });
  return Promise.all(Array.from({ length: DATABASES }, (_, d) => open(d)));
}

describe('the SDK on a socket with few slots', () => {
  it('waits for its slots (MAX_OPERATIONS_PER_SOCKET=8) and converges, refused nothing', async () => {
    gw = await startTestGateway({ env: { MAX_OPERATIONS_PER_SOCKET: '8' } });
    const token = await gw.token('alice');
    const dbs = await openAll(app(gw.gateway.wsUrl, token));
    const errors = dbs.flatMap((db) => collectErrors(db));
    await writeAndSync(dbs);
    await expectConverged(dbs, gw.gateway.core.store, (q) => gw!.http(q, {}, token));
    expect(errors).toEqual([]);
  }, 60_000);

  it('past the bound on waiting ones: refused, retried from the same version, converges', async () => {
    lgw = await startLimitedGateway({
      limits: { maxOperationsPerSocket: 8, maxWaitingOperationsPerSocket: 1 },
    });
    const token = await lgw.token('alice');
    const shared = app(lgw.wsUrl, token);
    const attempts = watchRequests(shared);
    const dbs = await openAll(shared);
    const errors: SyncClientError[] = [];
    for (const db of dbs) db.syncSession.onError((e) => errors.push(e));
    await writeAndSync(dbs, 2);
    const http: Http = async (q) => (await lgw!.http(q, {}, token)).body;
    await expectConverged(dbs, lgw.base.gateway.core.store, http);
    expect(errors.map((e) => e.code).filter((c) => c !== 'LIMIT_EXCEEDED')).toEqual([]);
    expectRetriedFromSameVersion(attempts);
  }, 60_000);

  it('a refused openSession is sent again, and the session then uploads', async () => {
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { userOpsPerSecond: 10 } });
    const token = await lgw.token('alice');
    // Another socket of alice's spends her burst (20 operations); the clock stands still.
    const other = lgw.ws(token);
    for (let i = 0; i < 20; i++) await wsRequest(other, SESSIONS);
    const shared = app(lgw.wsUrl, token);
    const attempts = watchRequests(shared);
    const db = await openSyncedDatabase(shared, { clientId: 'phone', queries: CARS.queries });
    const errors = collectErrors(db);
    for (let i = 0; i < 5; i++) await db.write((tx) => tx.insert('cars', car(`c${i}`, 'Kia')));
    await until(() => attempts.some((a) => a.field === 'openSession' && a.refused), 'a refusal');
    const deadline = Date.now() + 15_000;
    while (db.snapshot.pending.length > 0) {
      if (Date.now() > deadline) throw new Error('the uploads never went through');
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await db.syncSession.waitForDownload();
    const opens = attempts.filter((a) => a.field === 'openSession');
    expect(opens.at(-1)?.refused).toBe(false);
    const store = lgw.base.gateway.core.store;
    expect(clientDocs(db, 'cars')).toEqual(await serverScope(store, CARS, 'cars'));
    expect(await serverScope(store, CARS, 'cars')).toHaveLength(5);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((e) => !e.retryable)).toEqual([]);
  }, 30_000);
});
