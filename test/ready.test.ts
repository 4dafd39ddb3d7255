/**
 * /health and /ready on a real gateway. /ready fails (503, naming what failed) when the
 * store's calls fail or hang (the real SqliteStore object with its method wrapped), while
 * shutting down, and, with several gateways, when another gateway's commit is never
 * signalled. Time moves on a ManualClock.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { Readiness } from '../src/server/readiness.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { loadRules } from '../src/sync/permissions.js';
import { SyncCore } from '../src/sync/sync-core.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { hlc } from './helpers/sync-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startTestGateway>[0] = {}) {
  const gw = await startTestGateway(options);
  cleanups.push(() => gw.close());
  return gw;
}

async function probe(gw: TestGateway, path: '/health' | '/ready') {
  const response = await fetch(new URL(path, gw.gateway.url));
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, connection: response.headers.get('connection') };
}

/** A promise and the function that resolves it. */
function signal() {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

describe('/health and /ready', () => {
  it('answer 200 while the gateway serves and its store answers', async () => {
    const gw = await start();
    expect(await probe(gw, '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await probe(gw, '/ready')).toMatchObject({
      status: 200,
      body: {
        status: 'ready',
        checks: {
          store: { ok: true, latestVersion: 0 },
          signals: { ok: true, mode: 'single gateway: no signals' },
        },
      },
    });
  });
});

describe('/ready and the store', () => {
  it('is 503 naming the store while its calls fail, and 200 again once they answer', async () => {
    const store = new SqliteStore(':memory:');
    const gw = await start({ store });
    const latestVersion = store.latestVersion.bind(store);
    store.latestVersion = () => Promise.reject(new Error('disk I/O error'));
    expect(await probe(gw, '/ready')).toEqual({
      status: 503,
      connection: 'keep-alive',
      body: {
        status: 'unavailable',
        failed: ['store'],
        checks: { store: { ok: false, error: 'latestVersion(): disk I/O error' } },
      },
    });
    expect((await probe(gw, '/health')).status).toBe(200);
    store.latestVersion = latestVersion;
    expect((await probe(gw, '/ready')).status).toBe(200);
  });

  it("is 503 naming the SQLite writer thread once it has stopped (the gateway's own store)", async () => {
    const gw = await start();
    expect((await probe(gw, '/ready')).status).toBe(200);
    const store = gw.gateway.core.store as unknown as {
      writer: { thread: { worker: import('node:worker_threads').Worker } };
    };
    await store.writer.thread.worker.terminate();
    expect(await probe(gw, '/ready')).toMatchObject({
      status: 503,
      body: {
        failed: ['store'],
        checks: {
          store: {
            ok: false,
            error: expect.stringMatching(
              /^latestVersion\(\): the SQLite writer thread stopped: it ended \(exit code 1\)$/,
            ),
          },
        },
      },
    });
  });

  it('is 503 when the store does not answer within a second', async () => {
    const clock = new ManualClock();
    const store = new SqliteStore(':memory:');
    const gw = await start({ store, clock });
    const called = signal();
    store.latestVersion = () => {
      called.fire();
      return new Promise<number>(() => {}); // hangs
    };
    const answer = probe(gw, '/ready');
    await called.fired;
    clock.advance(1_000);
    expect(await answer).toMatchObject({
      status: 503,
      body: {
        failed: ['store'],
        checks: { store: { ok: false, error: 'latestVersion(): no answer within 1000 ms' } },
      },
    });
  });

  it('asks the store once for concurrent probes', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const store = { latestVersion: () => Promise.resolve((calls += 1)) };
    const deps = {
      store,
      knownVersion: () => 1,
      clock,
      multiGateway: false,
      stopping: () => false,
    };
    const readiness = new Readiness(deps);
    const [a, b] = await Promise.all([readiness.check(), readiness.check()]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    await readiness.check();
    expect(calls).toBe(2);
  });
});

describe('/ready while shutting down', () => {
  it('is 503 naming the shutdown, while /health stays 200; both close their connection', async () => {
    const clock = new ManualClock();
    const gw = await start({ clock });
    // A request whose body never comes keeps the shutdown (and so the port) open. The
    // server says 100 Continue once it has taken the request in.
    const busy: Socket = connect(gw.gateway.port, '127.0.0.1');
    busy.on('error', () => undefined);
    const taken = new Promise<void>((resolve) => busy.once('data', () => resolve()));
    busy.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\nExpect: 100-continue\r\n\r\n',
    );
    await taken;
    const closing = gw.gateway.close('test');
    expect(await probe(gw, '/ready')).toEqual({
      status: 503,
      connection: 'close',
      body: {
        status: 'unavailable',
        failed: ['shutdown'],
        checks: { shutdown: { ok: false, error: 'the gateway is shutting down' } },
      },
    });
    expect(await probe(gw, '/health')).toMatchObject({ status: 200, connection: 'close' });
    clock.advance(gw.config.shutdownTimeoutMs); // cuts the busy connection
    await closing;
    busy.destroy();
  });
});

describe('/ready with several gateways', () => {
  it("is 503 naming the signals when another gateway's commit is not signalled within 10 s", async () => {
    const clock = new ManualClock();
    const gw = await start({ clock, file: true, env: { MULTI_GATEWAY: 'true' } });
    // Another gateway's writes, whose signals never reach this one.
    const other = new SyncCore({
      store: new SqliteStore(join(gw.dataDir, 'gateway.sqlite')),
      rules: loadRules(undefined),
      clock,
      limits: { maxDocumentBytes: 1 << 20, maxChangesPerUpload: 100 },
      downloadBatchSize: 100,
      maxOfflineMs: 60_000,
    });
    cleanups.push(() => other.store.close());
    const bob = { id: 'bob', roles: [] };
    const session = await other.openSession(bob, 'bobs-phone', [{ collection: 'cars' }]);
    const document = { ownerId: 'bob' };
    const changes = [{ collection: 'cars', id: 'c1', op: 'INSERT' as const, document }];
    const ack = await other.uploadChanges(bob, session.id, [
      { clientVersion: 1, timestamp: hlc(), changes },
    ]);

    const waiting = await probe(gw, '/ready');
    expect(waiting).toMatchObject({
      status: 200,
      body: { checks: { signals: { ok: true, knownVersion: 0 } } },
    });
    clock.advance(10_001);
    const deaf = await probe(gw, '/ready');
    expect(deaf).toMatchObject({
      status: 503,
      body: { status: 'unavailable', failed: ['signals'] },
    });
    expect((deaf.body.checks as { signals: { error: string } }).signals.error).toBe(
      `no signal of version ${ack.serverVersion} arrived within 10001 ms of its being in the store (this gateway knows 0)`,
    );
    gw.gateway.core.feed.advance(ack.serverVersion); // what the signal would have done
    expect((await probe(gw, '/ready')).status).toBe(200);
  });
});
