/**
 * A bootstrap is a versioned snapshot: pages of documents in version order, each a batch
 * with a real server version the client acknowledges, up to `bootstrapUntil`; an
 * interrupted one resumes from the last acknowledged page. Over real graphql-ws sockets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { stream } from './helpers/stream.js';
import { SyncTestClient, type Batch, type ChangeInput } from './helpers/sync-client.js';

const BATCH = 2;
let gw: TestGateway;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  gw = await startTestGateway({ clock, env: { DOWNLOAD_BATCH_SIZE: String(BATCH) } });
});
afterEach(() => gw.close());

async function client(user: string, clientId: string, filter?: unknown) {
  const c = new SyncTestClient(gw.ws(await gw.token(user)), clientId);
  await c.open([{ collection: 'cars', filter }]);
  return c;
}

const insert = (id: string, owner: string, extra: Record<string, unknown> = {}): ChangeInput => ({
  collection: 'cars',
  id,
  op: 'INSERT',
  document: { ownerId: owner, ...extra },
});
const update = (id: string, set: Record<string, unknown>): ChangeInput => ({
  collection: 'cars',
  id,
  op: 'UPDATE',
  set,
});
const remove = (id: string): ChangeInput => ({ collection: 'cars', id, op: 'DELETE' });

/** What the server holds in a scope: `collection/id` → document, in id order. */
async function serverScope(pick: (doc: Record<string, unknown>) => boolean) {
  const docs = await gw.gateway.core.store.scanDocuments('cars', '', 1000);
  return new Map(docs.filter((d) => d.doc && pick(d.doc)).map((d) => [`cars/${d.id}`, d.doc]));
}

const sorted = (docs: Map<string, unknown>) => [...docs].sort(([a], [b]) => a.localeCompare(b));

const CHANGES = `subscription ($s: ID!, $since: Int, $until: Int) {
  changes(sessionId: $s, since: $since, bootstrapUntil: $until) {
    fromServerVersion toServerVersion bootstrapUntil queriesVersion changes { id op } } }`;
interface Changes {
  changes: Pick<
    Batch,
    'fromServerVersion' | 'toServerVersion' | 'bootstrapUntil' | 'queriesVersion'
  > & {
    changes: { id: string; op: string }[];
  };
}

