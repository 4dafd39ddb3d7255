/**
 * Values JSON cannot type, written as MongoDB Extended JSON wrappers (DESIGN: "EJSON is used
 * where a type would be lost in JSON"), e.g. `{ "$date": "2026-11-27T10:00:00.000Z" }`. The
 * sync core treats them as opaque JSON; the MongoDB store keeps them as the BSON types they
 * name, so other services read real dates, ObjectIds and decimals
 * (https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/).
 *
 * The rules are exact, so that a wrapper accepted here always converts to BSON and back
 * unchanged: integers within their type's range, decimals within Decimal128's precision,
 * binary data of whole bytes (16 for UUIDs), regular expressions BSON can hold. A date is normalised to the one form every store gives back: ISO 8601 with
 * milliseconds in UTC (`toISOString`), for years 0 to 9999.
 */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?(0|[1-9]\d*)$/;
const DOUBLE = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?Infinity$|^NaN$/;
const DECIMAL = /^([-+]?)(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[0-9a-f]{32}$/i;
/** ISO 8601 with a zone (Z or an offset), so every gateway reads the same instant. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
/** Date's range, in milliseconds either side of 1970. */
const DATE_MS = 8.64e15;
/** 0000-01-01 and 10000-01-01 (UTC), in milliseconds since 1970. */
const YEAR_0_MS = -62_167_219_200_000;
const YEAR_10000_MS = 253_402_300_800_000;

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const hasKeys = (v: Record<string, unknown>, keys: string[]) =>
  Object.keys(v).length === keys.length && keys.every((k) => Object.hasOwn(v, k));
const isUint32 = (v: unknown) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;

function isIntegerIn(v: unknown, min: bigint, max: bigint): boolean {
  if (!isString(v) || !INTEGER.test(v) || v === '-0') return false;
  const n = BigInt(v);
  return n >= min && n <= max;
}

/** A Decimal128: at most 34 significant digits, exponent within its range, or a special. */
function isDecimal(v: unknown): boolean {
  if (!isString(v)) return false;
  if (/^[-+]?(Infinity|Inf|NaN)$/i.test(v)) return true;
  const m = DECIMAL.exec(v);
  if (!m || (m[2] === '' && m[3] === '')) return false;
  const digits = `${m[2]}${m[3]}`.replace(/^0+/, '');
  const exponent = Number(m[4] ?? '0') - (m[3] ?? '').length;
  return (
    digits.length <= 34 && exponent >= -6176 && exponent + Math.max(digits.length, 1) - 1 <= 6144
  );
}

function isBinary(v: unknown): boolean {
  if (!isRecord(v) || !hasKeys(v, ['base64', 'subType'])) return false;
  if (!isString(v.base64) || !BASE64.test(v.base64)) return false;
  if (!isString(v.subType) || !/^[0-9a-fA-F]{1,2}$/.test(v.subType)) return false;
  const bytes = (v.base64.length / 4) * 3 - (v.base64.match(/=/g)?.length ?? 0);
  return parseInt(v.subType, 16) !== 4 || bytes === 16;
}

function isDate(v: unknown): boolean {
  if (isString(v)) {
    const ms = Date.parse(v);
    return ISO_DATE.test(v) && realCalendarDate(v) && !Number.isNaN(ms) && inDateYears(ms);
  }
  return (
    isRecord(v) &&
    hasKeys(v, ['$numberLong']) &&
    isIntegerIn(v.$numberLong, BigInt(-DATE_MS), BigInt(DATE_MS))
  );
}

/** A day that exists and a time of day below 24:00 (Date.parse rolls others over). */
function realCalendarDate(iso: string): boolean {
  const [y, mo, d, h, mi, sec] = iso.split(/[-T:.Z+]/).map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(2000, mo!, 0)).getUTCDate() + (mo === 2 ? leap(y!) - 1 : 0);
  return (
    mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= daysInMonth && h! < 24 && mi! < 60 && (sec ?? 0) < 60
  );
}

