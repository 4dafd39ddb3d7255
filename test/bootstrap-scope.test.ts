/**
 * A bootstrap reads only the scope's share of a collection from the store (the query
 * filters and the read rule pushed down, src/sync/scope-pushdown.ts), and still delivers
 * exactly the scope: through the real gateway, one user among many, for filters on arrays,
 * nulls, missing fields, numbers, $or, $in and operators that do not translate, the client
 * ends with what `Scope.includes` picks out of every document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/sync/model.js';
import { OWNER_RULES, UserPermissions, type RulesConfig } from '../src/sync/permissions.js';
import { Scope } from '../src/sync/scope.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient, type ChangeInput } from './helpers/sync-client.js';

const RULES: RulesConfig = {
  default: { read: OWNER_RULES.read, write: true },
  collections: {
    posts: { read: { $or: [{ ownerId: '%%user.id' }, { public: true }] }, write: true },
  },
};
const USERS = Array.from({ length: 12 }, (_, i) => `user${i}`);

/** Documents of tricky shapes, for one owner (or a list of owners). */
function shapes(owner: string): JsonObject[] {
  return [
    { ownerId: owner, tags: ['red', 'blue'], n: 1 },
    { ownerId: owner, tags: 'red', n: '1', flag: 1 },
    { ownerId: owner, n: 2, flag: true, maybe: null },
    { ownerId: owner, n: 2.5, a: { b: 'x' } },
    { ownerId: owner, a: [{ b: 'x' }, { b: 'y' }], tags: [['red']] },
    { ownerId: owner, a: { b: [['x']] }, n: [1, 2] },
    { ownerId: owner, n: true, public: true },
    { ownerId: owner, flag: false, public: 'yes' },
    { ownerId: [owner, 'someone'], n: 3 },
    { ownerId: { id: owner }, n: 1 },
    { n: 1, public: true },
    { ownerId: null, tags: [] },
  ];
}

const FILTERS: (JsonObject | null)[] = [
  null,
  { tags: 'red' },
  { n: 1 },
  { n: { $in: [1, '2', true, 2.5] } },
  { flag: true },
  { maybe: null },
  { maybe: { $exists: false } },
  { 'a.b': 'x' },
  { $or: [{ n: 2 }, { tags: 'blue' }] },
  { $or: [{ n: 2 }, { n: { $gt: 2 } }] },
  { n: { $ne: 1 } },
  { tags: { $size: 2 } },
  { $expr: { $eq: ['$n', 2] } },
  { ownerId: 'user3' },
  { ownerId: { $in: ['user0', 'user1'] }, public: true },
  { $and: [{ n: { $in: [1, 3] } }, { tags: { $nin: ['blue'] } }] },
  { tags: { $in: [] } },
];

let gw: TestGateway;
const all: { collection: string; doc: JsonObject }[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ rules: RULES, env: { DOWNLOAD_BATCH_SIZE: '5' } });
  const writer = new SyncTestClient(gw.ws(await gw.token('writer')), 'writer');
  await writer.open([{ collection: 'items' }]);
  // Users' documents interleave in version order, as they would in a shared collection.
  for (const [i, user] of USERS.entries()) {
    const changes: ChangeInput[] = ['items', 'posts'].flatMap((collection) =>
      shapes(user).map((document, j) => ({
        collection,
        id: `${user}-${j}`,
        op: 'INSERT' as const,
        document: i % 3 === 0 && j === 0 ? { ...document, ownerId: [user, 'user1'] } : document,
      })),
    );
    const result = await writer.upload(changes);
    expect(result.errors).toBeUndefined();
  }
  for (const collection of ['items', 'posts']) {
    const docs = await gw.gateway.core.store.scanDocuments(collection, '', 10_000);
    all.push(...docs.map((d) => ({ collection, doc: d.doc! })));
  }
});
afterAll(() => gw.close());

/** What the user's bootstrap brings for `filter` on both collections, and what it should. */
async function bootstrap(user: string, filter: JsonObject | null, clientId: string) {
  const queries = ['items', 'posts'].map((collection) => ({ collection, filter }));
  const client = new SyncTestClient(gw.ws(await gw.token(user)), clientId);
  await client.open(queries);
  client.startDownload(0);
  await client.until(() => {
    const last = client.batches.at(-1);
    return last !== undefined && last.toServerVersion === last.bootstrapUntil;
  });
  client.stopDownload();
  const scope = new Scope(queries, new UserPermissions(RULES, user));
  const expected = all
    .filter((d) => scope.includes(d.collection, d.doc))
    .map((d) => `${d.collection}/${String(d.doc._id)}`);
  return { got: [...client.docs.keys()].sort(), expected: expected.sort() };
}

describe('a bootstrap narrowed by the store', () => {
  it.each(FILTERS.map((f, i) => [i, f] as const))(
    'delivers exactly the scope (filter %i: %j)',
    async (i, filter) => {
      for (const user of ['user1', 'user3']) {
        const { got, expected } = await bootstrap(user, filter, `reader-${user}-${i}`);
        expect(got).toEqual(expected);
      }
    },
  );

  it('the scopes are not trivial: some documents in each, never all', async () => {
    const { got } = await bootstrap('user1', null, 'reader-all');
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(all.length);
  });
});
