/**
 * Validation of uploaded changesets. Runs before anything is written; every error
 * names the offending field by its path in the request (`changesets[0].changes[2].id`).
 */
import { badInput } from '../errors.js';
import type { SchemaLookup } from './document-schema.js';
import { EJSON_TYPES, isEjsonWrapper, normalizeEjson } from './ejson.js';
import { MAX_QUERIES } from './scope.js';
import { isJsonObject } from './model.js';
import type { Change, ChangeOp, Changeset, Json, JsonObject, SyncQuery } from './model.js';

export interface UploadLimits {
  maxDocumentBytes: number;
  maxChangesPerUpload: number;
  /** How far ahead of the gateway's clock a timestamp may be (DEFAULT_CLOCK_SKEW_MS). */
  maxClockSkewMs?: number;
}

/** A lone surrogate (half of a UTF-16 pair): no store keeps it as it is. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Text every store gives back as it was given (no lone surrogate). */
export const wellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

export interface ChangeInputLike {
  collection: string;
  id: string;
  op: ChangeOp;
  document?: unknown;
  set?: unknown;
  unset?: readonly string[] | null;
}

export interface ChangesetInputLike {
  clientVersion: number;
  timestamp: string;
  changes: readonly ChangeInputLike[];
}

const COLLECTION = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z-\d{4}$/;
const MAX_ID_LENGTH = 256;
const RESERVED_FIELDS = new Set(['_id', '__proto__']);

/** A name a sync collection may have (metadata names start with "__", so none can). */
export const isCollectionName = (name: string): boolean => COLLECTION.test(name);

/** A top-level or nested field name clients may write. */
export const isWritableFieldName = (name: string): boolean =>
  name !== '' && !name.startsWith('$') && !name.includes('.') && !RESERVED_FIELDS.has(name);

export function validateCollection(field: string, name: string): void {
  if (!isCollectionName(name)) {
    throw badInput(field, 'must be a letter then up to 63 letters, digits or underscores');
  }
}

function validateFieldName(field: string, name: string): void {
  if (!isWritableFieldName(name)) {
    throw badInput(
      field,
      `"${name}" is not a writable field name (no "_id", "__proto__", "$" prefix or ".")`,
    );
  }
}

/** How deeply values may nest inside a document. */
const MAX_DEPTH = 64;

const isNestedFieldName = (name: string): boolean =>
  !name.startsWith('$') && !name.includes('.') && name !== '__proto__';

/**
 * Checks nested values: field names (no "$" prefix, ".", or "__proto__", which MongoDB or
 * JavaScript would read differently), except that an object of one "$" key is an Extended
 * JSON value (ejson.ts) that must be well formed; and the nesting depth. No recursion.
 */
