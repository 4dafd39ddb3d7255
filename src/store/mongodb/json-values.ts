/**
 * Synced documents are JSON. A plain copy that another service wrote may hold values only
 * BSON has (https://www.mongodb.com/docs/manual/reference/bson-types/); they are read as
 * their JSON form, chosen to keep their meaning: a date as its ISO string, an ObjectId as
 * its hex string, a Decimal128 (or a Long past 2^53) as its decimal string, binary data as
 * base64, a regular expression as `/pattern/flags`, an oplog timestamp as `t:i`, any other
 * BSON value (MinKey, code...) as its type's name; a number JSON cannot hold (NaN,
 * Infinity) as null.
 */
import { Binary, BSONRegExp, Decimal128, Long, ObjectId, Timestamp } from 'mongodb';
import type { Json, JsonObject } from '../../sync/model.js';

function bsonValue(value: object): Json {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof ObjectId) return value.toHexString();
  if (value instanceof Decimal128) return value.toString();
  if (value instanceof Timestamp) return `${value.t}:${value.i}`;
  if (value instanceof Long) {
    const n = value.toNumber();
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value instanceof Binary) return value.toString('base64');
  if (value instanceof RegExp) return String(value);
  if (value instanceof BSONRegExp) return `/${value.pattern}/${value.options}`;
  if (typeof value.valueOf() === 'number') return toJsonValue(value.valueOf());
  const tag: unknown = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : String(value);
}

const isPlainObject = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

export function toJsonValue(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (!isPlainObject(value)) return bsonValue(value);
  return toJsonObject(value as Record<string, unknown>);
}

/**
 * The JSON form of a document read from MongoDB; undefined fields are left out. Built with
 * Object.fromEntries, so a field named "__proto__" stays a field.
 */
export function toJsonObject(doc: Record<string, unknown>): JsonObject {
  const entries = Object.entries(doc).filter(([, v]) => v !== undefined);
  return Object.fromEntries(entries.map(([name, v]) => [name, toJsonValue(v)])) as JsonObject;
}
