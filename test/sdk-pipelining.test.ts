/**
 * The SDK keeps two uploads in flight (client/src/uploader.ts): a backlog goes up while the
 * gateway commits the batch before, never three at once, answers taken in the order sent;
 * the client and the server end equal, every changeset integrated once, nothing refused.
 * The gateway hands one session's uploads to its store in the order they came
 * (src/sync/upload-turns.ts), so the one sent behind is never refused for a gap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncedDatabase, type App, type SyncClientError } from '../client/src/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { car, sdkApp } from './helpers/sdk.js';

const CARS = { user: 'alice', queries: [{ collection: 'cars' }] };
const WRITES = 3500;
const SESSIONS = '{ sessions { edges { node { clientId lastIntegratedClientVersion } } } }';

let gw: TestGateway | undefined;
let app: App | undefined;

afterEach(async () => {
  await app?.close();
  await gw?.close();
  gw = app = undefined;
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
});
