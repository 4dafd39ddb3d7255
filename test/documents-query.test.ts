/**
 * `documents(collection, first, after)` through a real gateway: every document the caller
 * may read, once, in id order, page by page; never another user's; a page reads at most
 * DOCUMENT_PAGE.maxScanned documents from the store however few are readable, with a
 * sealed cursor to go on from (it does not tell the ids it passed); bad input names its
 * field; a cursor opens on every gateway with the same secret, over HTTP and sockets.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DOCUMENT_PAGE } from '../src/schema/document-connection.js';
import { OPERATION_LIMITS } from '../src/server/yoga.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Viewer } from '../src/sync/model.js';
import type { ScopeCondition } from '../src/sync/scope-condition.js';
import {
  startTestGateway,
  wsRequest,
  type GqlResult,
  type TestGateway,
} from './helpers/gateway.js';
import { hlc } from './helpers/sync-client.js';

/**
 * The real SQLite store, counting the documents `scanDocuments` reads per request. With
 * `narrow` off it ignores the condition a scan may be narrowed by, as a store may (the
 * condition says what it may skip, not what it must): then every document is read.
 */
class CountingStore extends SqliteStore {
  scanned = 0;
  narrow = true;
  override async scanDocuments(
    collection: string,
    afterId: string,
    limit: number,
    where?: ScopeCondition,
  ) {
    const page = await super.scanDocuments(
      collection,
      afterId,
      limit,
      this.narrow ? where : undefined,
    );
    this.scanned += page.length;
    return page;
  }
}

