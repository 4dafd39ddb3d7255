import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { stream, type Stream } from './helpers/stream.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

interface Progress {
  direction: string;
  progressEstimate: number;
  transferredBytes: number;
  transferableBytes: number;
}
const PROGRESS = `subscription ($s: ID!, $d: ProgressDirection!, $m: ProgressMode!) {
  progress(sessionId: $s, direction: $d, mode: $m) { direction progressEstimate transferredBytes transferableBytes } }`;
const FIXED = 'FOR_CURRENTLY_OUTSTANDING_WORK';
const N = 300;

let gw: TestGateway;
beforeEach(async () => {
  gw = await startTestGateway();
});
afterEach(() => gw.close());

async function client(clientId: string, download = false) {
  const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
  await c.open([{ collection: 'cars' }]);
  if (download) c.startDownload();
  return c;
}

const changeset = (v: number) => ({
  clientVersion: v,
  timestamp: hlc(),
  changes: [
    { collection: 'cars', id: `c${v}`, op: 'INSERT', document: { ownerId: 'alice', n: v } },
  ],
});
const bytesOf = (cs: ReturnType<typeof changeset>) => Buffer.byteLength(JSON.stringify(cs.changes));

function watch(
  c: SyncTestClient,
  sessionId: string,
  direction: string,
  mode: string,
): Stream<{ progress: Progress }> {
  return stream<{ progress: Progress }>(c.ws, PROGRESS, { s: sessionId, d: direction, m: mode });
}

/** Takes values until `last(value)`; checks each is a valid estimate. */
async function collect(s: Stream<{ progress: Progress }>, last: (p: Progress) => boolean) {
  const values: Progress[] = [];
  for (;;) {
    const r = await s.next();
    expect(r.errors).toBeUndefined();
    const p = r.data!.progress;
    expect(p.progressEstimate).toBeGreaterThanOrEqual(0);
    expect(p.progressEstimate).toBeLessThanOrEqual(1);
    values.push(p);
    if (last(p)) return values;
  }
}

function expectFixedShape(values: Progress[]) {
  const estimates = values.map((v) => v.progressEstimate);
  for (let i = 1; i < estimates.length; i += 1)
    expect(estimates[i]).toBeGreaterThanOrEqual(estimates[i - 1]!);
  expect(estimates.filter((e) => e === 1)).toHaveLength(1);
  expect(estimates[estimates.length - 1]).toBe(1);
}

describe('upload progress', () => {
  it('for the outstanding work: rises to exactly one 1.0 over hundreds of changesets, then completes', async () => {
    const a = await client('a');
    const all = Array.from({ length: N }, (_, i) => changeset(i + 1));
    let pending = all.reduce((n, cs) => n + bytesOf(cs), 0);
    await a.uploadRaw([], N);
    await a.request(
      `mutation ($s: ID!, $p: Float) { uploadChanges(sessionId: $s, changesets: [], pendingBytes: $p) { serverVersion } }`,
      { s: a.sessionId, p: pending },
    );
    const watcher = await client('w');
    const s = watch(watcher, a.sessionId, 'UPLOAD', FIXED);
    const first = (await s.next()).data!.progress;
    expect(first).toMatchObject({
      direction: 'UPLOAD',
      progressEstimate: 0,
      transferableBytes: pending,
    });
    for (let i = 0; i < N; i += 10) {
      const group = all.slice(i, i + 10);
      pending -= group.reduce((n, cs) => n + bytesOf(cs), 0);
      expect(
        (
          await a.request(
            `mutation ($s: ID!, $cs: [ChangesetInput!]!, $p: Float) { uploadChanges(sessionId: $s, changesets: $cs, pendingBytes: $p) { lastIntegratedClientVersion } }`,
            { s: a.sessionId, cs: group, p: pending },
          )
        ).errors,
      ).toBeUndefined();
    }
    const values = [first, ...(await collect(s, (p) => p.progressEstimate === 1))];
    expectFixedShape(values);
    await s.completed;
  });

  it('indefinitely: 1.0 when idle, below it while work is reported, 1.0 again after', async () => {
    const a = await client('a');
    const s = watch(a, a.sessionId, 'UPLOAD', 'REPORT_INDEFINITELY');
    expect((await s.next()).data!.progress.progressEstimate).toBe(1);
    await a.uploadRaw([], 2);
    expect((await s.next()).data!.progress.progressEstimate).toBeLessThan(1);
    await a.uploadRaw([changeset(1), changeset(2)]);
    expect((await s.next()).data!.progress.progressEstimate).toBe(1);
    s.stop();
  });

  it('is a field of the session too', async () => {
    const a = await client('a');
    await a.uploadRaw([changeset(1)], 3);
    const r = await a.request<{ session: { uploadProgress: Progress } }>(
      `query ($s: ID!) { session(id: $s) { uploadProgress { direction progressEstimate } } }`,
      { s: a.sessionId },
    );
    expect(r.data!.session.uploadProgress.direction).toBe('UPLOAD');
    expect(r.data!.session.uploadProgress.progressEstimate).toBeLessThan(1);
  });
});

