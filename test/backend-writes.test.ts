/**
 * Backend writes: another service writes a synced document's visible copy directly. The
 * pure part (what changed, and its stamp) is tested on its own; the sync core's handling is
 * tested through the real gateway on a real SQLite file, where the test edits the visible
 * copy (`documents.doc`) as another service edits a MongoDB plain collection. The MongoDB
 * change stream that notices such writes is tested in test/backend-watch.test.ts.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendChanges, backendTimestamp, hasBackendWrite } from '../src/sync/backend-writes.js';
import type { DocumentState, StoredDocument } from '../src/sync/model.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient } from './helpers/sync-client.js';

const S1 = '2026-11-27T10:00:00.000Z-0003|phone|000000';
const S2 = '2026-11-27T10:00:05.000Z-0000|phone|000001';

const stored = (state: DocumentState, doc: StoredDocument['doc']): StoredDocument => ({
  collection: 'cars',
  id: 'c1',
  state,
  doc,
  version: 3,
});
const written: DocumentState = {
  fields: { make: { v: 'Kia', s: S1 }, seats: { v: 4, s: S1 } },
  ins: S1,
  del: null,
};
const key = { collection: 'cars', id: 'c1' };

describe('what a backend write changed', () => {
  it('is nothing when the copy is what the state says, in any key order', () => {
    const doc = { seats: 4, _id: 'c1', make: 'Kia' };
    expect(hasBackendWrite(stored(written, doc))).toBe(false);
    expect(backendChanges(stored(written, doc))).toEqual([]);
    expect(backendChanges(stored({ fields: {}, ins: null, del: null }, null))).toEqual([]);
  });

  it('is an insert of a document no client wrote, without its _id', () => {
    const none = { fields: {}, ins: null, del: null };
    expect(backendChanges(stored(none, { _id: 'c1', make: 'Volvo' }))).toEqual([
      { ...key, op: 'INSERT', document: { make: 'Volvo' } },
    ]);
  });

  it('is a delete when the copy is gone', () => {
    expect(backendChanges(stored(written, null))).toEqual([{ ...key, op: 'DELETE' }]);
  });

  it('sets changed and new fields and unsets removed ones, nested values by value', () => {
    const state = { ...written, fields: { ...written.fields, tags: { v: { a: 1, b: 2 }, s: S1 } } };
    const doc = { _id: 'c1', make: 'Kia', tags: { b: 2, a: 1 }, color: 'red' };
    expect(backendChanges(stored(state, doc))).toEqual([
      { ...key, op: 'UPDATE', set: { color: 'red' }, unset: ['seats'] },
    ]);
  });

  it('leaves out fields the sync protocol cannot carry', () => {
    const doc = { _id: 'c1', make: 'Kia', seats: 4, $weird: 1, 'a.b': 2 };
    expect(backendChanges(stored(written, doc))).toEqual([]);
    expect(hasBackendWrite(stored(written, doc))).toBe(false);
  });

  it('re-inserts a deleted document, unsetting fields a client wrote after the delete', () => {
    const deleted = {
      fields: { ...written.fields, color: { v: 'red', s: S2 } },
      ins: S1,
      del: S1.replace('-0003', '-0004'),
    };
    expect(backendChanges(stored(deleted, { _id: 'c1', make: 'Fiat' }))).toEqual([
      { ...key, op: 'INSERT', document: { make: 'Fiat' } },
      { ...key, op: 'UPDATE', unset: ['seats', 'color'] },
    ]);
  });
});

describe('the stamp of a backend write', () => {
  it('is now, or just after the newest stamp of the document when that is later', () => {
    expect(backendTimestamp(new Date('2026-11-27T11:00:00.000Z'), written)).toBe(
      '2026-11-27T11:00:00.000Z-0000',
    );
    expect(backendTimestamp(new Date('2026-11-27T09:00:00.000Z'), written)).toBe(
      '2026-11-27T10:00:00.000Z-0004',
    );
    const full = { fields: {}, ins: '2026-11-27T10:00:00.000Z-9999|x|000000', del: null };
    expect(backendTimestamp(new Date('2026-11-27T09:00:00.000Z'), full)).toBe(
      '2026-11-27T10:00:00.001Z-0000',
    );
  });
});

describe('backend writes through the sync core', () => {
  let gw: TestGateway;
  let file: Database.Database;
  beforeEach(async () => {
    gw = await startTestGateway({ file: true });
    file = new Database(`${gw.dataDir}/gateway.sqlite`);
  });
  afterEach(async () => {
    file.close();
    await gw.close();
  });

  /** Another service rewrites the visible copy of a document (null: deletes it). */
  const backendWrite = (id: string, doc: Record<string, unknown> | null) =>
    file
      .prepare('UPDATE documents SET doc = ? WHERE collection = ? AND id = ?')
      .run(doc && JSON.stringify(doc), 'cars', id);

  async function client(user: string, clientId: string) {
    const c = new SyncTestClient(gw.ws(await gw.token(user)), clientId);
    await c.open([{ collection: 'cars' }]);
    c.startDownload();
    return c;
  }
  const history = () => gw.gateway.core.store.readHistory(0, 100);

  it("reach the clients in scope once, and the gateway's own writes never echo", async () => {
    const alice = await client('alice', 'a1');
    const bob = await client('bob', 'b1');
    const doc = { ownerId: 'alice', make: 'Kia' };
    await alice.upload([{ collection: 'cars', id: 'c1', op: 'INSERT', document: doc }]);
    expect(await gw.gateway.core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }])).toBe(
      0,
    );

    backendWrite('c1', { _id: 'c1', ownerId: 'alice', make: 'Kia', recalled: true });
    const core = gw.gateway.core;
    expect(await core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }])).toBe(1);
    expect(await core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }])).toBe(0);
    await alice.until((docs) => docs.get('cars/c1')?.recalled === true);
    const entries = await history();
    expect(entries.map((e) => [e.version, e.clientId])).toEqual([
      [1, 'a1'],
      [2, '__backend'],
    ]);
    expect(entries[1]!.after).toEqual({ _id: 'c1', make: 'Kia', ownerId: 'alice', recalled: true });

    // Moved out of alice's scope by the other service: alice drops it, bob gets it.
    backendWrite('c1', { _id: 'c1', ownerId: 'bob', make: 'Kia' });
    await core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }]);
    await alice.until((docs) => !docs.has('cars/c1'));
    await bob.until((docs) => docs.get('cars/c1')?.ownerId === 'bob');
    expect(alice.deliveries.get('cars/c1')).toBe(3);
    expect(bob.deliveries.get('cars/c1')).toBe(1);
  });

  it('are kept when a client writes the document before the gateway noticed them', async () => {
    const alice = await client('alice', 'a1');
    const doc = { ownerId: 'alice', make: 'Kia', seats: 4 };
    await alice.upload([{ collection: 'cars', id: 'c1', op: 'INSERT', document: doc }]);
    backendWrite('c1', { _id: 'c1', ownerId: 'alice', make: 'Kia', seats: 5 });
    await alice.upload([{ collection: 'cars', id: 'c1', op: 'UPDATE', set: { color: 'red' } }]);
    await alice.until((docs) => docs.get('cars/c1')?.color === 'red');
    expect(alice.docs.get('cars/c1')).toEqual({ ...doc, _id: 'c1', seats: 5, color: 'red' });
    expect((await history()).map((e) => e.clientId)).toEqual(['a1', '__backend', 'a1']);
    expect(await gw.gateway.core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }])).toBe(
      0,
    );
  });

  it('have a session no client can take or pause', async () => {
    const r = await gw.http(
      'mutation { openSession(input: { clientId: "__backend", queries: [] }) { id } }',
      {},
      await gw.token('mallory'),
    );
    expect(r.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.clientId' },
    });
    const alice = await client('alice', 'a1');
    const doc = { ownerId: 'alice', make: 'Kia' };
    await alice.upload([{ collection: 'cars', id: 'c1', op: 'INSERT', document: doc }]);
    backendWrite('c1', { _id: 'c1', ownerId: 'alice', make: 'Fiat' });
    const core = gw.gateway.core;
    expect(await core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }])).toBe(1);
    const [backend] = (await core.store.listSessions({ limit: 10 })).sessions.filter(
      (s) => s.clientId === '__backend',
    );
    const admin = await gw.token('root', ['admin']);
    const paused = await gw.http(
      'mutation ($id: ID!) { pauseSession(id: $id) { state } }',
      { id: backend!.id },
      admin,
    );
    expect(paused.errors).toBeUndefined();
    backendWrite('c1', { _id: 'c1', ownerId: 'alice', make: 'Audi' });
    expect(await core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }])).toBe(1);
    await alice.until((docs) => docs.get('cars/c1')?.make === 'Audi');
  });

  it('include deletes, and deleted documents written back', async () => {
    const alice = await client('alice', 'a1');
    const doc = { ownerId: 'alice', make: 'Kia' };
    await alice.upload([{ collection: 'cars', id: 'c1', op: 'INSERT', document: doc }]);
    backendWrite('c1', null);
    await gw.gateway.core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }]);
    await alice.until((docs) => !docs.has('cars/c1'));
    backendWrite('c1', { _id: 'c1', ownerId: 'alice', make: 'Fiat' });
    await gw.gateway.core.integrateBackendWrites([{ collection: 'cars', id: 'c1' }]);
    await alice.until((docs) => docs.get('cars/c1')?.make === 'Fiat');
    expect((await history()).map((e) => [e.clientId, e.after?.make ?? null])).toEqual([
      ['a1', 'Kia'],
      ['__backend', null],
      ['__backend', 'Fiat'],
    ]);
  });
});
