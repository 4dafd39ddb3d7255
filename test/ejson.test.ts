/** Extended JSON values in synced documents (src/sync/ejson.ts). */
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isEjsonWrapper, normalizeEjson } from '../src/sync/ejson.js';
import { toBson, toJson } from '../src/store/mongodb/json-values.js';
import { startTestGateway } from './helpers/gateway.js';
import { SyncTestClient } from './helpers/sync-client.js';

const VALID = [
  { $date: '2026-11-27T10:00:00.000Z' },
  { $date: '2026-11-27T11:00:00+01:00' },
  { $date: { $numberLong: '-100000000000000' } },
  { $numberLong: '-9223372036854775808' },
  { $numberInt: '2147483647' },
  { $numberDecimal: '-1.234567890123456789012345678901234E+6000' },
  { $uuid: '3b241101e2bb42558caf4136c566a962' },
  { $binary: { base64: 'OyQRAeK7QlWMr0E2xWapYg==', subType: '04' } },
  { $oid: '65f0a1b2c3d4e5f6a7b8c9d0' },
  { $numberDecimal: '19.99' },
  { $numberLong: '9007199254740993' },
  { $numberInt: '-42' },
  { $numberDouble: 'NaN' },
  { $binary: { base64: 'aGk=', subType: '00' } },
  { $uuid: '3b241101-e2bb-4255-8caf-4136c566a962' },
  { $timestamp: { t: 1700000000, i: 3 } },
  { $regularExpression: { pattern: '^a', options: 'i' } },
  { $regularExpression: { pattern: 'a b', options: 'ximsu' } },
  { $minKey: 1 },
  { $maxKey: 1 },
  // Forms MongoDB gives back otherwise, so they are normalised to what it gives back.
  { $numberDecimal: '.5' },
  { $binary: { base64: 'aGl=', subType: '00' } },
  { $date: '2026-11-27T10:00+0100' },
  { $timestamp: { t: 4294967295, i: 0 } },
];

const INVALID = [
  { $date: 'yesterday' },
  { $date: '1' },
  { $date: '2026-11-27T10:00:00' },
  { $date: { $numberLong: '9223372036854775807' } },
  { $numberLong: '-0' },
  { $numberLong: '007' },
  { $numberLong: '9999999999999999999' },
  { $numberInt: '2147483648' },
  { $numberDecimal: '1e9999' },
  { $numberDecimal: '12345678901234567890123456789012345' },
  { $binary: { base64: 'A', subType: '00' } },
  { $binary: { base64: 'aGk=', subType: '04' } },
  { $uuid: '01234567-89ab-cdef0123-456789abcdef' },
  { $date: '2026-02-30T00:00Z' },
  { $date: '2026-11-27T24:00Z' },
  { $regularExpression: { pattern: 'a', options: 'ii' } },
  { $regularExpression: { pattern: 'a\u0000', options: '' } },
  { $oid: '65f0' },
  { $numberDecimal: 'abc' },
  { $numberLong: '1.5' },
  { $numberInt: '99999999999' },
  { $binary: { base64: '!!', subType: '00' } },
  { $timestamp: { t: -1, i: 0 } },
  { $regularExpression: { pattern: 'a', options: 'q' } },
  { $minKey: 2 },
  { $set: { a: 1 } },
  { $date: '2026-11-27', extra: 1 },
  // What bson's EJSON reads leniently (wrapping, truncating, ignoring fields) or cannot store.
  { $numberLong: '+5' },
  { $numberLong: null },
  { $date: null },
  { $numberInt: '007' },
  { $numberInt: 5 },
  { $date: { $numberLong: '18446744073709551621' } },
  { $date: { $numberLong: '5', x: 1 } },
  { $timestamp: { t: 4294967296, i: 0 } },
  { $timestamp: { t: 1.5, i: 0 } },
  { $timestamp: { t: 1, i: 2, x: 3 } },
  { $numberDouble: '1.5abc' },
  { $numberDecimal: '+' },
  { $numberDecimal: `1${'0'.repeat(40)}` },
  { $binary: { base64: 'aGk=' } },
  { $binary: { base64: 'AwE=', subType: '09' } },
  { $oid: { id: '65f0a1b2c3d4e5f6a7b8c9d0' } },
  { $regularExpression: { pattern: 'a' } },
  { $regularExpression: { pattern: ['a'], options: '' } },
  { $maxKey: true },
];