describe('download progress', () => {
  async function writeMany(writer: SyncTestClient, from: number, count: number) {
    for (let v = from; v < from + count; v += 50) {
      const group = Array.from({ length: 50 }, (_, i) => changeset(v + i));
      expect((await writer.uploadRaw(group)).errors).toBeUndefined();
    }
  }

  it('for the outstanding work: fixed at subscription, non-decreasing, exactly one 1.0, then completes', async () => {
    const writer = await client('writer');
    const reader = await client('reader');
    await writeMany(writer, 1, N);
    const s = watch(writer, reader.sessionId, 'DOWNLOAD', FIXED);
    const first = (await s.next()).data!.progress;
    expect(first.progressEstimate).toBe(0);
    expect(first.transferableBytes).toBeGreaterThan(0);
    reader.startDownload();
    await writeMany(writer, N + 1, 100);
    const values = [first, ...(await collect(s, (p) => p.progressEstimate === 1))];
    expectFixedShape(values);
    await s.completed;
  });

  it('indefinitely: follows new work and returns to 1.0 when the client has caught up', async () => {
    const writer = await client('writer');
    const reader = await client('reader', true);
    const s = watch(writer, reader.sessionId, 'DOWNLOAD', 'REPORT_INDEFINITELY');
    expect((await s.next()).data!.progress.progressEstimate).toBe(1);
    await writeMany(writer, 1, 100);
    const values = await collect(s, (p) => p.progressEstimate === 1);
    expect(values.some((v) => v.progressEstimate < 1)).toBe(true);
    s.stop();
  });

  it("measures toward the store's latest version, read once per turn for every subscriber", async () => {
    const { core } = gw.gateway;
    const store = core.store;
    const read = store.latestVersion.bind(store);
    let reads = 0;
    store.latestVersion = () => {
      reads += 1;
      return read();
    };
    const c = await client('c-turns');
    const car = (n: number) => ({
      collection: 'cars',
      id: `t${n}`,
      op: 'INSERT' as const,
      document: { ownerId: 'alice', n },
    });
    await c.upload([car(1)]);
    const latest = await read();
    reads = 0;
    const asked = await Promise.all(Array.from({ length: 50 }, () => core.latestVersion()));
    expect(asked).toEqual(Array.from({ length: 50 }, () => latest));
    expect(reads).toBe(1);
    // A later turn reads again: a commit since then is counted.
    await c.upload([car(2)]);
    expect(await core.latestVersion()).toBe(latest + 1);
    expect(reads).toBe(2);
  });

  it('answers 1.0 at once when nothing is outstanding, and completes, leaving nothing behind', async () => {
    const reader = await client('reader');
    const s = watch(reader, reader.sessionId, 'DOWNLOAD', FIXED);
    expect((await s.next()).data!.progress).toMatchObject({
      progressEstimate: 1,
      transferableBytes: 0,
    });
    await s.completed;
    const { core } = gw.gateway;
    while (core.sessionUpdates.count(reader.sessionId) > 0)
      await new Promise((r) => setImmediate(r));
    expect(core.feed.listenerCount).toBe(0);
  });
});
