/**
 * The MongoDB change stream that notices backend writes (src/store/mongodb/backend-watch.ts).
 * What an event names, and which errors mean lost history, are tested here; the stream
 * itself runs against a real replica set when test/setup/mongodb.ts found one: another
 * service writes the plain collection directly and a client connected to the real gateway
 * receives it, without the gateway's own writes echoing, across a gateway restart too.
 */
import { BSON, MongoClient, MongoInvalidArgumentError, MongoServerError } from 'mongodb';
import { MongoNetworkError, type ChangeStreamDocument } from 'mongodb';
import { SyncError } from '../src/errors.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  BACKEND_PIPELINE,
  eventAction,
  isDocumentFault,
  isHistoryLost,
} from '../src/store/mongodb/backend-events.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient } from './helpers/sync-client.js';

const uri = inject('mongodbUri');

const event = (operationType: string, coll: string | undefined, more: object = {}) =>
  ({
    _id: { _data: 'x' },
    operationType,
    ...(coll === undefined ? {} : { ns: { db: 'sync_gateway', coll } }),
    ...more,
  }) as unknown as ChangeStreamDocument;
const write = (op: string, coll: string, id: unknown) =>
  event(op, coll, { documentKey: { _id: id } });

describe('backend write events', () => {
  it('name a synced document by its collection and string id', () => {
    for (const op of ['insert', 'update', 'replace', 'delete']) {
      expect(eventAction(write(op, 'cars', 'c1'))).toEqual({
        kind: 'document',
        key: { collection: 'cars', id: 'c1' },
      });
    }
  });

  it('ask for whole collections to be checked when they are dropped or renamed', () => {
    expect(eventAction(event('drop', 'cars'))).toEqual({ kind: 'collections', names: ['cars'] });
    const rename = event('rename', 'cars', { to: { db: 'sync_gateway', coll: 'autos' } });
    expect(eventAction(rename)).toEqual({ kind: 'collections', names: ['cars', 'autos'] });
    const away = event('rename', 'cars', { to: { db: 'sync_gateway', coll: 'old-cars' } });
    expect(eventAction(away)).toEqual({ kind: 'collections', names: ['cars'] });
    expect(eventAction(event('invalidate', undefined))).toEqual({ kind: 'invalidate' });
  });

  it('are ignored for metadata, names no client can sync, and non-string ids', () => {
    const none = { kind: 'none' };
    expect(eventAction(write('insert', '__sync_state', 'c1'))).toEqual(none);
    expect(eventAction(write('insert', 'my-cars', 'c1'))).toEqual(none);
    expect(eventAction(write('insert', 'cars', { $oid: '65f0' }))).toEqual(none);
    expect(eventAction(event('drop', 'my-cars'))).toEqual(none);
    expect(eventAction(event('dropDatabase', undefined))).toEqual(none);
  });

  it('include the invalidate event, so a stream that ends says so', () => {
    const match = BACKEND_PIPELINE[0]!.$match as { operationType: { $in: string[] } };
    expect(match.operationType.$in).toContain('invalidate');
  });

  it("blame the document only for errors about the document, never for the database's state", () => {
    const server = (code: number, label?: string) => {
      const e = new MongoServerError({ message: 'x', code });
      if (label) e.addErrorLabel(label);
      return e;
    };
    expect(isDocumentFault(server(10334))).toBe(true); // BSONObjectTooLarge
    expect(isDocumentFault(server(121))).toBe(true); // DocumentValidationFailure
    expect(isDocumentFault(new MongoInvalidArgumentError('Document is larger than'))).toBe(true);
    expect(isDocumentFault(new BSON.BSONError('cannot serialize'))).toBe(true);
    expect(isDocumentFault(new SyncError('BAD_USER_INPUT', 'x'))).toBe(true);
    expect(isDocumentFault(server(8000))).toBe(false); // Atlas: over the storage quota
    expect(isDocumentFault(server(365))).toBe(false); // TemporarilyUnavailable
    expect(isDocumentFault(server(10107))).toBe(false); // NotWritablePrimary
    expect(isDocumentFault(server(2, 'TransientTransactionError'))).toBe(false);
    expect(isDocumentFault(new MongoNetworkError('reset'))).toBe(false);
  });

  it('count as lost history on ChangeStreamHistoryLost (and the older fatal error)', () => {
    const error = (code: number) => new MongoServerError({ message: 'x', code });
    expect(isHistoryLost(error(286))).toBe(true);
    expect(isHistoryLost(error(280))).toBe(true);
    expect(isHistoryLost(error(11000))).toBe(false);
    expect(isHistoryLost(new Error('286'))).toBe(false);
  });
});

if (uri) {
  describe('backend writes on MongoDB', () => {
    const admin = new MongoClient(uri);
    const dbName = `sync_backend_${process.pid}_${Date.now().toString(36)}`;
    const cars = admin.db(dbName).collection<{ _id: string; [k: string]: unknown }>('cars');
    afterAll(async () => {
      await admin.db(dbName).dropDatabase();
      await admin.close();
    });

    const gateway = () => startTestGateway({ env: { MONGODB_URI: uri, MONGODB_DB: dbName } });
    async function client(gw: TestGateway, clientId: string) {
      const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
      await c.open([{ collection: 'cars' }]);
      c.startDownload();
      return c;
    }
    const historyOf = (gw: TestGateway) => gw.gateway.core.store.readHistory(0, 1000);

    it('reach clients once, existing documents included, across a restart and a drop', async () => {
      await cars.insertOne({ _id: 'before', ownerId: 'alice', make: 'Saab' });
      let gw = await gateway();
      const alice = await client(gw, 'a1');
      await alice.until((docs) => docs.get('cars/before')?.make === 'Saab');

      const doc = { ownerId: 'alice', make: 'Kia' };
      await alice.upload([{ collection: 'cars', id: 'c1', op: 'INSERT', document: doc }]);
      await cars.updateOne({ _id: 'c1' }, { $set: { recalled: true } });
      await alice.until((docs) => docs.get('cars/c1')?.recalled === true);
      await cars.insertOne({ _id: 'c2', ownerId: 'alice', make: 'Volvo' });
      await cars.deleteOne({ _id: 'before' });
      await alice.until((docs) => docs.has('cars/c2') && !docs.has('cars/before'));
      const ids = (await historyOf(gw)).map((h) => `${h.clientId}:${h.id}`);
      expect(ids).toEqual([
        '__backend:before',
        'a1:c1',
        '__backend:c1',
        '__backend:c2',
        '__backend:before',
      ]);
      await gw.close();

      await cars.replaceOne({ _id: 'c2' }, { ownerId: 'alice', make: 'Volvo', seats: 7 });
      gw = await gateway();
      const again = await client(gw, 'a2');
      await again.until((docs) => docs.get('cars/c2')?.seats === 7);
      expect((await historyOf(gw)).length).toBe(ids.length + 1);

      // Dropping the collection deletes its documents for the clients.
      await cars.drop();
      await again.until((docs) => docs.size === 0);
      await gw.close();
    });
  });
} else {
  describe.skip(`backend writes on MongoDB (skipped: ${inject('mongodbSkipReason')})`, () => {
    it('reach clients once, existing documents included, and survive a restart', () => {});
  });
}
