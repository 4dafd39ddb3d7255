/**
 * The scope a store is asked for (src/sync/scope-pushdown.ts) is a superset of the scope
 * mingo decides: what a filter and a read rule translate to, and, over generated documents
 * and filters (arrays, nested arrays, nulls, missing fields, numbers, strings that look like
 * numbers, $or, $in, operators that do not translate), that the SQLite store's narrowed
 * scans never leave out a document `Scope.includes` takes, with and without its indexes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { JsonObject, SyncQuery } from '../src/sync/model.js';
import { UserPermissions, type RulesConfig } from '../src/sync/permissions.js';
import { ANY, NONE } from '../src/sync/scope-condition.js';
import { pushdown, ruleIndexes } from '../src/sync/scope-pushdown.js';
import { eitherScopeConditions, Scope, scopeOf } from '../src/sync/scope.js';
import { doc, filter, READ_RULES, USERS } from './helpers/scope-arbitraries.js';
import { sessionRecord } from './store-contract.js';

describe('pushdown', () => {
  it('translates equalities, $in, $and and $or of them', () => {
    expect(pushdown({ ownerId: 'u1' })).toEqual({ path: 'ownerId', in: ['u1'] });
    expect(pushdown({ 'a.b': { $eq: 2 } })).toEqual({ path: 'a.b', in: [2] });
    expect(pushdown({ done: false, n: { $in: [1, 2, 1] } })).toEqual({
      and: [
        { path: 'done', in: [false] },
        { path: 'n', in: [1, 2] },
      ],
    });
    expect(pushdown({ $or: [{ a: 'x' }, { $and: [{ b: 'y' }, { c: true }] }] })).toEqual({
      or: [
        { path: 'a', in: ['x'] },
        {
          and: [
            { path: 'b', in: ['y'] },
            { path: 'c', in: [true] },
          ],
        },
      ],
    });
  });

  it('leaves out what it cannot translate with the same or a wider meaning', () => {
    const untranslated: JsonObject[] = [
      { a: null },
      { a: ['x'] },
      { a: { b: 1 } },
      { a: 0.5 },
      { a: 2 ** 53 + 2 },
      { a: '\uD800' },
      { a: { $ne: 'x' } },
      { a: { $in: ['x', null] } },
      { a: { $gt: 1 } },
      { a: { $exists: true } },
      { a: { $regex: '^x' } },
      { a: { $all: ['x'] } },
      { $nor: [{ a: 'x' }] },
      { $expr: { $eq: ['$a', 'x'] } },
      { 'tags.0': 'x' },
      { 'odd-name': 'x' },
      { $or: [{ a: 'x' }, { b: { $ne: 1 } }] },
    ];
    for (const filter of untranslated)
      expect(pushdown(filter), JSON.stringify(filter)).toEqual(ANY);
    expect(pushdown(null)).toEqual(ANY);
    expect(pushdown({ a: 'x', b: { $ne: 1 } })).toEqual({ path: 'a', in: ['x'] });
  });

  it('makes an empty $in an equality with no value (nothing, but an array along the path)', () => {
    expect(pushdown({ a: { $in: [] } })).toEqual({ path: 'a', in: [] });
  });

  it('names the paths the read rules test, per collection, the default for any other', () => {
    const rules: RulesConfig = {
      default: { read: { ownerId: '%%user.id' }, write: true },
      collections: {
        posts: { read: { $or: [{ authorId: '%%user.id' }, { public: true }] }, write: true },
        open: { read: true, write: true },
      },
    };
    expect(ruleIndexes(rules)).toEqual([
      { collection: 'posts', path: 'authorId' },
      { collection: 'posts', path: 'public' },
      { collection: null, path: 'ownerId' },
    ]);
  });

  it('a scope narrows by its queries and read rule; a collection outside it reads nothing', () => {
    const perms = new UserPermissions(
      { default: { read: { ownerId: '%%user.id' }, write: true }, collections: {} },
      'u1',
    );
    const queries: SyncQuery[] = [
      { collection: 'cars', filter: { color: 'red' } },
      { collection: 'cars', filter: { color: 'blue' } },
    ];
    const scope = new Scope(queries, perms);
    expect(scope.storeConditions()).toEqual(
      new Map([
        [
          'cars',
          {
            and: [
              {
                or: [
                  { path: 'color', in: ['red'] },
                  { path: 'color', in: ['blue'] },
                ],
              },
              { path: 'ownerId', in: ['u1'] },
            ],
          },
        ],
      ]),
    );
    const none = new Scope([], perms);
    expect(eitherScopeConditions(none, none)).toEqual(new Map());
    expect(none.queryCondition('cars')).toEqual(NONE);
  });
});

// ---- generated documents and filters: test/helpers/scope-arbitraries.ts --------------

async function storeWith(docs: JsonObject[], rules: RulesConfig, indexed: boolean) {
  const store = new SqliteStore(':memory:');
  await store.openSession(sessionRecord('s', 'c'));
  if (indexed)
    await store.ensureScopeIndexes([...ruleIndexes(rules), { collection: null, path: 'n' }]);
  const documents = docs.map((d, i) => ({
    collection: 'items',
    id: `d${i}`,
    doc: { ...d, _id: `d${i}` },
  }));
  await store.integrate('s', [], () => ({
    session: {
      lastIntegratedClientVersion: 1,
      latestClientVersion: 1,
      uploadedBytes: 0,
      pendingBytes: 0,
      uploadBaselineBytes: 0,
      lastSyncedAt: 'T',
    },
    documents: documents.map((d) => ({ ...d, state: { fields: {}, ins: 'T', del: null } })),
    history: documents.map((d) => ({
      ...d,
      clientId: 'c',
      clientVersion: 1,
      before: null,
      after: d.doc,
      committedAt: 'T',
    })),
    result: null,
  }));
  return store;
}

/** Whether the store returns every document the scope includes, by version and by id. */
async function storeCoversScope(
  docs: JsonObject[],
  filters: JsonObject[],
  read: RulesConfig['default']['read'],
  indexed: boolean,
) {
  const rules: RulesConfig = { default: { read, write: true }, collections: {} };
  const queries = filters.map((f) => ({ collection: 'items', filter: f }));
  let scopes: Scope[];
  try {
    scopes = USERS.map((u) => new Scope(queries, new UserPermissions(rules, u)));
  } catch {
    return; // a filter the gateway refuses
  }
  const store = await storeWith(docs, rules, indexed);
  try {
    const all = await store.scanDocumentsByVersion(['items'], 0, 1e9, 1e6);
    for (const scope of scopes) {
      const wanted = all.filter((d) => scope.includes('items', d.doc)).map((d) => d.id);
      const byVersion = await store.scanDocumentsByVersion(
        ['items'],
        0,
        1e9,
        1e6,
        scope.storeConditions(),
      );
      expect(byVersion.map((d) => d.id)).toEqual(expect.arrayContaining(wanted));
      const where = eitherScopeConditions(scope, new Scope([], new UserPermissions(rules, 'u1')));
      const byId = await store.scanDocuments('items', '', 1e6, where.get('items'));
      expect(byId.map((d) => d.id)).toEqual(expect.arrayContaining(wanted));
    }
  } finally {
    await store.close();
  }
}

