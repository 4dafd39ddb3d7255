/**
 * Writes that other services make directly to a synced collection ("backend writes").
 *
 * A store whose visible documents other programs can write (MongoDB's plain collections)
 * hands the sync core each document's mergeable state together with its visible copy as
 * it is now. Where the two disagree, someone else wrote the copy: the difference is
 * turned into changes stamped by the backend client and integrated like any other, so
 * the history carries it to every client in scope. Where they agree there is nothing to
 * do, which is what keeps the gateway's own writes from echoing back into the history.
 */
import { makeStamp, visibleDocument } from './conflict.js';
import type { Change, DocumentState, JsonObject, StoredDocument } from './model.js';
import { isWritableFieldName } from './validate.js';

/** The client id that backend writes are integrated and recorded under. */
export const BACKEND_CLIENT_ID = '__backend';

/** JSON text with object keys sorted at every level, to compare documents by value. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** Whether two documents hold the same fields and values, in any key order. */
export const sameDocument = (a: JsonObject | null, b: JsonObject | null): boolean => same(a, b);

/**
 * True when the visible copy is not what the document's state says it should be, in a way
 * the sync protocol can carry (a difference only in fields it cannot carry is left alone).
 */
export function hasBackendWrite(d: StoredDocument): boolean {
  const expected = visibleDocument(d.id, d.state);
  return !same(expected, d.doc) && backendChanges(d, expected).length > 0;
}

/**
 * The changes that turn the state's visible document into the copy found: an insert, a
 * delete, or an update setting and unsetting fields. A field the sync protocol cannot carry
 * (a name with "$" or ".") is left out, and so drops out of the synced copy. `expected` is
 * the state's visible document, when the caller has it already.
 */
export function backendChanges(
  d: StoredDocument,
  expected: JsonObject | null = visibleDocument(d.id, d.state),
): Change[] {
  const key = { collection: d.collection, id: d.id };
  if (d.doc === null) return expected === null ? [] : [{ ...key, op: 'DELETE' }];
  const found = writableFields(d.doc);
  if (expected === null) {
    // An insert brings back fields written after the last delete; unset those it lacks.
    const stale = Object.keys(d.state.fields).filter((name) => !Object.hasOwn(found, name));
    const insert: Change = { ...key, op: 'INSERT', document: found };
    return stale.length > 0 ? [insert, { ...key, op: 'UPDATE', unset: stale }] : [insert];
  }
  const set = Object.fromEntries(
    Object.entries(found).filter(
      ([name, v]) => !Object.hasOwn(expected, name) || !same(expected[name], v),
    ),
  );
  const unset = Object.keys(expected).filter(
    (name) => name !== '_id' && !Object.hasOwn(found, name),
  );
  if (Object.keys(set).length === 0 && unset.length === 0) return [];
  return [{ ...key, op: 'UPDATE', set, unset }];
}

function writableFields(doc: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(doc).filter(([name]) => name !== '_id' && isWritableFieldName(name)),
  );
}

const TIMESTAMP_COUNTER = /-(\d{4})$/;

/**
 * A hybrid logical clock reading for a backend write: now, or just after the newest stamp
 * in the document's state if that is later, so the write wins over everything the other
 * service could have seen when it made it.
 */
export function backendTimestamp(now: Date, state: DocumentState): string {
  const current = `${now.toISOString()}-0000`;
  const newest = newestTimestamp(state);
  if (newest === null || current > newest) return current;
  const counter = Number(TIMESTAMP_COUNTER.exec(newest)?.[1] ?? '0');
  const time = newest.slice(0, -5);
  if (counter < 9999) return `${time}-${String(counter + 1).padStart(4, '0')}`;
  return `${new Date(Date.parse(time) + 1).toISOString()}-0000`;
}

/** The timestamp part of the newest stamp in the state, or null for an empty state. */
function newestTimestamp(state: DocumentState): string | null {
  const stamps = [state.ins, state.del, ...Object.values(state.fields).map((f) => f.s)];
  let newest: string | null = null;
  for (const stamp of stamps)
    if (stamp !== null && (newest === null || stamp > newest)) newest = stamp;
  return newest === null ? null : newest.slice(0, newest.indexOf('|'));
}

/** The stamp of a backend change at `index` in the changes of one document. */
export const backendStamp = (timestamp: string, index: number): string =>
  makeStamp(timestamp, BACKEND_CLIENT_ID, index);
