/**
 * The store contract (test/store-contract.ts) against the MongoDB adapter, on a fresh
 * database per test, when test/setup/mongodb.ts found a replica set; skipped otherwise,
 * with the reason in the suite's name.
 */
import { Binary, BSON, BSONRegExp, Decimal128, Long, MinKey, MongoClient } from 'mongodb';
import { ObjectId } from 'mongodb';
import { Timestamp } from 'mongodb';
import { toBson, toJson } from '../src/store/mongodb/json-values.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  assertReplicaSet,
  MongoStore,
  REPLICA_SET_REQUIRED,
} from '../src/store/mongodb/mongo-store.js';
import { sessionUpdate, toStored } from '../src/store/mongodb/rows.js';
import { sessionRecord, storeContract, type StoreUnderTest } from './store-contract.js';

const uri = inject('mongodbUri');

describe('MongoStore replica set check', () => {
  it('accepts a replica set member and a mongos', () => {
    expect(() => assertReplicaSet({ isWritablePrimary: true, setName: 'rs0' })).not.toThrow();
    expect(() => assertReplicaSet({ isWritablePrimary: true, msg: 'isdbgrid' })).not.toThrow();
  });

  it('refuses a standalone server, saying why and how to start a replica set', () => {
    expect(() => assertReplicaSet({ isWritablePrimary: true })).toThrow(REPLICA_SET_REQUIRED);
    expect(REPLICA_SET_REQUIRED).toMatch(/replica set.*transactions and change streams/);
    expect(REPLICA_SET_REQUIRED).toMatch(/--replSet .*rs\.initiate\(\)/);
  });

  // `connect` against a real standalone mongod needs one; none runs here.
  it.skip('connect refuses a standalone mongod (needs one to test against)', () => {});
});

describe('MongoStore document mapping (no server needed)', () => {
  it('reads BSON values as Extended JSON, and writes them back as the same BSON', () => {
    const id = new ObjectId('65f0a1b2c3d4e5f6a7b8c9d0');
    const doc = {
      _id: 'a',
      at: new Date('2026-11-27T10:00:00.000Z'),
      ref: id,
      price: Decimal128.fromString('19.99'),
      small: Long.fromNumber(42),
      big: Long.fromString('9007199254740993'),
      bytes: new Binary(Buffer.from('hi')),
      bad: Number.NaN,
      at2: new Timestamp({ t: 1700000000, i: 3 }),
      re: new BSONRegExp('^a', 'i'),
      low: new MinKey(),
      nested: { list: [id, { when: new Date(0) }] },
      odd: JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>,
    };
    const json = toJson(doc);
    expect(json).toEqual({
      _id: 'a',
      at: { $date: '2026-11-27T10:00:00.000Z' },
      ref: { $oid: '65f0a1b2c3d4e5f6a7b8c9d0' },
      price: { $numberDecimal: '19.99' },
      small: 42,
      big: { $numberLong: '9007199254740993' },
      bytes: { $binary: { base64: 'aGk=', subType: '00' } },
      bad: { $numberDouble: 'NaN' },
      at2: { $timestamp: { t: 1700000000, i: 3 } },
      re: { $regularExpression: { pattern: '^a', options: 'i' } },
      low: { $minKey: 1 },
      nested: {
        list: [
          { $oid: '65f0a1b2c3d4e5f6a7b8c9d0' },
          { when: { $date: '1970-01-01T00:00:00.000Z' } },
        ],
      },
      odd: JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>,
    });
    expect(Object.keys(json.odd)).toEqual(['__proto__']);
    // Every wrapper a client may send (test/ejson.test.ts) is accepted by isEjsonWrapper,
    // and what is written back is the same BSON as was read.
    expect(BSON.serialize(toBson(json))).toEqual(BSON.serialize({ ...doc, small: 42 }));
    // Plain numbers are written as the driver writes them, so they read back the same.
    const numbers = { a: 1e18, b: 2 ** 53 + 2, c: 7, d: 1.5 };
    const read = BSON.deserialize(BSON.serialize(toBson(numbers)));
    expect(toJson(read)).toEqual(numbers);
    // A date beyond JavaScript's range has nothing to carry but null.
    expect(toJson({ never: new Date(Number.NaN) })).toEqual({ never: null });
  });

  it('patches only the named fields; the download acknowledgement with $max', () => {
    const queries = [{ collection: 'notes', filter: { tags: { $in: ['a'] } } }];
    expect(sessionUpdate({ queries, pause: null, lastDownloadedServerVersion: 4 })).toEqual({
      $set: { queries: JSON.stringify(queries), pause: null },
      $max: { lastDownloadedServerVersion: 4 },
    });
    expect(sessionUpdate({ closed: undefined })).toBeNull();
    expect(sessionUpdate({ ...sessionRecord('s1', 'c1'), id: 'ignored' })?.$set).not.toHaveProperty(
      'clientId',
    );
  });

  it('reads a document from its state and its plain copy', () => {
    const key = { collection: 'items', id: 'a' };
    const state = { fields: { n: { v: 1, s: 'x' } }, ins: 'x', del: null };
    const stored = { ...key, state, version: 7 };
    expect(toStored(key, stored, { _id: 'a', n: 1 })).toEqual({
      ...stored,
      doc: { _id: 'a', n: 1 },
    });
    expect(toStored(key, stored, undefined)).toEqual({ ...stored, doc: null });
    expect(toStored(key, undefined, undefined)).toBeUndefined();
    expect(toStored(key, undefined, { _id: 'a', n: 2 })).toEqual({
      ...key,
      state: { fields: {}, ins: null, del: null },
      doc: { _id: 'a', n: 2 },
      version: 0,
    });
  });
});

if (uri) {
  const admin = new MongoClient(uri);
  afterAll(() => admin.close());
  let databases = 0;

  storeContract('MongoDB', async (): Promise<StoreUnderTest> => {
    const dbName = `sync_contract_${process.pid}_${Date.now().toString(36)}_${++databases}`;
    let current = await MongoStore.connect(uri, { dbName });
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await MongoStore.connect(uri, { dbName });
        return current;
      },
      cleanup: async () => {
        await current.close();
        await admin.db(dbName).dropDatabase();
      },
    };
  });
} else {
  describe.skip(`SyncStore contract: MongoDB (skipped: ${inject('mongodbSkipReason')})`, () => {
    it('runs against MONGODB_URI or mongodb-memory-server', () => {});
  });
}
