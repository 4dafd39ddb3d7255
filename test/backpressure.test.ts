/**
 * A subscriber that stops reading must not make the gateway buffer: the download stream
 * reads a batch from the store only when the previous one has reached the socket.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startTestGateway } from './helpers/gateway.js';
import { hlc } from './helpers/sync-client.js';

/** The real SQLite store, counting the pages the download streams read. */
class CountingStore extends SqliteStore {
  pagesRead = 0;
  override async scanDocumentsByVersion(
    collections: readonly string[],
    afterVersion: number,
    upToVersion: number,
    limit: number,
  ) {
    this.pagesRead += 1;
    return super.scanDocumentsByVersion(collections, afterVersion, upToVersion, limit);
  }
}

const DOCS = 3000;
const BATCH = 10;

/** Resolves once `read()` has not changed for `turns` consecutive checks. */
async function settled(read: () => number, turns = 30): Promise<number> {
  let last = -1;
  let same = 0;
  while (same < turns) {
    await new Promise((r) => setTimeout(r, 10));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

async function seed(core: Awaited<ReturnType<typeof startTestGateway>>['gateway']['core']) {
  const viewer = { id: 'alice', roles: [] };
  const session = await core.openSession(viewer, 'seeder', []);
  const padding = 'x'.repeat(8000);
  for (let v = 1; v <= DOCS / 1000; v += 1) {
    const changes = Array.from({ length: 1000 }, (_, i) => ({
      collection: 'cars',
      id: `c${v}-${String(i).padStart(4, '0')}`,
      op: 'INSERT' as const,
      document: { ownerId: 'alice', padding },
    }));
    await core.uploadChanges(viewer, session.id, [{ clientVersion: v, timestamp: hlc(), changes }]);
  }
}

describe('a subscriber that stops reading', () => {
  it('holds the stream back instead of buffering, then gets everything when it reads again', async () => {
    const store = new CountingStore(':memory:');
    await using gw = await startTestGateway({ store, env: { DOWNLOAD_BATCH_SIZE: String(BATCH) } });
    await seed(gw.gateway.core);
    const token = await gw.token('alice');
    const session = await gw.gateway.core.openSession({ id: 'alice', roles: [] }, 'slow', [
      { collection: 'cars' },
    ]);
    const socket = new WebSocket(gw.gateway.wsUrl, 'graphql-transport-ws');
    let received = 0;
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as {
        type: string;
        payload?: { data?: { changes: { changes: unknown[] } } };
      };
      if (msg.type === 'connection_ack') {
        const query = `subscription ($s: ID!) { changes(sessionId: $s, since: 0) { changes { id document } } }`;
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query, variables: { s: session.id } },
          }),
        );
        (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      }
      received += msg.payload?.data?.changes.changes.length ?? 0;
    });
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));

    const pagesWhilePaused = await settled(() => store.pagesRead);
    expect(pagesWhilePaused).toBeGreaterThan(0);
    expect(pagesWhilePaused).toBeLessThan(DOCS / BATCH / 3);

    (socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await settled(() => received);
    expect(received).toBe(DOCS);
    socket.close();
  });
});