describe('a store scan narrowed to a scope', () => {
  it('never leaves out a document the scope includes (generated documents and filters)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(doc, { maxLength: 30 }),
        fc.array(filter, { minLength: 1, maxLength: 2 }),
        fc.constantFrom(...READ_RULES),
        fc.boolean(),
        storeCoversScope,
      ),
      { numRuns: 300 },
    );
  });
});

describe('scopeOf', () => {
  const rules: RulesConfig = {
    default: { read: { ownerId: '%%user.id' }, write: true },
    collections: {},
  };
  const cars = (filter: JsonObject | null): SyncQuery[] => [{ collection: 'cars', filter }];

  it('gives streams of the same queries and permissions one scope, any other its own', () => {
    const alice = new UserPermissions(rules, 'alice');
    const shared = scopeOf(cars({ n: 1 }), alice);
    expect(scopeOf(cars({ n: 1 }), alice)).toBe(shared);
    expect(scopeOf(cars({ n: 2 }), alice)).not.toBe(shared);
    expect(scopeOf(cars(null), alice)).not.toBe(shared);
    const bob = scopeOf(cars({ n: 1 }), new UserPermissions(rules, 'bob'));
    expect(bob).not.toBe(shared);
    expect(bob.key).not.toBe(shared.key);
    // The shared one decides as a fresh one does.
    const fresh = new Scope(cars({ n: 1 }), alice);
    for (const d of [
      { ownerId: 'alice', n: 1 },
      { ownerId: 'alice', n: 2 },
      { ownerId: 'bob', n: 1 },
    ]) {
      expect(shared.includes('cars', d)).toBe(fresh.includes('cars', d));
    }
    expect(shared.key).toBe(fresh.key);
  });
});
