/**
 * Conflict rules (DESIGN section 3), as a join over per-field stamps:
 *
 * - a stamp is `timestamp|clientId|index`, so it orders by the client's hybrid logical
 *   clock, then client id (the tie break), then position inside the changeset;
 * - every field keeps the write with the greatest stamp (last writer wins per field,
 *   different fields of one document merge);
 * - deletes win over updates: an update never brings a deleted document back; only an
 *   insert stamped after the newest delete does, and only fields written after that
 *   delete are visible.
 *
 * Every operation is a max over stamps, so the state reached does not depend on the
 * order in which changesets arrive.
 */
import type { Change, DocumentState, FieldEntry, JsonObject } from './model.js';

export const emptyState = (): DocumentState => ({ fields: {}, ins: null, del: null });

export function makeStamp(timestamp: string, clientId: string, index: number): string {
  return `${timestamp}|${clientId}|${String(index).padStart(6, '0')}`;
}

const newer = (a: string | null, b: string): boolean => a === null || b > a;

function writeField(state: DocumentState, name: string, entry: FieldEntry): void {
  // Own properties only: "constructor" or "toString" are field names like any other.
  const current = Object.hasOwn(state.fields, name) ? state.fields[name] : undefined;
  if (!current || newer(current.s, entry.s)) state.fields[name] = entry;
}

/** Applies one change to a copy of `state`; the input is left untouched. */
export function applyChange(state: DocumentState, change: Change, stamp: string): DocumentState {
  const next: DocumentState = { fields: { ...state.fields }, ins: state.ins, del: state.del };
  if (change.op === 'DELETE') {
    if (newer(next.del, stamp)) next.del = stamp;
    return next;
  }
  if (change.op === 'INSERT') {
    if (newer(next.ins, stamp)) next.ins = stamp;
    for (const [name, v] of Object.entries(change.document ?? {})) {
      if (name !== '_id') writeField(next, name, { v, s: stamp });
    }
    return next;
  }
  for (const [name, v] of Object.entries(change.set ?? {})) writeField(next, name, { v, s: stamp });
  for (const name of change.unset ?? []) writeField(next, name, { s: stamp });
  return next;
}

/**
 * The last value of every field, deleted or not: what a write to a document that is not
 * visible is checked against, so nobody writes blindly into another user's document.
 */
export function lastKnownDocument(id: string, state: DocumentState): JsonObject {
  const doc: JsonObject = { _id: id };
  for (const name of Object.keys(state.fields).sort()) {
    const entry = state.fields[name];
    if (entry && 'v' in entry && entry.v !== undefined) doc[name] = entry.v;
  }
  return doc;
}

/** The document a reader sees, or null when it does not exist. */
export function visibleDocument(id: string, state: DocumentState): JsonObject | null {
  if (state.ins === null || (state.del !== null && state.del > state.ins)) return null;
  const doc: JsonObject = { _id: id };
  for (const name of Object.keys(state.fields).sort()) {
    const entry = state.fields[name];
    if (!entry || !('v' in entry) || entry.v === undefined) continue;
    if (state.del !== null && entry.s < state.del) continue;
    doc[name] = entry.v;
  }
  return doc;
}
