import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  startTestGateway,
  wsRequest,
  type GqlResult,
  type TestGateway,
} from './helpers/gateway.js';
import { hlc } from './helpers/sync-client.js';

let gw: TestGateway;
let alice: string;
let bob: string;
let sessionId: string;

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id lastIntegratedClientVersion } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) { uploadChanges(sessionId: $s, changesets: $cs) {
  lastIntegratedClientVersion serverVersion compensatingWrites { collection id reason document } } }`;

const insert = (id: string, document: unknown) => ({
  collection: 'cars',
  id,
  op: 'INSERT',
  document,
});
const changeset = (clientVersion: number, changes: unknown[], timestamp = hlc()) => ({
  clientVersion,
  timestamp,
  changes,
});

beforeAll(async () => {
  gw = await startTestGateway({ env: { MAX_DOCUMENT_BYTES: '1024' } });
  alice = await gw.token('alice');
  bob = await gw.token('bob');
  const r = await gw.http<{ openSession: { id: string } }>(
    OPEN,
    { input: { clientId: 'alice-phone', queries: [{ collection: 'cars' }] } },
    alice,
  );
  sessionId = r.data!.openSession.id;
});
afterAll(() => gw.close());

async function expectNothingWritten() {
  expect(await gw.gateway.core.store.readHistory(0, 10)).toEqual([]);
  const [session] = await gw.gateway.core.store.getSessions([sessionId]);
  expect(session?.lastIntegratedClientVersion).toBe(0);
}

async function expectRejected(
  changesets: unknown[],
  code: string,
  field: string,
  token = alice,
  s = sessionId,
) {
  const r = await gw.http(UPLOAD, { s, cs: changesets }, token);
  expect(r.data).toBeNull();
  expect(r.errors?.[0]?.extensions?.code).toBe(code);
  expect(r.errors?.[0]?.message).toContain(field);
  await expectNothingWritten();
}

describe('malformed changesets are refused with the field named, and nothing is written', () => {
  const valid = insert('ok', { ownerId: 'alice' });
  it.each([
    [
      'INSERT without a document',
      [changeset(1, [valid]), changeset(2, [{ collection: 'cars', id: 'c', op: 'INSERT' }])],
      'changesets[1].changes[0].document',
    ],
    [
      'UPDATE with nothing to change',
      [changeset(1, [{ collection: 'cars', id: 'c', op: 'UPDATE' }])],
      'changesets[0].changes[0].set',
    ],
    [
      'DELETE with a document',
      [changeset(1, [{ ...valid, op: 'DELETE' }])],
      'changesets[0].changes[0].document',
    ],
    [
      'a bad collection name',
      [changeset(1, [{ ...valid, collection: '$cars' }])],
      'changesets[0].changes[0].collection',
    ],
    ['an empty id', [changeset(1, [{ ...valid, id: '' }])], 'changesets[0].changes[0].id'],
    [
      'a document that is not an object',
      [changeset(1, [insert('c', [1, 2])])],
      'changesets[0].changes[0].document',
    ],
    [
      'a mismatched _id',
      [changeset(1, [insert('c', { _id: 'other', ownerId: 'alice' })])],
      'changesets[0].changes[0].document._id',
    ],
    [
      'a dotted field name',
      [changeset(1, [insert('c', { 'a.b': 1, ownerId: 'alice' })])],
      'changesets[0].changes[0].document.a.b',
    ],
    [
      'a timestamp in another format',
      [changeset(1, [valid], '2026-11-26 10:00')],
      'changesets[0].timestamp',
    ],
    [
      'client versions that do not increase',
      [changeset(1, [valid]), changeset(1, [valid])],
      'changesets[1].clientVersion',
    ],
    ['a skipped client version', [changeset(2, [valid])], 'changesets[0].clientVersion'],
    [
      'a date that does not exist',
      [changeset(1, [valid], '2026-02-30T10:00:00.000Z-0001')],
      'changesets[0].timestamp',
    ],
    [
      'a timestamp far ahead of the gateway',
      [changeset(1, [valid], '9999-12-31T23:59:59.999Z-9999')],
      'ahead of the gateway',
    ],
    [
      'a __proto__ field',
      [changeset(1, [insert('c', JSON.parse('{"__proto__": {"x": 1}, "ownerId": "alice"}'))])],
      'changesets[0].changes[0].document.__proto__',
    ],
    [
      'a nested operator-like field name',
      [changeset(1, [insert('c', { ownerId: 'alice', meta: { tags: [{ $set: 1 }] } })])],
      'changesets[0].changes[0].document.meta.tags[0]: is not a well-formed Extended JSON value',
    ],
    [
      'a malformed Extended JSON value',
      [changeset(1, [insert('c', { ownerId: 'alice', ref: { $oid: 'nope' } })])],
      'changesets[0].changes[0].document.ref: is not a well-formed Extended JSON value',
    ],
    [
      'a field name with a "$" beside others',
      [changeset(1, [insert('c', { ownerId: 'alice', at: { $date: '2026-01-01', x: 1 } })])],
      'changesets[0].changes[0].document.at',
    ],
    [
      'a nested __proto__ field',
      [changeset(1, [insert('c', JSON.parse('{"ownerId": "alice", "m": {"__proto__": {}}}'))])],
      'changesets[0].changes[0].document.m.__proto__',
    ],
    [
      'a document nested too deeply',
      [
        changeset(1, [
          insert('c', { ownerId: 'alice', deep: JSON.parse('['.repeat(70) + ']'.repeat(70)) }),
        ]),
      ],
      'nests deeper than 64 levels',
    ],
    [
      'an oversize document',
      [changeset(1, [insert('big', { ownerId: 'alice', blob: 'x'.repeat(2000) })])],
      'over the limit',
    ],
  ])('%s', async (_name, changesets, field) => {
    await expectRejected(changesets, 'BAD_USER_INPUT', field);
  });

  it('a GraphQL-invalid op is refused before anything runs', async () => {
    const r = await gw.http(
      UPLOAD,
      { s: sessionId, cs: [changeset(1, [{ ...valid, op: 'UPSERT' }])] },
      alice,
    );
    expect(r.errors?.[0]?.message).toContain('op');
    await expectNothingWritten();
  });
});

describe('sessions and users', () => {
  it('an unknown session is NOT_FOUND', async () => {
    await expectRejected(
      [changeset(1, [insert('c', { ownerId: 'alice' })])],
      'NOT_FOUND',
      'sessionId',
      alice,
      'ses_nope',
    );
  });

  it("another user's session is NOT_FOUND too, so its existence is not revealed", async () => {
    await expectRejected(
      [changeset(1, [insert('c', { ownerId: 'bob' })])],
      'NOT_FOUND',
      'sessionId',
      bob,
    );
    const r = await gw.http<{ session: null; node: null }>(
      `query ($id: ID!) { session(id: $id) { id } node(id: $id) { id } }`,
      { id: sessionId },
      bob,
    );
    expect(r.data).toEqual({ session: null, node: null });
    const odd = await gw.http(`{ node(id: "zzz_1") { id } }`, {}, bob);
    expect(odd).toEqual({ data: { node: null } });
  });

  it('a client id bound to one user is refused to another', async () => {
    const r = await gw.http(OPEN, { input: { clientId: 'alice-phone', queries: [] } }, bob);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0]?.message).toContain('input.clientId');
  });

  it('a user lists only their own sessions; an admin lists all', async () => {
    await gw.http(OPEN, { input: { clientId: 'bob-phone', queries: [] } }, bob);
    const list = `{ sessions(first: 10) { edges { node { clientId user { id } } } pageInfo { hasNextPage } } }`;
    const mine = await gw.http<{ sessions: { edges: { node: { clientId: string } }[] } }>(
      list,
      {},
      bob,
    );
    expect(mine.data!.sessions.edges.map((e) => e.node.clientId)).toEqual(['bob-phone']);
    const all = await gw.http<{ sessions: { edges: unknown[] } }>(
      list,
      {},
      await gw.token('root', ['admin']),
    );
    expect(all.data!.sessions.edges).toHaveLength(2);
  });

  it('a bad query filter is refused naming it', async () => {
    const r = await gw.http(
      OPEN,
      {
        input: {
          clientId: 'x',
          queries: [{ collection: 'cars', filter: { year: { $bogus: 1 } } }],
        },
      },
      alice,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('queries[0].filter');
  });

  it('more queries than a session may hold are refused', async () => {
    const queries = Array.from({ length: 101 }, (_, i) => ({ collection: 'cars', filter: { i } }));
    const r = await gw.http(OPEN, { input: { clientId: 'many', queries } }, alice);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toBe('queries: holds 101 queries; a session may hold 100');
    const { sessions } = await gw.gateway.core.store.listSessions({ limit: 100 });
    expect(sessions.map((x) => x.clientId)).not.toContain('many');
  });
});

describe('authentication', () => {
  it('refuses HTTP operations without a token', async () => {
    const r = await gw.http(`{ sessions { edges { cursor } } }`, {}, null);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a forged token', async () => {
    const r = await gw.http(`{ sessions { edges { cursor } } }`, {}, `${alice.slice(0, -4)}AAAA`);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('closes a graphql-ws connection with a forged token (4403)', async () => {
    const client = createClient({
      url: gw.gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authToken: `${alice.slice(0, -4)}AAAA` },
    });
    const closed = new Promise<number>((resolve) =>
      client.on('closed', (e) => resolve((e as { code: number }).code)),
    );
    client.subscribe(
      { query: '{ __typename }' },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    expect(await closed).toBe(4403);
    await client.dispose();
  });

  it('refuses operations on an anonymous socket, unless they bring a token (as GraphiQL does)', async () => {
    const client = gw.ws(null);
    const query = '{ sessions { edges { node { clientId } } } }';
    const anonymous = await wsRequest(client, query);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const headers = { Authorization: `Bearer ${alice}` };
    const withToken = await new Promise<GqlResult>((resolve, reject) => {
      let result: GqlResult | undefined;
      client.subscribe(
        { query, extensions: { headers } },
        { next: (v) => (result = v as GqlResult), error: reject, complete: () => resolve(result!) },
      );
    });
    expect(withToken.errors).toBeUndefined();
    const forged = { Authorization: `Bearer ${alice.slice(0, -4)}AAAA` };
    const refused = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query, extensions: { headers: forged } },
        { next: () => undefined, error: resolve, complete: () => undefined },
      );
    });
    expect(refused).toMatchObject([{ extensions: { code: 'UNAUTHENTICATED' } }]);
  });
});

describe('permissions', () => {
  it('refuses blind writes into a document someone else will own', async () => {
    const bob = await gw.token('bob');
    const bobSession = await gw.http<{ openSession: { id: string } }>(
      OPEN,
      { input: { clientId: 'bob-blind', queries: [] } },
      bob,
    );
    const blind = await gw.http<{ uploadChanges: { compensatingWrites: { id: string }[] } }>(
      UPLOAD,
      {
        s: bobSession.data!.openSession.id,
        cs: [
          changeset(1, [
            { collection: 'notes', id: 'n1', op: 'UPDATE', set: { title: 'written by bob' } },
            { collection: 'notes', id: 'n2', op: 'DELETE' },
          ]),
        ],
      },
      bob,
    );
    expect(blind.data!.uploadChanges.compensatingWrites.map((w) => w.id)).toEqual(['n1', 'n2']);
    const alice2 = await gw.http<{ openSession: { id: string } }>(
      OPEN,
      { input: { clientId: 'alice-notes', queries: [] } },
      alice,
    );
    const inserted = await gw.http<{ uploadChanges: { compensatingWrites: unknown[] } }>(
      UPLOAD,
      {
        s: alice2.data!.openSession.id,
        cs: [
          changeset(1, [
            { collection: 'notes', id: 'n1', op: 'INSERT', document: { ownerId: 'alice' } },
            { collection: 'notes', id: 'n2', op: 'INSERT', document: { ownerId: 'alice' } },
          ]),
        ],
      },
      alice,
    );
    expect(inserted.data!.uploadChanges.compensatingWrites).toEqual([]);
    const docs = await gw.gateway.core.store.getDocuments([
      { collection: 'notes', id: 'n1' },
      { collection: 'notes', id: 'n2' },
    ]);
    expect(docs.map((d) => d?.doc)).toEqual([
      { _id: 'n1', ownerId: 'alice' },
      { _id: 'n2', ownerId: 'alice' },
    ]);
  });

  it('refuses a write outside the rules with a compensating write naming the rule', async () => {
    const open = await gw.http<{ openSession: { id: string } }>(
      OPEN,
      { input: { clientId: 'carol-1', queries: [] } },
      await gw.token('carol'),
    );
    const carol = await gw.token('carol');
    const s = open.data!.openSession.id;
    const r = await gw.http<{
      uploadChanges: {
        compensatingWrites: { id: string; reason: string; document: unknown }[];
        lastIntegratedClientVersion: number;
      };
    }>(
      UPLOAD,
      {
        s,
        cs: [
          changeset(1, [
            insert('stolen', { ownerId: 'dave' }),
            insert('mine', { ownerId: 'carol' }),
          ]),
        ],
      },
      carol,
    );
    expect(r.data!.uploadChanges.lastIntegratedClientVersion).toBe(1);
    expect(r.data!.uploadChanges.compensatingWrites).toEqual([
      {
        collection: 'cars',
        id: 'stolen',
        reason: expect.stringContaining('write rule of "cars"'),
        document: null,
      },
    ]);
    const [stolen, mine] = await gw.gateway.core.store.getDocuments([
      { collection: 'cars', id: 'stolen' },
      { collection: 'cars', id: 'mine' },
    ]);
    expect(stolen).toBeUndefined();
    expect(mine?.doc).toEqual({ _id: 'mine', ownerId: 'carol' });
  });
});

describe('reading documents', () => {
  it('returns a readable document through the loader, and null for another user', async () => {
    const q = `query ($id: ID!) { document(collection: "cars", id: $id) }`;
    const carol = await gw.token('carol');
    expect((await gw.http(q, { id: 'mine' }, carol)).data).toEqual({
      document: { _id: 'mine', ownerId: 'carol' },
    });
    expect((await gw.http(q, { id: 'mine' }, bob)).data).toEqual({ document: null });
  });
});

describe('reserved users', () => {
  it("no token can act as the gateway's own user", async () => {
    const forged = await gw.token('__system');
    const r = await gw.http(`{ sessions { edges { cursor } } }`, {}, forged);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.errors?.[0]?.message).toContain('reserved');
  });
});

describe('ids every store keeps as they are', () => {
  it('refuses an id or a client id holding a lone surrogate, naming the field', async () => {
    const before = await gw.gateway.core.store.latestVersion();
    const upload = await gw.http(
      UPLOAD,
      { s: sessionId, cs: [changeset(1, [insert('\ud800', { ownerId: 'alice' })])] },
      alice,
    );
    expect(upload.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'changesets[0].changes[0].id',
    });
    const r = await gw.http(OPEN, { input: { clientId: 'phone-\udfff', queries: [] } }, alice);
    expect(r.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.clientId',
    });
    expect(await gw.gateway.core.store.latestVersion()).toBe(before);
  });
});
