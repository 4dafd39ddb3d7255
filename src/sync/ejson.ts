/**
 * Values JSON cannot type, written as MongoDB Extended JSON wrappers (DESIGN: "EJSON is used
 * where a type would be lost in JSON"), e.g. `{ "$date": "2026-11-27T10:00:00Z" }`. The sync
 * core treats them as opaque JSON; the MongoDB store keeps them as the BSON types they name,
 * so other services read real dates, ObjectIds and decimals
 * (https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/).
 *
 * This checks a wrapper's shape, so a document that reaches the store always converts.
 */
const INTEGER = /^-?\d{1,19}$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?Infinity$|^NaN$/;
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(Infinity|Inf|NaN)$/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const hasKeys = (v: Record<string, unknown>, keys: string[]) =>
  Object.keys(v).length === keys.length && keys.every((k) => Object.hasOwn(v, k));
const isUint32 = (v: unknown) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;

/** What each wrapper's value must be. */
const WRAPPERS: Record<string, (v: unknown) => boolean> = {
  $date: (v) =>
    (isString(v) && !Number.isNaN(Date.parse(v))) ||
    (isRecord(v) &&
      hasKeys(v, ['$numberLong']) &&
      isString(v.$numberLong) &&
      INTEGER.test(v.$numberLong)),
  $oid: (v) => isString(v) && /^[0-9a-fA-F]{24}$/.test(v),
  $numberDecimal: (v) => isString(v) && DECIMAL.test(v),
  $numberLong: (v) => isString(v) && INTEGER.test(v),
  $numberInt: (v) => isString(v) && /^-?\d{1,10}$/.test(v) && Math.abs(Number(v)) <= 2 ** 31,
  $numberDouble: (v) => isString(v) && NUMBER.test(v),
  $binary: (v) =>
    isRecord(v) &&
    hasKeys(v, ['base64', 'subType']) &&
    isString(v.base64) &&
    BASE64.test(v.base64) &&
    isString(v.subType) &&
    /^[0-9a-fA-F]{1,2}$/.test(v.subType),
  $uuid: (v) => isString(v) && UUID.test(v),
  $timestamp: (v) => isRecord(v) && hasKeys(v, ['t', 'i']) && isUint32(v.t) && isUint32(v.i),
  $regularExpression: (v) =>
    isRecord(v) &&
    hasKeys(v, ['pattern', 'options']) &&
    isString(v.pattern) &&
    isString(v.options) &&
    /^[imxslu]*$/.test(v.options),
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