describe('a bootstrap', () => {
  it('sends pages with increasing real versions, each acknowledgeable, ending at bootstrapUntil', async () => {
    const alice = await client('alice', 'a-writer');
    const bob = await client('bob', 'b-writer');
    // Alice's and Bob's cars interleave: the store does not even read Bob's (the read rule
    // narrows its scan). Alice's two red cars in a row, outside her reader's filter (which
    // the store cannot narrow by: $ne), fill a page with nothing in scope.
    await alice.upload([insert('a1', 'alice'), insert('a2', 'alice')]);
    await bob.upload([insert('b1', 'bob'), insert('b2', 'bob')]);
    await alice.upload([insert('r1', 'alice', { color: 'red' })]);
    await alice.upload([insert('r2', 'alice', { color: 'red' })]);
    await alice.upload([insert('a3', 'alice')]);
    const latest = await gw.gateway.core.store.latestVersion();

    const reader = await client('alice', 'a-reader', { color: { $ne: 'red' } });
    const batches = stream<Changes>(reader.ws, CHANGES, { s: reader.sessionId, since: 0 });
    const received: Changes['changes'][] = [];
    do {
      const batch = (await batches.next()).data!.changes;
      received.push(batch);
      const ack = await reader.request(
        `mutation ($s: ID!, $v: Int!) { acknowledgeDownload(sessionId: $s, serverVersion: $v) { lastDownloadedServerVersion } }`,
        { s: reader.sessionId, v: batch.toServerVersion },
      );
      expect(ack).toEqual({
        data: { acknowledgeDownload: { lastDownloadedServerVersion: batch.toServerVersion } },
      });
    } while (received.at(-1)!.toServerVersion < latest);

    expect(received.map((b) => [b.fromServerVersion, b.toServerVersion])).toEqual([
      [0, 2],
      [2, 6],
      [6, 7],
    ]);
    expect(received.map((b) => b.changes.map((c) => c.id))).toEqual([['a1', 'a2'], [], ['a3']]);
    expect(received.every((b) => b.bootstrapUntil === latest && b.queriesVersion === 0)).toBe(true);
    expect(received.flatMap((b) => b.changes).every((c) => c.op === 'UPSERT')).toBe(true);

    // Then the history, from bootstrapUntil on.
    await alice.upload([insert('a4', 'alice')]);
    const history: Changes['changes'][] = [];
    do history.push((await batches.next()).data!.changes);
    while (history.at(-1)!.changes.length === 0);
    expect(history[0]).toMatchObject({ fromServerVersion: latest, bootstrapUntil: null });
    expect(history.every((b) => b.bootstrapUntil === null)).toBe(true);
    expect(history.at(-1)!.changes).toEqual([{ id: 'a4', op: 'UPSERT' }]);
    batches.stop();
  });

  it('of an empty store is one batch from 0 to 0', async () => {
    const reader = await client('alice', 'a-reader');
    const batches = stream<Changes>(reader.ws, CHANGES, { s: reader.sessionId });
    expect((await batches.next()).data!.changes).toEqual({
      fromServerVersion: 0,
      toServerVersion: 0,
      bootstrapUntil: 0,
      queriesVersion: 0,
      changes: [],
    });
    batches.stop();
  });

  it('interrupted after a middle page and resumed with since and bootstrapUntil ends with exactly the scope', async () => {
    const writer = await client('alice', 'a-writer');
    const bob = await client('bob', 'b-writer');
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']) {
      await writer.upload([insert(id, 'alice', { n: 1 })]);
    }
    await bob.upload([insert('b1', 'bob')]);
    const until = await gw.gateway.core.store.latestVersion();
    const beforeInterruption = clock.now().getTime();
    clock.advance(1000);

    // The reader takes two pages, acknowledges them, and loses everything after them.
    const reader = await client('alice', 'a-reader');
    reader.accept = () => reader.batches.length < 2;
    reader.startDownload(0);
    await reader.until(() => reader.acknowledgedVersion === 4);
    reader.stopDownload();
    expect([...reader.docs.keys()]).toEqual(['cars/a1', 'cars/a2', 'cars/a3', 'cars/a4']);
    expect(reader.batches.map((b) => b.bootstrapUntil)).toEqual([until, until]);

    // Meanwhile: inserted, updated (received and not yet), deleted (received and not yet).
    await writer.upload([insert('a7', 'alice', { n: 1 })]);
    await writer.upload([update('a2', { n: 2 }), update('a5', { n: 2 })]);
    await writer.upload([remove('a1'), remove('a6')]);
    await bob.upload([insert('b2', 'bob')]);
    // The history the pages cover is compacted: only they can bring what is left of it.
    await gw.gateway.core.store.compactHistory(new Date(beforeInterruption + 1).toISOString());
    expect((await gw.gateway.core.store.readHistory(0, 1))[0]?.version).toBe(until + 1);

    reader.accept = () => true;
    reader.startDownload(reader.acknowledgedVersion, until);
    const latest = await gw.gateway.core.store.latestVersion();
    await reader.until(() => reader.acknowledgedVersion >= latest);
    const resumed = reader.batches.slice(2);
    // The pages left, (4, until], then history from until.
    expect(resumed[0]).toMatchObject({ fromServerVersion: 4, bootstrapUntil: until });
    const history = resumed.filter((b) => b.bootstrapUntil === null);
    expect(history[0]?.fromServerVersion).toBe(until);
    expect(sorted(reader.docs)).toEqual(sorted(await serverScope((d) => d.ownerId === 'alice')));
    expect([...reader.docs.keys()].sort()).toEqual([
      'cars/a2',
      'cars/a3',
      'cars/a4',
      'cars/a5',
      'cars/a7',
    ]);
  });

  it('cannot resume when the history after bootstrapUntil was compacted: the client must reset', async () => {
    const writer = await client('alice', 'a-writer');
    for (const id of ['a1', 'a2', 'a3']) await writer.upload([insert(id, 'alice')]);
    const reader = await client('alice', 'a-reader');
    reader.accept = () => reader.batches.length < 1;
    reader.startDownload(0);
    await reader.until(() => reader.acknowledgedVersion === 2);
    reader.stopDownload();
    await writer.upload([insert('a4', 'alice')]);
    const compacted = clock.now().getTime() + 1;
    clock.advance(1000);
    await writer.upload([insert('a5', 'alice')]);
    await gw.gateway.core.store.compactHistory(new Date(compacted).toISOString());
    const resumed = stream(reader.ws, CHANGES, { s: reader.sessionId, since: 2, until: 3 });
    expect((await resumed.next()).errors?.[0]?.extensions?.code).toBe('CLIENT_RESET_REQUIRED');
  });

  it('resumed with bootstrapUntil equal to since follows the history from there', async () => {
    const writer = await client('alice', 'a-writer');
    await writer.upload([insert('a1', 'alice')]);
    await writer.upload([insert('a2', 'alice')]);
    const reader = await client('alice', 'a-reader');
    const batches = stream<Changes>(reader.ws, CHANGES, {
      s: reader.sessionId,
      since: 1,
      until: 1,
    });
    expect((await batches.next()).data!.changes).toEqual({
      fromServerVersion: 1,
      toServerVersion: 2,
      bootstrapUntil: null,
      queriesVersion: 0,
      changes: [{ id: 'a2', op: 'UPSERT' }],
    });
    batches.stop();
  });

  it('refuses a bootstrapUntil before since or after the latest version, naming it', async () => {
    const writer = await client('alice', 'a-writer');
    await writer.upload([insert('a1', 'alice')]);
    await writer.upload([insert('a2', 'alice')]);
    for (const variables of [
      { since: 2, until: 1 },
      { since: 1, until: 3 },
      { since: 0, until: -1 },
      { until: 5 },
    ]) {
      const refused = stream(writer.ws, CHANGES, { s: writer.sessionId, ...variables });
      const { errors } = await refused.next();
      expect(errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'bootstrapUntil',
      });
      expect(errors?.[0]?.message).toMatch(/^bootstrapUntil: /);
    }
  });
});
