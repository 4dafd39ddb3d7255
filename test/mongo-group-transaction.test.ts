/**
 * The driver half of the MongoDB store's group commit (src/store/mongodb/group-transaction.ts)
 * against a fake of the collections that records each operation: one read per kind, one
 * counter update and bulk writes per group, all in the group's session. No server needed;
 * the store contract (test/store-mongodb.test.ts) checks the same against a real one.
 */
import type { ClientSession } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { PlainDoc, StateDoc, SyncCollections } from '../src/store/mongodb/collections.js';
import type { GroupJob } from '../src/store/mongodb/group-plan.js';
import { integrateGroup } from '../src/store/mongodb/group-transaction.js';
import { sessionToDoc } from '../src/store/mongodb/rows.js';
import { documentKey, type IntegrationPlan } from '../src/store/port.js';
import type { DocumentKey } from '../src/sync/model.js';
import { sessionRecord } from './store-contract.js';

const T1 = '2026-11-26T13:00:00.000Z';
const SESSION = { id: 'the transaction' } as unknown as ClientSession;
const A: DocumentKey = { collection: 'items', id: 'a' };
const B: DocumentKey = { collection: 'notes', id: 'b' };

interface Call {
  collection: string;
  op: string;
  args: unknown[];
}

/** Collections answering every find with their rows; the counter moves by `$inc` (+ `drift`). */
function fakeCollections(seq: number, drift = 0) {
  const calls: Call[] = [];
  const counter = { _id: 'history', seq, integrations: 0 };
  const rows: Record<string, unknown[]> = {
    counters: [counter],
    sessions: ['s1', 's2'].map((id) => sessionToDoc(sessionRecord(id, `c-${id}`))),
    state: [{ ...A, state: { fields: {}, ins: 'x', del: null }, version: 3 } satisfies StateDoc],
    items: [{ _id: 'a', n: 1 } satisfies PlainDoc],
    notes: [],
  };
  const collection = (name: string) => {
    const record = (op: string, args: unknown[]) => calls.push({ collection: name, op, args });
    return {
      findOne: async (...args: unknown[]) => (record('findOne', args), rows[name]?.[0] ?? null),
      find: (...args: unknown[]) => (
        record('find', args),
        { toArray: async () => rows[name] ?? [] }
      ),
      findOneAndUpdate: async (...args: unknown[]) => {
        record('findOneAndUpdate', args);
        const inc = (args[1] as { $inc: { seq: number } }).$inc.seq;
        return { ...counter, seq: counter.seq + inc + drift };
      },
      insertMany: async (...args: unknown[]) => void record('insertMany', args),
      bulkWrite: async (...args: unknown[]) => void record('bulkWrite', args),
    };
  };
  const c = {
    counters: collection('counters'),
    sessions: collection('sessions'),
    state: collection('state'),
    history: collection('history'),
    plain: (name: string) => collection(name),
  } as unknown as SyncCollections;
  return { c, calls };
}

/** Writes each key as `{ n }`, one history entry each; result: the session's client. */
function putPlan(keys: DocumentKey[], n: number): IntegrationPlan<string> {
  return (view) => ({
    session: {
      lastIntegratedClientVersion: view.session.lastIntegratedClientVersion + 1,
      latestClientVersion: 1,
      uploadedBytes: 10,
      pendingBytes: 0,
      uploadBaselineBytes: 0,
      lastSyncedAt: T1,
    },
    documents: keys.map((k) => ({
      ...k,
      state: { fields: { n: { v: n, s: 'x' } }, ins: 'x', del: null },
      doc: { _id: k.id, n },
    })),
    history: keys.map((k) => ({
      ...k,
      clientId: view.session.clientId,
      clientVersion: 1,
      before: view.documents.get(documentKey(k))?.doc ?? null,
      after: { _id: k.id, n },
      committedAt: T1,
    })),
    result: view.session.clientId,
  });
}