describe('Extended JSON values', () => {
  it.each(VALID)('accepts %j, which MongoDB stores and gives back', (value) => {
    expect(isEjsonWrapper(value)).toBe(true);
    const stored = BSON.deserialize(BSON.serialize(toBson({ value })), { bsonRegExp: true });
    const back = toJson(stored).value as Record<string, unknown>;
    // Back exactly in its normal form, which the gateway accepts again.
    const normal = normalizeEjson(structuredClone(value));
    expect(back).toEqual(normal);
    if (typeof back === 'object') expect(isEjsonWrapper(back)).toBe(true);
  });

  it.each([
    [{ $date: '2026-11-27T11:00:00+01:00' }, { $date: '2026-11-27T10:00:00.000Z' }],
    [{ $date: { $numberLong: '1700000000000' } }, { $date: '2023-11-14T22:13:20.000Z' }],
    [{ $numberInt: '-42' }, -42],
    [{ $numberLong: '9007199254740991' }, 9007199254740991],
    [{ $numberLong: '9007199254740993' }, { $numberLong: '9007199254740993' }],
    [{ $numberDouble: '1.5' }, 1.5],
    [{ $numberDouble: 'NaN' }, { $numberDouble: 'NaN' }],
    [{ $oid: '65F0A1B2C3D4E5F6A7B8C9D0' }, { $oid: '65f0a1b2c3d4e5f6a7b8c9d0' }],
    [{ $numberDouble: '1e400' }, { $numberDouble: 'Infinity' }],
    [
      { $uuid: '3b241101-e2bb-4255-8caf-4136c566a962' },
      { $binary: { base64: 'OyQRAeK7QlWMr0E2xWapYg==', subType: '04' } },
    ],
    [{ $binary: { base64: 'aGk=', subType: '0' } }, { $binary: { base64: 'aGk=', subType: '00' } }],
    [
      { $regularExpression: { pattern: 'a', options: 'si' } },
      { $regularExpression: { pattern: 'a', options: 'is' } },
    ],
    [{ $numberDecimal: '.5' }, { $numberDecimal: '0.5' }],
    [{ $numberDecimal: '1e3' }, { $numberDecimal: '1E+3' }],
    [
      { $binary: { base64: 'aGl=', subType: '00' } },
      { $binary: { base64: 'aGk=', subType: '00' } },
    ],
    [{ $date: '2026-11-27T10:00+0100' }, { $date: '2026-11-27T09:00:00.000Z' }],
  ])('normalises %j to %j, the form every store gives back', (value, normal) => {
    expect(normalizeEjson(value)).toEqual(normal);
  });

  it.each(INVALID)('refuses %j', (value) => {
    expect(isEjsonWrapper(value as Record<string, unknown>)).toBe(false);
  });

  it('refuses a decimal too long for bson to read', () => {
    expect(isEjsonWrapper({ $numberDecimal: `${'0'.repeat(7000)}1` })).toBe(false);
  });

  it('sync between clients unchanged', async () => {
    await using gw = await startTestGateway();
    const clients = ['a1', 'a2'].map(async (id) => {
      const c = new SyncTestClient(gw.ws(await gw.token('alice')), id);
      await c.open([{ collection: 'cars' }]);
      c.startDownload();
      return c;
    });
    const [a1, a2] = await Promise.all(clients);
    const document = {
      ownerId: 'alice',
      soldAt: VALID[1]!,
      price: VALID[3]!,
      tags: [VALID[2]!],
      seats: { $numberInt: '7' },
    };
    const r = await a1!.upload([{ collection: 'cars', id: 'c1', op: 'INSERT', document }]);
    expect(r.errors).toBeUndefined();
    await a2!.until((docs) => docs.has('cars/c1'));
    // A date is normalised to toISOString(), the form every store gives back.
    const soldAt = { $date: '2026-11-27T10:00:00.000Z' };
    expect(a2!.docs.get('cars/c1')).toEqual({ _id: 'c1', ...document, soldAt, seats: 7 });
  });
});