function validateNested(field: string, value: JsonObject): void {
  type Item = [
    path: string,
    value: unknown,
    depth: number,
    parent: JsonObject | Json[],
    key: string,
  ];
  const stack: Item[] = Object.entries(value).map(([k, v]) => [`${field}.${k}`, v, 1, value, k]);
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [path, v, depth, parent, key] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_DEPTH) throw badInput(path, `nests deeper than ${MAX_DEPTH} levels`);
    if (!Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('$'))) {
      (parent as Record<string, unknown>)[key] = checkEjson(path, v as Record<string, unknown>);
      continue;
    }
    for (const [k, child] of Object.entries(v)) {
      const childPath = Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`;
      if (!Array.isArray(v) && !isNestedFieldName(k)) {
        throw badInput(
          childPath,
          `"${k}" is not a field name a document may hold (no "$" prefix, "." or "__proto__")`,
        );
      }
      stack.push([childPath, child, depth + 1, v as JsonObject | Json[], k]);
    }
  }
}

/** Checks an Extended JSON value; returns it in its one form (ejson.ts). */
function checkEjson(path: string, value: Record<string, unknown>): unknown {
  if (isEjsonWrapper(value)) return normalizeEjson(value);
  throw badInput(
    path,
    `is not a well-formed Extended JSON value: one of ${EJSON_TYPES.join(', ')} with its value ` +
      '(https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/)',
  );
}

function validateObject(field: string, value: unknown, limits: UploadLimits): JsonObject {
  if (!isJsonObject(value)) throw badInput(field, 'must be a JSON object');
  validateNested(field, value);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > limits.maxDocumentBytes) {
    throw badInput(field, `is ${bytes} bytes, over the limit of ${limits.maxDocumentBytes}`);
  }
  for (const name of Object.keys(value)) {
    if (name !== '_id') validateFieldName(`${field}.${name}`, name);
  }
  return value;
}

/** No collection has a schema. */
const NO_SCHEMAS: SchemaLookup = () => undefined;

function validateInsert(
  path: string,
  input: ChangeInputLike,
  limits: UploadLimits,
  schemaOf: SchemaLookup,
): Change {
  if (input.set != null || input.unset != null) {
    throw badInput(`${path}.set`, 'INSERT takes a whole document, not set or unset');
  }
  if (input.document == null) throw badInput(`${path}.document`, 'is required for INSERT');
  const document = validateObject(`${path}.document`, input.document, limits);
  if ('_id' in document && document._id !== input.id) {
    throw badInput(`${path}.document._id`, 'must equal the change id when present');
  }
  schemaOf(input.collection)?.checkDocument(`${path}.document`, input.id, document);
  return { collection: input.collection, id: input.id, op: 'INSERT', document };
}

function validateUpdate(
  path: string,
  input: ChangeInputLike,
  limits: UploadLimits,
  schemaOf: SchemaLookup,
): Change {
  if (input.document != null) throw badInput(`${path}.document`, 'UPDATE takes set and unset');
  if (input.set == null && (input.unset == null || input.unset.length === 0)) {
    throw badInput(`${path}.set`, 'UPDATE needs set or unset');
  }
  const set = input.set == null ? undefined : validateObject(`${path}.set`, input.set, limits);
  if (set && '_id' in set) throw badInput(`${path}.set._id`, '_id cannot be changed');
  const unset = input.unset ? [...input.unset] : undefined;
  unset?.forEach((name, i) => validateFieldName(`${path}.unset[${i}]`, name));
  const schema = schemaOf(input.collection);
  if (set) schema?.checkSet(`${path}.set`, set);
  if (unset) schema?.checkUnset(`${path}.unset`, unset);
  return { collection: input.collection, id: input.id, op: 'UPDATE', set, unset };
}

function validateChange(
  path: string,
  input: ChangeInputLike,
  limits: UploadLimits,
  schemaOf: SchemaLookup,
): Change {
  validateCollection(`${path}.collection`, input.collection);
  if (input.id.length === 0 || input.id.length > MAX_ID_LENGTH || !wellFormed(input.id)) {
    throw badInput(`${path}.id`, `must be 1 to ${MAX_ID_LENGTH} characters of well-formed text`);
  }
  if (input.op === 'INSERT') return validateInsert(path, input, limits, schemaOf);
  if (input.op === 'UPDATE') return validateUpdate(path, input, limits, schemaOf);
  if (input.document != null || input.set != null || input.unset != null) {
    throw badInput(`${path}.document`, 'DELETE takes no document, set or unset');
  }
  return { collection: input.collection, id: input.id, op: 'DELETE' };
}

/** How far ahead of the gateway's clock a client's clock may run, unless configured. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** A real instant (no 30 February), not too far in the future: it would win every conflict. */
export function validateTimestamp(
  field: string,
  value: string,
  now: Date,
  maxSkewMs = DEFAULT_CLOCK_SKEW_MS,
): void {
  const time = Date.parse(value.slice(0, 24));
  if (
    !TIMESTAMP.test(value) ||
    Number.isNaN(time) ||
    new Date(time).toISOString() !== value.slice(0, 24)
  ) {
    throw badInput(
      field,
      'must be an ISO-8601 UTC time with milliseconds, a dash and a 4-digit counter',
    );
  }
  if (time > now.getTime() + maxSkewMs) {
    throw badInput(
      field,
      `is more than ${maxSkewMs / 1000} s ahead of the gateway's clock (${now.toISOString()}): set the device's clock`,
    );
  }
}

/**
 * Validates every changeset of one upload, documents against their collection's schema
 * when it has one; throws on the first problem.
 */
export function validateChangesets(
  inputs: readonly ChangesetInputLike[],
  limits: UploadLimits,
  now: Date,
  schemaOf: SchemaLookup = NO_SCHEMAS,
): Changeset[] {
  const total = inputs.reduce((n, c) => n + c.changes.length, 0);
  if (total > limits.maxChangesPerUpload) {
    throw badInput(
      'changesets',
      `${total} changes exceed the limit of ${limits.maxChangesPerUpload}`,
    );
  }
  let previous = 0;
  return inputs.map((input, i) => {
    const path = `changesets[${i}]`;
    if (!Number.isInteger(input.clientVersion) || input.clientVersion <= previous) {
      throw badInput(
        `${path}.clientVersion`,
        'must be a positive integer, increasing within the upload',
      );
    }
    previous = input.clientVersion;
    validateTimestamp(`${path}.timestamp`, input.timestamp, now, limits.maxClockSkewMs);
    const changes = input.changes.map((c, j) =>
      validateChange(`${path}.changes[${j}]`, c, limits, schemaOf),
    );
    return { clientVersion: input.clientVersion, timestamp: input.timestamp, changes };
  });
}

/** Validates subscription queries; a filter must be a JSON object the matcher accepts. */
export function validateQueries(
  inputs: readonly { collection: string; filter?: unknown }[],
  checkFilter: (filter: JsonObject) => void,
): SyncQuery[] {
  if (inputs.length > MAX_QUERIES) {
    throw badInput('queries', `holds ${inputs.length} queries; a session may hold ${MAX_QUERIES}`);
  }
  return inputs.map((q, i) => {
    validateCollection(`queries[${i}].collection`, q.collection);
    if (q.filter == null) return { collection: q.collection, filter: null };
    if (!isJsonObject(q.filter)) throw badInput(`queries[${i}].filter`, 'must be a JSON object');
    try {
      checkFilter(q.filter);
    } catch (error) {
      throw badInput(`queries[${i}].filter`, (error as Error).message);
    }
    return { collection: q.collection, filter: q.filter as JsonObject };
  });
}

export type { Json };
