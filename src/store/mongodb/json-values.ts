/**
 * The MongoDB store keeps synced values as the BSON types they are, and hands the sync core
 * JSON, with Extended JSON wrappers for what JSON cannot type (src/sync/ejson.ts;
 * https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/). So a date written
 * by a client as `{ "$date": "..." }` is a real date for other services, and a date, an
 * ObjectId or a decimal that another service wrote reaches clients as a wrapper, not as a
 * string; nothing is rewritten to another type when the gateway writes the document back.
 *
 * Reading uses relaxed Extended JSON (plain numbers where JSON has them; an int64 past 2^53
 * loses precision, as with the driver's default promoteLongs). Writing uses canonical
 * parsing, so `{ "$numberLong": "..." }` stays an int64.
 */
import { BSON } from 'mongodb';

/** A value read from MongoDB, as the JSON the sync core works with. */
export const toJson = <T>(value: T): T => BSON.EJSON.serialize(value, { relaxed: true }) as T;

/** A value of the sync core, as the BSON MongoDB stores. */
export const toBson = <T>(value: T): T =>
  BSON.EJSON.deserialize(value as BSON.Document, { relaxed: false }) as T;
