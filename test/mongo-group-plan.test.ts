/**
 * The pure half of the MongoDB store's group commit (src/store/mongodb/group-plan.ts): a
 * group's plans run in memory, in item order, each over what the ones before it wrote; no
 * server needed.
 */
import { describe, expect, it } from 'vitest';
import { documentKey, type IntegrationPlan, type IntegrationView } from '../src/store/port.js';
import { planGroup, type GroupJob, type GroupRead } from '../src/store/mongodb/group-plan.js';
import type { DocumentKey, JsonObject, StoredDocument } from '../src/sync/model.js';
import { sessionRecord } from './store-contract.js';

const T1 = '2026-11-26T13:00:00.000Z';
const STAMP = '2026-11-26T12:00:00.000Z-0001|client|000000';
const COUNTER: DocumentKey = { collection: 'items', id: 'counter' };
const OTHER: DocumentKey = { collection: 'notes', id: 'other' };

const stateOf = (doc: JsonObject) => ({
  fields: Object.fromEntries(
    Object.entries(doc)
      .filter(([name]) => name !== '_id')
      .map(([name, v]) => [name, { v, s: STAMP }]),
  ),
  ins: STAMP,
  del: null,
});

const stored = (key: DocumentKey, doc: JsonObject, version: number): StoredDocument => ({
  ...key,
  state: stateOf(doc),
  doc: { _id: key.id, ...doc },
  version,
});

/** A read of the counter document at `n` (version 7) and sessions s1, s2, at `latest`. */
function readAt(latest: number, n = 0): GroupRead {
  return {
    latest,
    sessions: new Map(['s1', 's2'].map((id) => [id, sessionRecord(id, `c-${id}`)])),
    documents: new Map([[documentKey(COUNTER), stored(COUNTER, { n }, 7)]]),
  };
}

/** Reads the counter document and writes it plus one (one history entry); result: what it saw. */
function increment(tag: string): IntegrationPlan<{ tag: string; seen: number }> {
  return (view) => {
    const seen = Number(view.documents.get(documentKey(COUNTER))?.doc?.n ?? 0);
    const cv = view.session.lastIntegratedClientVersion + 1;
    const doc = { _id: COUNTER.id, n: seen + 1, last: tag };
    return {
      session: { ...patchOf(view, cv) },
      documents: [{ ...COUNTER, state: stateOf(doc), doc }],
      history: [
        {
          ...COUNTER,
          clientId: view.session.clientId,
          clientVersion: cv,
          before: view.documents.get(documentKey(COUNTER))?.doc ?? null,
          after: doc,
          committedAt: T1,
        },
      ],
      result: { tag, seen },
    };
  };
}

function patchOf(view: IntegrationView, clientVersion: number) {
  return {
    lastIntegratedClientVersion: clientVersion,
    latestClientVersion: clientVersion,
    uploadedBytes: view.session.uploadedBytes + 10,
    pendingBytes: 0,
    uploadBaselineBytes: view.session.uploadBaselineBytes,
    lastSyncedAt: T1,
  };
}

/** Writes `count` history entries for OTHER and nothing else. */
function entries(count: number): IntegrationPlan<string> {
  return (view) => ({
    session: patchOf(view, view.session.lastIntegratedClientVersion + 1),
    documents: [],
    history: Array.from({ length: count }, (_, i) => ({
      ...OTHER,
      clientId: view.session.clientId,
      clientVersion: i,
      before: null,
      after: { _id: OTHER.id, i },
      committedAt: T1,
    })),
    result: `${count} entries`,
  });
}

const failing =
  (message: string): IntegrationPlan<never> =>
  () => {
    throw new Error(message);
  };

const job = (sessionId: string, plan: IntegrationPlan<unknown>, keys = [COUNTER]): GroupJob => ({
  sessionId,
  keys,
  plan,
});

