/**
 * The MongoDB store keeps synced values as the BSON types they are, and hands the sync core
 * JSON, with Extended JSON wrappers for what JSON cannot type (src/sync/ejson.ts;
 * https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/). So a date written
 * by a client as `{ "$date": "..." }` is a real date for other services, and a date, an
 * ObjectId or a decimal that another service wrote reaches clients as a wrapper.
 *
 * Reading gives each value the one form the sync core normalises wrappers to (bsonToJson in
 * ejson.ts): numbers as plain JSON numbers, except an int64 past 2^53 as `{ "$numberLong" }`
 * and a number JSON cannot hold as `{ "$numberDouble" }`; a date as its ISO string with
 * milliseconds; any other BSON value as relaxed Extended JSON; a date beyond JavaScript's
 * range as null. Writing turns each wrapper into its type, so `{ "$numberLong": "..." }` is an
 * int64 again. The client connects with `bsonRegExp`, so a regular expression is read as
 * MongoDB holds it, not as a JavaScript RegExp.
 */
import { BSON } from 'mongodb';
import { bsonToJson } from '../../sync/ejson.js';
import type { Json } from '../../sync/model.js';

const isPlainObject = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

function valueToJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(valueToJson);
  if (typeof value === 'object' && isPlainObject(value)) {
    return objectToJson(value as Record<string, unknown>);
  }
  return bsonToJson(value);
}

/** Built with Object.fromEntries, so a field named "__proto__" stays a field. */
function objectToJson(doc: Record<string, unknown>): Record<string, Json> {
  const entries = Object.entries(doc).filter(([, v]) => v !== undefined);
  return Object.fromEntries(entries.map(([name, v]) => [name, valueToJson(v)]));
}

/** A document read from MongoDB, as the JSON the sync core works with. */
export const toJson = <T extends object>(doc: T): T =>
  objectToJson(doc as Record<string, unknown>) as T;

/**
 * A value of the sync core, as the BSON MongoDB stores: plain numbers as the driver writes
 * them (int32 or double), each Extended JSON wrapper as the type it names (an int64 for
 * `$numberLong`).
 */
export function toBson<T>(value: T): T {
  return valueToBson(value) as T;
}

function valueToBson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(valueToBson);
  const entries = Object.entries(value);
  if (entries.some(([name]) => name.startsWith('$'))) {
    return (BSON.EJSON.deserialize({ value }, { relaxed: false }) as { value: unknown }).value;
  }
  return Object.fromEntries(entries.map(([name, v]) => [name, valueToBson(v)]));
}
