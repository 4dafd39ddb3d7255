/**
 * The SDK keeps two uploads in flight (client/src/uploader.ts): a backlog goes up while the
 * gateway commits the batch before, never three at once, answers taken in the order sent;
 * the client and the server end equal, every changeset integrated once, nothing refused.
 * The gateway hands one session's uploads to its store in the order they came
 * (src/sync/upload-turns.ts), so the one sent behind is never refused for a gap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  App,
  LocalDatabase,
  MemoryStorage,
  openSyncedDatabase,
  type StorageCommit,
  type SyncClientError,
} from '../client/src/index.js';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startLimitedGateway, type LimitedGateway } from './helpers/limited-gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, FAST_BACKOFF, sdkApp, until } from './helpers/sdk.js';

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };
const WRITES = 3500;
const SESSIONS = '{ sessions { edges { node { clientId lastIntegratedClientVersion } } } }';

let gw: TestGateway | undefined;
let lgw: LimitedGateway | undefined;
let app: App | undefined;

afterEach(async () => {
  await app?.close();
  await gw?.close();
  await lgw?.close();
  gw = lgw = app = undefined;
});

interface Uploads {
  /** The most uploads ever in flight at once. */
  maxInFlight: number;
  /** Each upload's first and last client version, in the order sent. */
  sent: [number, number][];
  failed: SyncClientError[];
}

/** Watches the app's real requests: how many uploads are in flight at once, what each sent. */
function watchUploads(shared: App): Uploads {
  const seen: Uploads = { maxInFlight: 0, sent: [], failed: [] };
  let inFlight = 0;
  const request = shared.request.bind(shared);
  shared.request = ((document, variables, signal) => {
    const answer = request(document, variables, signal);
    const changesets = (variables as { changesets?: { clientVersion: number }[] }).changesets;
    if (!changesets) return answer;
    seen.sent.push([changesets[0]!.clientVersion, changesets.at(-1)!.clientVersion]);
    seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
    const done = () => (inFlight -= 1);
    answer.then(done, (error: SyncClientError) => {
      done();
      seen.failed.push(error);
    });
    return answer;
  }) as App['request'];
  return seen;
}

describe('the SDK with two uploads in flight', () => {
  it('sends a backlog two at a time, in order, and ends equal to the server', async () => {
    // No rate limit here: the uploads go as fast as the gateway takes them.
    gw = await startTestGateway({ env: { CLIENT_CHANGESETS_PER_SECOND: '0' } });
    app = await sdkApp(gw, 'alice');
    const uploads = watchUploads(app);
    const db = await openSyncedDatabase(app, { clientId: 'phone', queries: CARS.queries });
    const errors: SyncClientError[] = [];
    db.syncSession.onError((e) => errors.push(e));
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < WRITES; i++) {
      writes.push(db.write((tx) => tx.insert('cars', car(`c${i}`, `make-${i % 7}`))));
    }
    await Promise.all(writes);
    await db.syncSession.waitForUpload();
    await db.syncSession.waitForDownload();

    expect(uploads.maxInFlight).toBe(2);
    expect(uploads.failed).toEqual([]);
    expect(errors).toEqual([]);
    // Each upload starts right after the one sent before it: nothing skipped, nothing twice.
    uploads.sent.forEach(([from], i) =>
      expect(from).toBe(i === 0 ? 1 : uploads.sent[i - 1]![1] + 1),
    );
    expect(uploads.sent.at(-1)![1]).toBe(WRITES);

    const server = await serverScope(gw.gateway.core.store, CARS, 'cars');
    expect(server).toHaveLength(WRITES);
    expect(clientDocs(db, 'cars')).toEqual(server);
    const { data } = await gw.http(SESSIONS, {}, await gw.token('alice'));
    expect(data).toEqual({
      sessions: { edges: [{ node: { clientId: 'phone', lastIntegratedClientVersion: WRITES } }] },
    });
  }, 60_000);

  it('goes on after failing to record an acknowledgement locally: reported, and sent again', async () => {
    gw = await startTestGateway({ env: { CLIENT_CHANGESETS_PER_SECOND: '0' } });
    app = await sdkApp(gw, 'alice');
    const storage = new AckFailingStorage();
    const db = await openSyncedDatabase(app, {
      clientId: 'phone',
      queries: CARS.queries,
      storage,
    });
    const errors: SyncClientError[] = [];
    db.syncSession.onError((e) => errors.push(e));
    await db.write((tx) => tx.insert('cars', car('a', 'Kia')));
    await until(() => storage.failed > 0, 'the failed acknowledgement', 10_000);
    await db.write((tx) => tx.insert('cars', car('b', 'VW')));
    await db.syncSession.waitForUpload();
    await db.syncSession.waitForDownload();

    expect(errors.map((e) => e.message)).toContain('disk full');
    expect(db.snapshot.pending).toEqual([]);
    const server = await serverScope(gw.gateway.core.store, CARS, 'cars');
    expect(server.map((d) => d._id)).toEqual(['a', 'b']);
    expect(clientDocs(db, 'cars')).toEqual(server);
  }, 30_000);
});