interface Page {
  documents: {
    edges: { cursor: string; node: { _id: string; ownerId: string; n: number } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

const PAGE = `query Page($collection: String!, $first: Int, $after: String) {
  documents(collection: $collection, first: $first, after: $after) {
    edges { cursor node }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

type Change = { collection: string; id: string; op: 'INSERT' | 'DELETE'; document?: object };

/** Uploads the changes as `viewer`, at most 1000 to a changeset. */
async function write(gw: TestGateway, viewer: Viewer, changes: Change[]) {
  const core = gw.gateway.core;
  const session = await core.openSession(viewer, `seed-${viewer.id}`, []);
  let version = session.lastIntegratedClientVersion;
  for (let i = 0; i < changes.length; i += 1000) {
    version += 1;
    const changeset = {
      clientVersion: version,
      timestamp: hlc(),
      changes: changes.slice(i, i + 1000),
    };
    await core.uploadChanges(viewer, session.id, [changeset]);
  }
}

const insert = (collection: string, id: string, ownerId: string, n = 0): Change => ({
  collection,
  id,
  op: 'INSERT',
  document: { ownerId, n },
});

/** Every page of `collection` for `token`, following endCursor while hasNextPage. */
async function allPages(gw: TestGateway, token: string, collection: string, first?: number) {
  const pages: Page['documents'][] = [];
  let after: string | null = null;
  for (;;) {
    const result: GqlResult<Page> = await gw.http<Page>(PAGE, { collection, first, after }, token);
    expect(result.errors).toBeUndefined();
    const page = result.data!.documents;
    pages.push(page);
    if (!page.pageInfo.hasNextPage) return pages;
    expect(page.pageInfo.endCursor).toBeTruthy();
    after = page.pageInfo.endCursor;
    if (pages.length > 100) throw new Error('no end');
  }
}

const ids = (pages: Page['documents'][]) => pages.flatMap((p) => p.edges.map((e) => e.node._id));
const alice: Viewer = { id: 'alice', roles: [] };
const bob: Viewer = { id: 'bob', roles: [] };

describe('documents(collection, first, after)', () => {
  let gw: TestGateway;
  let store: CountingStore;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    store = new CountingStore(':memory:');
    gw = await startTestGateway({ store });
    aliceToken = await gw.token('alice');
    bobToken = await gw.token('bob');
    // todos: 45 of alice's and 60 of bob's, interleaved in id order; then 5 deleted.
    const todos = Array.from({ length: 105 }, (_, i) => {
      const id = `t${String(i).padStart(3, '0')}`;
      return insert('todos', id, i % 7 < 3 ? 'alice' : 'bob', i);
    });
    await write(
      gw,
      alice,
      todos.filter((c) => (c.document as { ownerId: string }).ownerId === 'alice'),
    );
    await write(
      gw,
      bob,
      todos.filter((c) => (c.document as { ownerId: string }).ownerId === 'bob'),
    );
    await write(gw, alice, [
      { collection: 'todos', id: 't000', op: 'DELETE' },
      { collection: 'todos', id: 't001', op: 'DELETE' },
    ]);
    // big: 2500 of bob's, then 3 of alice's at the end of the id order.
    const big = Array.from({ length: 2500 }, (_, i) =>
      insert('big', `b${String(i).padStart(5, '0')}`, 'bob', i),
    );
    await write(gw, bob, big);
    await write(gw, alice, [
      insert('big', 'z1', 'alice'),
      insert('big', 'z2', 'alice'),
      insert('big', 'z3', 'alice'),
    ]);
  });
  afterAll(() => gw?.close());

  it("pages through the caller's documents in id order, each once, and never another user's", async () => {
    const expected = Array.from({ length: 105 }, (_, i) => i)
      .filter((i) => i % 7 < 3 && i > 1)
      .map((i) => `t${String(i).padStart(3, '0')}`);
    expect(expected).toHaveLength(43);

    const pages = await allPages(gw, aliceToken, 'todos', 20);
    expect(ids(pages)).toEqual(expected);
    expect(pages.map((p) => p.edges.length)).toEqual([20, 20, 3]);
    for (const page of pages) {
      for (const edge of page.edges) expect(edge.node.ownerId).toBe('alice');
      expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
    }
    expect(pages[0]!.pageInfo.hasPreviousPage).toBe(false);
    expect(pages[1]!.pageInfo.hasPreviousPage).toBe(true);
    // A full page ends at its last edge, and the next page starts right after it.
    expect(pages[0]!.pageInfo.endCursor).toBe(pages[0]!.edges[19]!.cursor);

    const bobs = ids(await allPages(gw, bobToken, 'todos'));
    expect(bobs).toHaveLength(60);
    expect(bobs.filter((id) => expected.includes(id))).toEqual([]);
    // The default page size.
    const first = await gw.http<Page>(PAGE, { collection: 'todos' }, bobToken);
    expect(first.data!.documents.edges).toHaveLength(DOCUMENT_PAGE.defaultFirst);
  });

  it('answers an empty page for a collection with nothing (or nothing readable) in it', async () => {
    const empty = await gw.http<Page>(PAGE, { collection: 'nothingHere' }, aliceToken);
    expect(empty.data!.documents).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it("reads the caller's documents, not the collection: the read rule narrows the store's scan", async () => {
    store.scanned = 0;
    const page = await gw.http<Page>(PAGE, { collection: 'big', first: 10 }, aliceToken);
    expect(page.errors).toBeUndefined();
    expect(page.data!.documents.edges.map((e) => e.node._id)).toEqual(['z1', 'z2', 'z3']);
    expect(page.data!.documents.pageInfo.hasNextPage).toBe(false);
    expect(store.scanned).toBe(3);
  });

  it('reads at most maxScanned documents per page when few are readable, and goes on from its cursor', async () => {
    // A store that does not narrow (or a rule that cannot narrow it) reads everything.
    store.narrow = false;
    onTestFinished(() => void (store.narrow = true));
    const scans: number[] = [];
    const pages: Page['documents'][] = [];
    let after: string | null = null;
    do {
      store.scanned = 0;
      const result: GqlResult<Page> = await gw.http<Page>(
        PAGE,
        { collection: 'big', first: 10, after },
        aliceToken,
      );
      expect(result.errors).toBeUndefined();
      scans.push(store.scanned);
      pages.push(result.data!.documents);
      after = result.data!.documents.pageInfo.endCursor;
    } while (pages[pages.length - 1]!.pageInfo.hasNextPage && pages.length < 10);

    expect(DOCUMENT_PAGE.maxScanned).toBe(1000);
    expect(scans).toEqual([1000, 1000, 503]);
    expect(pages.map((p) => p.edges.length)).toEqual([0, 0, 3]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(ids(pages)).toEqual(['z1', 'z2', 'z3']);
    // The cursor of an empty page is where the scan stopped, sealed: bob's ids are not in it.
    const cursor = pages[0]!.pageInfo.endCursor!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toContain('b00999');
    expect(cursor).not.toContain('b00999');

    // Bob, who reads them all, gets full pages from as few documents as it takes.
    store.scanned = 0;
    const full = await gw.http<Page>(PAGE, { collection: 'big', first: 100 }, bobToken);
    expect(full.data!.documents.edges).toHaveLength(100);
    expect(full.data!.documents.pageInfo.hasNextPage).toBe(true);
    expect(store.scanned).toBeLessThanOrEqual(DOCUMENT_PAGE.scanBatch);
  });

  it('refuses a bad collection name, page size or cursor with BAD_USER_INPUT naming the field', async () => {
    const refused = async (variables: Record<string, unknown>, field: string) => {
      const result = await gw.http<Page>(PAGE, { collection: 'todos', ...variables }, aliceToken);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.extensions?.field).toBe(field);
      expect(result.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
    };
    await refused({ collection: '__sync_sessions' }, 'collection');
    await refused({ collection: 'no-dashes' }, 'collection');
    await refused({ first: 0 }, 'first');
    await refused({ first: DOCUMENT_PAGE.maxFirst + 1 }, 'first');
    await refused({ after: 't050' }, 'after');
    await refused({ after: 'not a cursor!' }, 'after');
    // A cursor of another collection, and one changed by a character.
    const big = await gw.http<Page>(PAGE, { collection: 'big', first: 1 }, bobToken);
    const cursor = big.data!.documents.pageInfo.endCursor!;
    await refused({ after: cursor }, 'after');
    const flipped = cursor.slice(0, -2) + (cursor.at(-2) === 'A' ? 'B' : 'A') + cursor.at(-1);
    const edited = await gw.http<Page>(PAGE, { collection: 'big', after: flipped }, bobToken);
    expect(edited.errors?.[0]?.extensions?.field).toBe('after');
  });

  it('needs a viewer', async () => {
    const result = await gw.http<Page>(PAGE, { collection: 'todos' });
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('fits the cost limit at the largest page with every field', async () => {
    const query = `{ documents(collection: "todos", first: ${DOCUMENT_PAGE.maxFirst}) {
      edges { cursor node }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }`;
    const result = await gw.http<Page>(query, {}, aliceToken);
    expect(result.errors).toBeUndefined();
    expect(result.data!.documents.edges).toHaveLength(43);
    expect(OPERATION_LIMITS.maxCost).toBeGreaterThan(0);
  });

  it('opens a cursor on another gateway with the same secret, over HTTP and graphql-ws', async () => {
    const page = await gw.http<Page>(PAGE, { collection: 'todos', first: 5 }, aliceToken);
    const after = page.data!.documents.pageInfo.endCursor;
    const next = await gw.http<Page>(PAGE, { collection: 'todos', first: 5, after }, aliceToken);
    await using other = await startTestGateway();
    await write(other, alice, [insert('todos', 't900', 'alice'), insert('todos', 't000', 'alice')]);
    const elsewhere = await other.http<Page>(PAGE, { collection: 'todos', after }, aliceToken);
    expect(elsewhere.errors).toBeUndefined();
    expect(elsewhere.data!.documents.edges.map((e) => e.node._id)).toEqual(['t900']);
    const socket = await wsRequest<Page>(other.ws(aliceToken), PAGE, {
      collection: 'todos',
      after,
    });
    expect(socket.errors).toBeUndefined();
    expect(socket.data!.documents.edges.map((e) => e.node._id)).toEqual(['t900']);
    const sameGatewaySocket = await wsRequest<Page>(gw.ws(aliceToken), PAGE, {
      collection: 'todos',
      first: 5,
      after,
    });
    expect(sameGatewaySocket.data!.documents.edges.map((e) => e.node._id)).toEqual(
      next.data!.documents.edges.map((e) => e.node._id),
    );
  });
});