const failing: IntegrationPlan<never> = () => {
  throw new Error('refused');
};

const jobs: GroupJob[] = [
  { sessionId: 's1', keys: [A, B], plan: putPlan([A, B], 2) },
  { sessionId: 's2', keys: [A], plan: failing },
  { sessionId: 's1', keys: [A], plan: putPlan([A], 3) },
];

const ops = (calls: Call[]) => calls.map((c) => `${c.collection}.${c.op}`);

describe('integrateGroup', () => {
  it('reads once per kind and writes with one counter update and bulk writes', async () => {
    const { c, calls } = fakeCollections(40);
    const outcomes = await integrateGroup(c, jobs, SESSION);
    expect(outcomes).toEqual([
      { ok: true, value: { result: 'c-s1', serverVersion: 42 } },
      { ok: false, error: new Error('refused') },
      { ok: true, value: { result: 'c-s1', serverVersion: 43 } },
    ]);
    expect(ops(calls)).toEqual([
      'counters.findOne',
      'sessions.find',
      'state.find',
      'items.find',
      'notes.find',
      'counters.findOneAndUpdate',
      'history.insertMany',
      'state.bulkWrite',
      'items.bulkWrite',
      'notes.bulkWrite',
      'sessions.bulkWrite',
    ]);
    for (const call of calls) expect(call.args.at(-1)).toMatchObject({ session: SESSION });
    const [, sessionsFind, stateFind] = calls;
    expect(sessionsFind?.args[0]).toEqual({ _id: { $in: ['s1', 's2'] } });
    expect(stateFind?.args[0]).toEqual({
      $or: [
        { collection: 'items', id: { $in: ['a'] } },
        { collection: 'notes', id: { $in: ['b'] } },
      ],
    });
  });

  it('advances the counter by every version handed out, numbering history in item order', async () => {
    const { c, calls } = fakeCollections(40);
    await integrateGroup(c, jobs, SESSION);
    const call = (name: string) => calls.find((x) => ops([x])[0] === name)!;
    expect(call('counters.findOneAndUpdate').args.slice(0, 2)).toEqual([
      { _id: 'history' },
      { $inc: { seq: 3, integrations: 2 } },
    ]);
    expect(call('counters.findOneAndUpdate').args[2]).toMatchObject({ upsert: true });
    const history = call('history.insertMany').args[0] as { _id: number; after: unknown }[];
    expect(history.map((h) => [h._id, h.after])).toEqual([
      [41, { _id: 'a', n: 2 }],
      [42, { _id: 'b', n: 2 }],
      [43, { _id: 'a', n: 3 }],
    ]);
    const states = call('state.bulkWrite').args[0] as { replaceOne: { replacement: StateDoc } }[];
    expect(
      states.map((s) => [s.replaceOne.replacement.id, s.replaceOne.replacement.version]),
    ).toEqual([
      ['a', 43],
      ['b', 42],
    ]);
    const sessions = call('sessions.bulkWrite').args[0] as { updateOne: unknown }[];
    expect(sessions).toEqual([
      {
        updateOne: {
          filter: { _id: 's1' },
          update: { $set: expect.objectContaining({ lastIntegratedClientVersion: 2 }) },
        },
      },
    ]);
  });

  it('writes nothing when every plan of the group fails', async () => {
    const { c, calls } = fakeCollections(40);
    const outcomes = await integrateGroup(c, [jobs[1]!], SESSION);
    expect(outcomes).toEqual([{ ok: false, error: new Error('refused') }]);
    expect(ops(calls)).toEqual(['counters.findOne', 'sessions.find', 'state.find', 'items.find']);
  });

  it('aborts the group rather than hand out a version twice if the counter moved', async () => {
    const { c } = fakeCollections(40, 1);
    await expect(integrateGroup(c, jobs, SESSION)).rejects.toThrow(/history counter moved/);
  });
});
