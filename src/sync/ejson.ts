/**
 * Values JSON cannot type, written as MongoDB Extended JSON wrappers (DESIGN: "EJSON is used
 * where a type would be lost in JSON"), e.g. `{ "$date": "2026-11-27T10:00:00.000Z" }`. The
 * sync core treats them as opaque JSON; the MongoDB store keeps them as the BSON types they
 * name, so other services read real dates, ObjectIds and decimals
 * (https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/).
 *
 * bson's EJSON reads each wrapper as the MongoDB store does. It reads leniently (it wraps
 * integers past their range, decodes any text as base64, rolls 30 February over), so the
 * checks below refuse what it would not give back as written, and a wrapper accepted here
 * converts to BSON and back unchanged. Its normal form is what the MongoDB store gives back.
 */
import { isDeepStrictEqual } from 'node:util';
import { EJSON, type Double, type Long } from 'bson';
import type { Json } from './model.js';

const CANONICAL = { relaxed: false };
const DOUBLE = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?Infinity$|^NaN$/;
const DECIMAL = /^[-+]?(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** ISO 8601 with a zone (Z or an offset), so every gateway reads the same instant. */
const ISO_DATE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;
/** 0000-01-01 and 10000-01-01 (UTC), in milliseconds since 1970. */
const YEAR_0_MS = -62_167_219_200_000;
const YEAR_10000_MS = 253_402_300_800_000;

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
/** Exactly these fields, strings matching their patterns: bson ignores others and reads any type. */
const stringFields = (v: unknown, fields: Record<string, RegExp>) =>
  isRecord(v) &&
  Object.keys(v).length === Object.keys(fields).length &&
  Object.entries(fields).every(([k, re]) => isString(v[k]) && re.test(v[k]));

/** Years 0 to 9999: what an ISO string without an extended year holds. */
const inDateYears = (ms: number) => ms >= YEAR_0_MS && ms < YEAR_10000_MS;

/** bson wraps integers past their range and ignores extra fields: it must write back what it read. */
const writesBack = (v: unknown, read: unknown) =>
  isDeepStrictEqual(
    Object.values(EJSON.serialize(read, CANONICAL))[0],
    JSON.parse(JSON.stringify(v)),
  );

/** bson reads a date with Date.parse, which takes any text and rolls 30 February over. */
function isIsoDate(v: string, ms: number): boolean {
  const wallClock = ISO_DATE.exec(v)?.[1];
  if (wallClock === undefined || !inDateYears(ms)) return false;
  const asUtc = new Date(`${wallClock}Z`);
  return !Number.isNaN(asUtc.getTime()) && asUtc.toISOString().startsWith(wallClock);
}

/** bson drops trailing zeros and clamps exponents to fit: only decimals it keeps as written. */
function isExactDecimal(v: unknown): boolean {
  if (!isString(v)) return false;
  const m = DECIMAL.exec(v);
  if (!m) return true; // Infinity or NaN, which bson has read
  const [, whole = '', fraction = '', e = '0'] = m;
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  const exponent = Number(e) - fraction.length;
  const lastExponent = exponent + Math.max(digits.length, 1) - 1;
  return (
    `${whole}${fraction}` !== '' && digits.length <= 34 && exponent >= -6176 && lastExponent <= 6144
  );
}

/** What bson does not check in each wrapper, given the wrapper's value and what bson read. */
const CHECKS: Record<string, (v: unknown, read: unknown) => boolean> = {
  $date: (v, read) => (isString(v) ? isIsoDate(v, (read as Date).getTime()) : writesBack(v, read)),
  $oid: isString, // bson also reads { id: "..." }
  $numberDecimal: isExactDecimal,
  $numberLong: writesBack,
  $numberInt: writesBack,
  $numberDouble: (v) => isString(v) && DOUBLE.test(v), // bson's parseFloat reads any prefix
  // bson decodes any text as base64 and any subtype as hex; it checks a UUID's 16 bytes.
  $binary: (v) => stringFields(v, { base64: BASE64, subType: /^[0-9a-f]{1,2}$/i }),
  $uuid: isString, // bson checks the hex digits and hyphens
  $timestamp: writesBack,
  // bson checks the options' letters and null bytes, not that none repeats.
  $regularExpression: (v) => stringFields(v, { pattern: /^/, options: /^(?!.*(.).*\1)/ }),
  $minKey: writesBack,
  $maxKey: writesBack,
};

export const EJSON_TYPES = Object.keys(CHECKS);

/** The wrapper in its normal form, or undefined when it is not well formed. */
function normalForm(value: Record<string, unknown>): Json | undefined {
  const [key, ...more] = Object.keys(value);
  const check = more.length === 0 ? CHECKS[key!] : undefined;
  // bson passes { "$numberLong": null } through as a plain object.
  if (check === undefined || value[key!] === null) return undefined;
  try {
    const read: unknown = EJSON.deserialize(value, CANONICAL);
    return check(value[key!], read) ? bsonToJson(read) : undefined;
  } catch {
    return undefined; // bson throws on what it cannot read or write back
  }
}

/** Whether the object is one Extended JSON wrapper with a well-formed value. */
export const isEjsonWrapper = (value: Record<string, unknown>): boolean =>
  normalForm(value) !== undefined;

/**
 * A well-formed wrapper in the one form every store gives back (bsonToJson): a date as
 * `toISOString()`, a number JSON holds exactly as that number, a `$uuid` as the `$binary` of
 * subtype 04 it is, anything else as bson writes it (ObjectIds and binary subtypes in lower
 * case, base64 and decimals canonical, regular expression options in alphabetical order).
 */
export const normalizeEjson = (value: Record<string, unknown>): unknown =>
  normalForm(value) ?? value;

/**
 * A BSON value (not a document or an array) as the JSON of the sync core: a number JSON cannot
 * hold as `{ "$numberDouble" }`, an int64 within 2^53 as a number, past it as `{ "$numberLong" }`
 * (so nothing loses precision), a date as `dateJson` (beyond JavaScript's range, an invalid
 * date, as null), any other BSON value as relaxed Extended JSON.
 */
export function bsonToJson(value: unknown): Json {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : { $numberDouble: String(value) };
  }
  if (typeof value !== 'object' || value === null) return value as Json;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : { $date: dateJson(value.getTime()) };
  }
  // Relaxed Extended JSON would write -0 as 0, and an int64 as a number that loses precision.
  // By _bsontype, not instanceof: the driver's CommonJS bson is another copy than ours.
  const type = (value as { _bsontype?: unknown })._bsontype;
  if (type === 'Double') return bsonToJson((value as Double).value);
  if (type === 'Long') {
    const n = (value as Long).toNumber();
    return Number.isSafeInteger(n) ? n : { $numberLong: String(value) };
  }
  return (EJSON.serialize({ value }, { relaxed: true }) as { value: Json }).value;
}

/** The Extended JSON of a date, given in milliseconds since 1970: ISO 8601 for years 0 to 9999. */
export const dateJson = (ms: number): string | { $numberLong: string } =>
  inDateYears(ms) ? new Date(ms).toISOString() : { $numberLong: String(ms) };
