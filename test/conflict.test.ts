/** Examples of the conflict rules of src/sync/conflict.ts, each applied in both orders. */
import { describe, expect, it } from 'vitest';
import { applyChange, emptyState, makeStamp, visibleDocument } from '../src/sync/conflict.js';
import type { Change, DocumentState, JsonObject } from '../src/sync/model.js';

const at = (second: number, clientId = 'alice', index = 0) =>
  makeStamp(`2026-11-26T19:55:${String(second).padStart(2, '0')}.000Z-0000`, clientId, index);

const insert = (document: JsonObject): Change => ({
  collection: 'c',
  id: 'd',
  op: 'INSERT',
  document,
});
const update = (set: JsonObject, unset?: string[]): Change => ({
  collection: 'c',
  id: 'd',
  op: 'UPDATE',
  set,
  ...(unset ? { unset } : {}),
});
const remove: Change = { collection: 'c', id: 'd', op: 'DELETE' };

type Stamped = [Change, string];

function applyAll(changes: Stamped[], state: DocumentState = emptyState()): DocumentState {
  return changes.reduce((s, [change, stamp]) => applyChange(s, change, stamp), state);
}

/** The visible document after the changes, checked to be the same in reverse order. */
function resultOf(changes: Stamped[]): JsonObject | null {
  const forward = visibleDocument('d', applyAll(changes));
  expect(visibleDocument('d', applyAll([...changes].reverse()))).toEqual(forward);
  return forward;
}

describe('conflict rules', () => {
  it('a delete wins over a later update', () => {
    const changes: Stamped[] = [
      [insert({ a: 1 }), at(1)],
      [remove, at(2, 'bob')],
      [update({ a: 2, b: 3 }), at(3)],
    ];
    expect(resultOf(changes)).toBeNull();
  });

  it('an insert after a delete recreates the document with only newer fields', () => {
    const changes: Stamped[] = [
      [insert({ a: 1, b: 1 }), at(1)],
      [update({ c: 1 }), at(2)],
      [remove, at(3, 'bob')],
      [update({ b: 2 }), at(4)],
      [insert({ d: 4 }), at(5, 'carol')],
    ];
    expect(resultOf(changes)).toEqual({ _id: 'd', b: 2, d: 4 });
  });

  it('an insert older than the delete does not bring the document back', () => {
    const changes: Stamped[] = [
      [remove, at(3, 'bob')],
      [insert({ a: 1 }), at(2)],
    ];
    expect(resultOf(changes)).toBeNull();
  });

  it('the same timestamp is broken by client id', () => {
    const changes: Stamped[] = [
      [insert({ a: 0 }), at(1)],
      [update({ a: 'alice' }), at(2, 'alice')],
      [update({ a: 'bob' }), at(2, 'bob')],
    ];
    expect(resultOf(changes)).toEqual({ _id: 'd', a: 'bob' });
  });

  it('within one changeset the later change wins', () => {
    const changes: Stamped[] = [
      [insert({ a: 0 }), at(1, 'alice', 0)],
      [update({ a: 'second' }), at(1, 'alice', 2)],
      [update({ a: 'first' }), at(1, 'alice', 1)],
    ];
    expect(resultOf(changes)).toEqual({ _id: 'd', a: 'second' });
  });

  it('writes to different fields merge; the newest write of a field wins', () => {
    const changes: Stamped[] = [
      [insert({ a: 0, b: 0, c: 0 }), at(1)],
      [update({ a: 'alice', c: 'alice' }), at(3, 'alice')],
      [update({ b: 'bob', c: 'bob' }), at(2, 'bob')],
    ];
    expect(resultOf(changes)).toEqual({ _id: 'd', a: 'alice', b: 'bob', c: 'alice' });
  });

  it('a newer unset removes a field; an older one does not', () => {
    const changes: Stamped[] = [
      [insert({ a: 1, b: 1 }), at(1)],
      [update({ a: 2 }), at(3)],
      [update({}, ['a', 'b']), at(2, 'bob')],
    ];
    expect(resultOf(changes)).toEqual({ _id: 'd', a: 2 });
  });

  it('an update of a document never inserted is not visible', () => {
    expect(resultOf([[update({ a: 1 }), at(1)]])).toBeNull();
  });

  it('applyChange leaves its input state untouched', () => {
    const state = applyAll([[insert({ a: 1 }), at(1)]]);
    const copy = structuredClone(state);
    applyChange(state, update({ a: 2 }), at(2));
    applyChange(state, remove, at(3));
    expect(state).toEqual(copy);
  });
});

describe('field names that are also names of Object.prototype', () => {
  it('are written and merged like any other field', () => {
    const doc = { constructor: 'c', toString: 's', hasOwnProperty: 'h' };
    const state = applyChange(
      emptyState(),
      { collection: 'x', id: '1', op: 'INSERT', document: doc },
      'T1|a|000000',
    );
    expect(visibleDocument('1', state)).toEqual({ _id: '1', ...doc });
  });
});