describe('planGroup', () => {
  it('hands out versions consecutively in item order, from the counter read', () => {
    const jobs = [job('s1', entries(2)), job('s2', entries(0)), job('s1', entries(1))];
    const { outcomes, writes } = planGroup(jobs, readAt(10));
    expect(writes.history.map((h) => h.version)).toEqual([11, 12, 13]);
    expect(writes.history.map((h) => h.after?.i)).toEqual([0, 1, 0]);
    // Each item answers its last version; one without history the latest so far, as a
    // transaction of its own would (the counter after adding nothing).
    expect(outcomes).toEqual([
      { ok: true, value: { result: '2 entries', serverVersion: 12 } },
      { ok: true, value: { result: '0 entries', serverVersion: 12 } },
      { ok: true, value: { result: '1 entries', serverVersion: 13 } },
    ]);
    expect(writes).toMatchObject({ base: 10, latest: 13, committed: 3 });
  });

  it('each plan sees the document and the session as the items before it left them', () => {
    const jobs = [job('s1', increment('a')), job('s1', increment('b')), job('s2', increment('c'))];
    const { outcomes, writes } = planGroup(jobs, readAt(3, 5));
    expect(outcomes.map((o) => o.ok && o.value)).toEqual([
      { result: { tag: 'a', seen: 5 }, serverVersion: 4 },
      { result: { tag: 'b', seen: 6 }, serverVersion: 5 },
      { result: { tag: 'c', seen: 7 }, serverVersion: 6 },
    ]);
    expect(
      writes.history.map((h) => [h.version, h.clientId, h.clientVersion, h.before?.n]),
    ).toEqual([
      [4, 'c-s1', 1, 5],
      [5, 'c-s1', 2, 6],
      [6, 'c-s2', 1, 7],
    ]);
    // One write per document: the last one, at the last version.
    expect(writes.documents).toEqual([
      {
        ...COUNTER,
        state: stateOf({ n: 8, last: 'c' }),
        doc: expect.objectContaining({ n: 8 }),
        version: 6,
        copyIntact: false,
      },
    ]);
    // One patch per session, later fields over earlier ones.
    expect(writes.sessions).toEqual(
      new Map([
        ['s1', expect.objectContaining({ lastIntegratedClientVersion: 2, uploadedBytes: 20 })],
        ['s2', expect.objectContaining({ lastIntegratedClientVersion: 1, uploadedBytes: 10 })],
      ]),
    );
  });

  it('a plan that throws gets its own error and leaves no trace; the others go on', () => {
    const jobs = [
      job('s1', increment('a')),
      job('s1', failing('refused')),
      job('s1', increment('b')),
    ];
    const { outcomes, writes } = planGroup(jobs, readAt(0));
    expect(outcomes[0]).toMatchObject({ ok: true, value: { serverVersion: 1 } });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { message: 'refused' } });
    // The third saw the first's writes and the next version: the failed one took none.
    expect(outcomes[2]).toEqual({
      ok: true,
      value: { result: { tag: 'b', seen: 1 }, serverVersion: 2 },
    });
    expect(writes.history.map((h) => [h.version, h.clientVersion])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(writes).toMatchObject({ latest: 2, committed: 2 });
    expect(writes.sessions.get('s1')).toMatchObject({ lastIntegratedClientVersion: 2 });
  });

  it('a session missing from the read fails its item only', () => {
    const jobs = [job('gone', increment('x')), job('s1', increment('a'))];
    const { outcomes, writes } = planGroup(jobs, readAt(0));
    expect(outcomes[0]).toMatchObject({
      ok: false,
      error: { message: 'session gone vanished during integration' },
    });
    expect(outcomes[1]).toMatchObject({ ok: true, value: { result: { seen: 0 } } });
    expect(writes.history).toHaveLength(1);
    expect([...writes.sessions.keys()]).toEqual(['s1']);
  });

  it('writes nothing when every plan fails', () => {
    const { writes } = planGroup([job('s1', failing('no'))], readAt(4));
    expect(writes).toEqual({
      base: 4,
      latest: 4,
      committed: 0,
      history: [],
      documents: [],
      sessions: new Map(),
    });
  });

  it('shows each plan only its own keys that exist', () => {
    const seen: IntegrationView[] = [];
    const spy: IntegrationPlan<null> = (view) => {
      seen.push(view);
      return { session: patchOf(view, 1), documents: [], history: [], result: null };
    };
    const missing = { collection: 'items', id: 'missing' };
    planGroup([job('s1', increment('a')), job('s2', spy, [missing, COUNTER])], readAt(0));
    expect([...seen[0]!.documents.keys()]).toEqual([documentKey(COUNTER)]);
    // What the first item wrote, at the version it got.
    expect(seen[0]!.documents.get(documentKey(COUNTER))).toMatchObject({
      doc: { n: 1 },
      version: 1,
    });
    expect(seen[0]!.session).toMatchObject({ id: 's2', lastIntegratedClientVersion: 0 });
  });

  it('a document written without a history entry keeps the version its plan saw', () => {
    const touch: IntegrationPlan<null> = (view) => {
      const d = view.documents.get(documentKey(COUNTER))!;
      return {
        session: patchOf(view, 2),
        documents: [{ ...COUNTER, state: d.state, doc: d.doc, copyIntact: true }],
        history: [],
        result: null,
      };
    };
    const alone = planGroup([job('s1', touch)], readAt(9));
    expect(alone.writes.documents).toEqual([
      expect.objectContaining({ version: 7, copyIntact: true }),
    ]);
    // After a write of the group, the version that write gave; the copy is written then.
    const after = planGroup([job('s1', increment('a')), job('s1', touch)], readAt(9));
    expect(after.writes.documents).toEqual([
      expect.objectContaining({
        version: 10,
        copyIntact: false,
        doc: expect.objectContaining({ n: 1 }),
      }),
    ]);
  });

  it('leaves the read as it was, so a retried transaction plans the same from scratch', () => {
    const read = readAt(0, 5);
    const before = structuredClone({
      ...read,
      sessions: [...read.sessions],
      documents: [...read.documents],
    });
    const jobs = [job('s1', increment('a')), job('s2', increment('b'))];
    const first = planGroup(jobs, read);
    const again = planGroup(jobs, read);
    expect(again).toEqual(first);
    expect({ ...read, sessions: [...read.sessions], documents: [...read.documents] }).toEqual(
      before,
    );
  });
});