const leap = (y: number) => (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0);

/** Years 0 to 9999: what an ISO string without an extended year holds. */
const inDateYears = (ms: number) => ms >= YEAR_0_MS && ms < YEAR_10000_MS;

/** What each wrapper's value must be. */
const WRAPPERS: Record<string, (v: unknown) => boolean> = {
  $date: isDate,
  $oid: (v) => isString(v) && /^[0-9a-fA-F]{24}$/.test(v),
  $numberDecimal: isDecimal,
  $numberLong: (v) => isIntegerIn(v, INT64_MIN, INT64_MAX),
  $numberInt: (v) => isIntegerIn(v, -(2n ** 31n), 2n ** 31n - 1n),
  $numberDouble: (v) => isString(v) && DOUBLE.test(v),
  $binary: isBinary,
  $uuid: (v) => isString(v) && UUID.test(v),
  $timestamp: (v) => isRecord(v) && hasKeys(v, ['t', 'i']) && isUint32(v.t) && isUint32(v.i),
  $regularExpression: (v) =>
    isRecord(v) &&
    hasKeys(v, ['pattern', 'options']) &&
    isString(v.pattern) &&
    !v.pattern.includes('\u0000') &&
    isString(v.options) &&
    /^(?!.*(.).*\1)[ilmsux]*$/.test(v.options),
  $minKey: (v) => v === 1,
  $maxKey: (v) => v === 1,
};

export const EJSON_TYPES = Object.keys(WRAPPERS);

/** Whether the object is one Extended JSON wrapper with a well-formed value. */
export function isEjsonWrapper(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  const check = keys.length === 1 ? WRAPPERS[keys[0]!] : undefined;
  return check !== undefined && check(value[keys[0]!]);
}

/**
 * A well-formed wrapper in the one form every store gives back: a date as `toISOString()`
 * (years 0 to 9999) or, outside them, as milliseconds; a number JSON holds exactly
 * (`$numberInt`, a `$numberLong` within 2^53, a finite `$numberDouble`) as that number, a
 * double JSON cannot hold as `Infinity`, `-Infinity` or `NaN`; an ObjectId and binary
 * subtypes in lower case (a `$uuid` as the `$binary` of subtype 04 it is); regular
 * expression options in alphabetical order.
 */
export function normalizeEjson(value: Record<string, unknown>): unknown {
  const [key] = Object.keys(value);
  const v = value[key!];
  switch (key) {
    case '$date':
      return {
        $date: dateJson(
          isString(v) ? Date.parse(v) : Number((v as { $numberLong: string }).$numberLong),
        ),
      };
    case '$numberInt':
      return Number(v);
    case '$numberLong':
      return Number.isSafeInteger(Number(v)) ? Number(v) : value;
    case '$numberDouble':
      return Number.isFinite(Number(v)) ? Number(v) : { $numberDouble: String(Number(v)) };
    case '$oid':
      return { $oid: (v as string).toLowerCase() };
    case '$binary': {
      const b = v as { base64: string; subType: string };
      return { $binary: { base64: b.base64, subType: b.subType.toLowerCase().padStart(2, '0') } };
    }
    case '$uuid': {
      const bytes = Buffer.from((v as string).replace(/-/g, ''), 'hex');
      return { $binary: { base64: bytes.toString('base64'), subType: '04' } };
    }
    case '$regularExpression': {
      const r = v as { pattern: string; options: string };
      return {
        $regularExpression: { pattern: r.pattern, options: [...r.options].sort().join('') },
      };
    }
    default:
      return value;
  }
}

/** The Extended JSON of a date, given in milliseconds since 1970. */
export const dateJson = (ms: number): string | { $numberLong: string } =>
  inDateYears(ms) ? new Date(ms).toISOString() : { $numberLong: String(ms) };