describe('the SDK with two uploads in flight, under a rate limit', () => {
  it('retries a refused upload alone, so the one behind it does not starve it of budget', async () => {
    // 100 changesets/s, bursts of 200, on a clock that moves only when the test says.
    const clock = new ManualClock();
    lgw = await startLimitedGateway({ clock, limits: { clientChangesetsPerSecond: 100 } });
    const token = await lgw.token('alice');
    // A backlog made offline: 330 changesets of 10 changes, so uploads of 100, 100, 100, 30.
    const storage = new MemoryStorage();
    const offline = await LocalDatabase.open({ clientId: 'phone', storage });
    for (let i = 0; i < 330; i++) {
      const ids = Array.from({ length: 10 }, (_, j) => `c${i}-${j}`);
      await offline.write((tx) => ids.forEach((id) => tx.insert('cars', car(id, 'Kia'))));
    }
    app = new App({ url: lgw.wsUrl, token, webSocketImpl: WebSocket, backoff: FAST_BACKOFF });
    const refusals = { count: 0 };
    // Each rate-limit refusal lets 300 ms pass (30 changesets of budget): less than an
    // upload of 100 needs. Sent behind a refused one, the upload of 30 would take them.
    const request = app.request.bind(app);
    app.request = ((document, variables, signal) => {
      const answer = request(document, variables, signal);
      answer.catch((e: SyncClientError) => {
        if (e.code !== 'LIMIT_EXCEEDED') return;
        refusals.count += 1;
        clock.advance(300);
      });
      return answer;
    }) as App['request'];
    const db = await openSyncedDatabase(app, { clientId: 'phone', queries: CARS.queries, storage });
    const errors: SyncClientError[] = [];
    db.syncSession.onError((e) => errors.push(e));
    await until(() => db.snapshot.pending.length === 0, 'the backlog', 20_000);
    await db.syncSession.waitForDownload();

    expect(refusals.count).toBeLessThan(30);
    // Only the rate limit's refusals reach the app (a gap refusal behind one is not acted on).
    expect(errors.filter((e) => e.code !== 'LIMIT_EXCEEDED')).toEqual([]);
    const server = await serverScope(lgw.base.gateway.core.store, CARS, 'cars');
    expect(server).toHaveLength(3300);
    expect(clientDocs(db, 'cars')).toEqual(server);
  }, 30_000);
});

/** A storage whose first commit of an acknowledgement fails. */
class AckFailingStorage extends MemoryStorage {
  failed = 0;
  override async commit(commit: StorageCommit): Promise<void> {
    // Acknowledged: kept until downloaded, or dropped at once if the download is there.
    const acknowledging =
      commit.putChangesets?.some((cs) => cs.acknowledgedAt !== null) ||
      (commit.deleteChangesets?.length ?? 0) > 0;
    if (acknowledging && this.failed === 0) {
      this.failed += 1;
      throw new Error('disk full');
    }
    return super.commit(commit);
  }
}
