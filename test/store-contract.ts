/**
 * The shared contract of the store port (src/store/port.ts): every adapter (SQLite today,
 * MongoDB later) runs this same suite, so it speaks only through the `SyncStore` interface.
 *
 *   storeContract('sqlite file', async () => ({ store, reopen, cleanup }));
 *
 * `reopen`, when given, closes the store and opens the same data again (a durable
 * adapter); `cleanup` releases whatever is open (it may already be closed) and its data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { documentKey, type IntegrationOutcome, type SyncStore } from '../src/store/port.js';
import type { DocumentKey, HistoryEntry, JsonObject, SessionRecord } from '../src/sync/model.js';
import { ANY, NONE, type ScopeCondition } from '../src/sync/scope-condition.js';
import {
  COUNTER,
  failing,
  incrementPlan,
  putPlan,
  stateOf,
  T1,
  viewPlan,
  type Put,
} from './helpers/store-plans.js';

export interface StoreUnderTest {
  store: SyncStore;
  /** Closes `store` and opens the same data again; only for durable adapters. */
  reopen?: () => Promise<SyncStore>;
  /** Closes what is open (tolerating an already closed store) and removes its data. */
  cleanup: () => Promise<void>;
}

export type OpenStore = () => Promise<StoreUnderTest>;

// ---- fixtures -----------------------------------------------------------------------

const T0 = '2026-11-26T12:00:00.000Z';
const T2 = '2026-11-26T14:00:00.000Z';

export function sessionRecord(
  id: string,
  clientId: string,
  userId = 'u1',
  extra: Partial<SessionRecord> = {},
): SessionRecord {
  return {
    id,
    clientId,
    userId,
    queries: [{ collection: 'items', filter: { ownerId: userId } }],
    rescopeFrom: null,
    queriesVersion: 0,
    lastIntegratedClientVersion: 0,
    latestClientVersion: 0,
    lastDownloadedServerVersion: 0,
    pause: null,
    uploadedBytes: 0,
    pendingBytes: 0,
    uploadBaselineBytes: 0,
    lastSyncedAt: T0,
    resetRequired: false,
    closed: false,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

const key = (id: string, collection = 'items'): DocumentKey => ({ collection, id });

const put = (id: string, doc: JsonObject | null, collection = 'items'): Put => ({
  key: key(id, collection),
  doc: doc && { _id: id, ...doc },
});

async function openAll(store: SyncStore, sessions: SessionRecord[]): Promise<void> {
  for (const s of sessions) await store.openSession(s);
}

// ---- the suite ----------------------------------------------------------------------

type Get = () => StoreUnderTest;

export function storeContract(name: string, open: OpenStore): void {
  describe(`SyncStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const get: Get = () => {
      if (!current) throw new Error('store not open');
      return current;
    };
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });
    sessionTests(get);
    listSessionTests(get);
    integrateTests(get);
    concurrencyTests(get);
    readTests(get);
    scopeReadTests(get);
    maintenanceTests(get);
    durabilityTests(get);
  });
}

// ---- sessions -----------------------------------------------------------------------

function sessionTests(get: Get): void {
  describe('openSession / getSessions / updateSession', () => {
    it('creates a session for an unknown client and returns it', async () => {
      const { store } = get();
      const candidate = sessionRecord('s1', 'c1');
      expect(await store.openSession(candidate)).toEqual(candidate);
      expect(await store.getSessions(['s1'])).toEqual([candidate]);
    });

    it('returns the existing session for a known clientId, ignoring the new candidate', async () => {
      const { store } = get();
      const first = sessionRecord('s1', 'c1', 'u1');
      await store.openSession(first);
      const again = await store.openSession(sessionRecord('s2', 'c1', 'u2'));
      expect(again).toEqual(first);
      expect(await store.getSessions(['s2'])).toEqual([undefined]);
    });

    it('opens the sessions of many clients at once, each its own', async () => {
      const { store } = get();
      const candidates = Array.from({ length: 40 }, (_, i) => sessionRecord(`s${i}`, `c${i}`));
      const opened = await Promise.all(candidates.map((c) => store.openSession(c)));
      expect(opened).toEqual(candidates);
      expect(await store.getSessions(candidates.map((c) => c.id))).toEqual(candidates);
    });

    it('creates one session when the same client opens concurrently', async () => {
      const { store } = get();
      const candidates = [1, 2, 3, 4, 5].map((i) => sessionRecord(`s${i}`, 'c1'));
      const opened = await Promise.all(candidates.map((c) => store.openSession(c)));
      expect(new Set(opened.map((s) => s.id)).size).toBe(1);
      expect((await store.listSessions({ limit: 10 })).sessions).toHaveLength(1);
    });

    it('getSessions answers in the order asked, undefined for unknown ids', async () => {
      const { store } = get();
      await openAll(store, [sessionRecord('s1', 'c1'), sessionRecord('s2', 'c2')]);
      const found = await store.getSessions(['s2', 'nope', 's1']);
      expect(found.map((s) => s?.id)).toEqual(['s2', undefined, 's1']);
    });

    it('updateSession patches only the named fields and returns the record', async () => {
      const { store } = get();
      const original = sessionRecord('s1', 'c1');
      await store.openSession(original);
      const patch = {
        queries: [{ collection: 'notes', filter: null }],
        rescopeFrom: original.queries,
        queriesVersion: 3,
        pause: { directions: ['UPLOAD' as const], until: null, since: T1 },
        closed: true,
        resetRequired: true,
        lastSyncedAt: T1,
        updatedAt: T1,
      };
      const expected = { ...original, ...patch };
      expect(await store.updateSession('s1', patch)).toEqual(expected);
      expect(await store.getSessions(['s1'])).toEqual([expected]);
    });

    it('updateSession can clear nullable fields', async () => {
      const { store } = get();
      const pause = { directions: ['DOWNLOAD' as const], until: T2, since: T1 };
      await store.openSession(sessionRecord('s1', 'c1', 'u1', { pause, rescopeFrom: [] }));
      const updated = await store.updateSession('s1', { pause: null, rescopeFrom: null });
      expect(updated).toMatchObject({ pause: null, rescopeFrom: null });
    });

    it('updateSession with an expectation writes only while the session still holds it', async () => {
      const { store } = get();
      const pause = { directions: ['DOWNLOAD' as const], until: T2, since: T1 };
      const from = [{ collection: 'items', filter: { tags: { $in: ['a'] } } }];
      await store.openSession(sessionRecord('s1', 'c1', 'u1', { pause, rescopeFrom: from }));
      const [session] = await store.getSessions(['s1']);
      const { queries, rescopeFrom } = session!;
      // Another writer changed the queries first: nothing is written.
      const newer = [{ collection: 'notes', filter: null }];
      expect(
        await store.updateSession('s1', { rescopeFrom: null }, { queries: newer, rescopeFrom }),
      ).toBeUndefined();
      expect((await store.getSessions(['s1']))[0]?.rescopeFrom).toEqual(from);
      const cleared = await store.updateSession(
        's1',
        { rescopeFrom: null },
        { queries, rescopeFrom },
      );
      expect(cleared?.rescopeFrom).toBeNull();
      // A null expectation matches a cleared field.
      expect(
        await store.updateSession('s1', { closed: true }, { rescopeFrom: null }),
      ).toMatchObject({ closed: true });
      // The pause's until.
      expect(await store.updateSession('s1', { pause: null }, { pauseUntil: T1 })).toBeUndefined();
      expect(await store.updateSession('s1', { pause: null }, { pauseUntil: T2 })).toMatchObject({
        pause: null,
      });
      expect(await store.updateSession('s1', { pause: null }, { pauseUntil: T2 })).toBeUndefined();
    });

    it('updateSession never moves lastDownloadedServerVersion back', async () => {
      const { store } = get();
      await store.openSession(sessionRecord('s1', 'c1'));
      await store.updateSession('s1', { lastDownloadedServerVersion: 5 });
      const updated = await store.updateSession('s1', { lastDownloadedServerVersion: 3 });
      expect(updated?.lastDownloadedServerVersion).toBe(5);
      const [stored] = await store.getSessions(['s1']);
      expect(stored?.lastDownloadedServerVersion).toBe(5);
    });

    it('keeps queriesVersion: as created, then as patched', async () => {
      const { store } = get();
      await store.openSession(sessionRecord('s1', 'c1', 'u1', { queriesVersion: 0 }));
      await store.openSession(sessionRecord('s2', 'c2', 'u1', { queriesVersion: 4 }));
      const [a, b] = await store.getSessions(['s1', 's2']);
      expect([a?.queriesVersion, b?.queriesVersion]).toEqual([0, 4]);
      const patched = await store.updateSession('s1', { queriesVersion: 1, updatedAt: T1 });
      expect(patched).toMatchObject({ queriesVersion: 1, updatedAt: T1 });
      const untouched = await store.updateSession('s1', { closed: true });
      expect(untouched?.queriesVersion).toBe(1);
    });

    it('touchSessions sets lastSyncedAt of the named sessions only', async () => {
      const { store } = get();
      await openAll(store, [
        sessionRecord('s1', 'c1', 'u1', { lastSyncedAt: T0 }),
        sessionRecord('s2', 'c2', 'u1', { lastSyncedAt: T0 }),
        sessionRecord('s3', 'c3', 'u1', { lastSyncedAt: T0 }),
      ]);
      await store.touchSessions(['s1', 'nope', 's3'], T2);
      await store.touchSessions([], T1);
      const sessions = await store.getSessions(['s1', 's2', 's3']);
      expect(sessions.map((s) => s?.lastSyncedAt)).toEqual([T2, T0, T2]);
      expect(sessions[0]).toEqual(sessionRecord('s1', 'c1', 'u1', { lastSyncedAt: T2 }));
      expect(await store.getSessions(['nope'])).toEqual([undefined]);
    });

    it('acknowledgeDownloads moves each named position up, never back, in one call', async () => {
      const { store } = get();
      await openAll(store, [
        sessionRecord('s1', 'c1', 'u1', { lastSyncedAt: T0, lastDownloadedServerVersion: 5 }),
        sessionRecord('s2', 'c2', 'u1', { lastSyncedAt: T0, lastDownloadedServerVersion: 5 }),
        sessionRecord('s3', 'c3', 'u1', { lastSyncedAt: T0, lastDownloadedServerVersion: 5 }),
      ]);
      const acks = [
        { sessionId: 's1', version: 9 },
        { sessionId: 'nope', version: 9 },
        { sessionId: 's3', version: 2 },
      ];
      await store.acknowledgeDownloads(acks, T2);
      await store.acknowledgeDownloads([], T1);
      const sessions = await store.getSessions(['s1', 's2', 's3']);
      expect(sessions.map((s) => s?.lastDownloadedServerVersion)).toEqual([9, 5, 5]);
      expect(sessions.map((s) => s?.lastSyncedAt)).toEqual([T2, T0, T2]);
      expect(sessions[0]).toEqual(
        sessionRecord('s1', 'c1', 'u1', {
          lastSyncedAt: T2,
          updatedAt: T2,
          lastDownloadedServerVersion: 9,
        }),
      );
      expect(await store.getSessions(['nope'])).toEqual([undefined]);
    });

    it('updateSession of an unknown session returns undefined and creates nothing', async () => {
      const { store } = get();
      expect(await store.updateSession('nope', { closed: true })).toBeUndefined();
      expect(await store.getSessions(['nope'])).toEqual([undefined]);
    });
  });
}

function listSessionTests(get: Get): void {
  describe('listSessions', () => {
    // Created out of id order, alternating users.
    const ids = ['s05', 's02', 's07', 's01', 's06', 's03', 's04'];
    const userOf = (id: string) => (Number(id.slice(1)) % 2 === 1 ? 'odd' : 'even');
    beforeEach(async () => {
      const sessions = ids.map((id) => sessionRecord(id, `c-${id}`, userOf(id)));
      await openAll(get().store, sessions);
    });

    const pageIds = async (query: Parameters<SyncStore['listSessions']>[0]) => {
      const page = await get().store.listSessions(query);
      return { ids: page.sessions.map((s) => s.id), more: page.hasNextPage };
    };

    it('orders by id and pages with after, limit and hasNextPage', async () => {
      expect(await pageIds({ limit: 3 })).toEqual({ ids: ['s01', 's02', 's03'], more: true });
      expect(await pageIds({ limit: 3, after: 's03' })).toEqual({
        ids: ['s04', 's05', 's06'],
        more: true,
      });
      expect(await pageIds({ limit: 3, after: 's06' })).toEqual({ ids: ['s07'], more: false });
      expect(await pageIds({ limit: 3, after: 's07' })).toEqual({ ids: [], more: false });
    });

    it('says there is no next page when the last page is exactly full', async () => {
      expect(await pageIds({ limit: 7 })).toEqual({ ids: [...ids].sort(), more: false });
      expect(await pageIds({ limit: 2, after: 's05' })).toEqual({
        ids: ['s06', 's07'],
        more: false,
      });
    });

    it('lists the sessions of one user only, with paging', async () => {
      expect(await pageIds({ userId: 'odd', limit: 2 })).toEqual({
        ids: ['s01', 's03'],
        more: true,
      });
      expect(await pageIds({ userId: 'odd', limit: 2, after: 's03' })).toEqual({
        ids: ['s05', 's07'],
        more: false,
      });
      expect(await pageIds({ userId: 'even', limit: 10 })).toEqual({
        ids: ['s02', 's04', 's06'],
        more: false,
      });
      expect(await pageIds({ userId: 'nobody', limit: 10 })).toEqual({ ids: [], more: false });
    });

    it('returns whole session records', async () => {
      const page = await get().store.listSessions({ limit: 1, after: 's04' });
      expect(page.sessions).toEqual([sessionRecord('s05', 'c-s05', 'odd')]);
    });
  });
}

// ---- integration --------------------------------------------------------------------

function integrateTests(get: Get): void {
  describe('integrate', () => {
    beforeEach(() => get().store.openSession(sessionRecord('s1', 'c1')));

    it('writes documents, history and the session patch together', async () => {
      const { store } = get();
      const puts = [put('a', { n: 1 }), put('b', { n: 2 }, 'notes')];
      const outcome = await store.integrate('s1', [key('a'), key('b', 'notes')], putPlan(puts, 1));
      expect(outcome.result).toBe('c1@1');
      const history = await store.readHistory(0, 10);
      expect(history.map((h) => [h.collection, h.id, h.after])).toEqual([
        ['items', 'a', { _id: 'a', n: 1 }],
        ['notes', 'b', { _id: 'b', n: 2 }],
      ]);
      expect(outcome.serverVersion).toBe(history[1]?.version);
      await expectDocumentsAtVersions(store, history);
      const [session] = await store.getSessions(['s1']);
      expect(session).toMatchObject({ lastIntegratedClientVersion: 1, lastSyncedAt: T1 });
    });

    it('round-trips document state and history entries exactly', async () => {
      const { store } = get();
      await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1, tags: ['x'] })], 1, T2));
      const [doc] = await store.getDocuments([key('a')]);
      expect(doc?.state).toEqual(stateOf({ n: 1, tags: ['x'] }));
      expect(doc?.doc).toEqual({ _id: 'a', n: 1, tags: ['x'] });
      const [entry] = await store.readHistory(0, 10);
      expect(entry).toEqual({
        version: doc?.version,
        ...key('a'),
        clientId: 'c1',
        clientVersion: 1,
        before: null,
        after: { _id: 'a', n: 1, tags: ['x'] },
        committedAt: T2,
      });
    });

    it('shows the plan the session and only the named documents that exist', async () => {
      const { store } = get();
      await store.integrate(
        's1',
        [key('a'), key('b')],
        putPlan([put('a', { n: 1 }), put('b', { n: 2 })]),
      );
      const { result: seen } = await store.integrate('s1', [key('a'), key('missing')], viewPlan(2));
      expect(seen.session).toMatchObject({ id: 's1', lastIntegratedClientVersion: 1 });
      expect(seen.documents.map(([k]) => k)).toEqual([documentKey(key('a'))]);
      expect(seen.documents[0]?.[1].doc).toEqual({ _id: 'a', n: 1 });
    });

    it('keeps a deleted document (doc null) with its state and a new version', async () => {
      const { store } = get();
      await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1 })], 1));
      const outcome = await store.integrate('s1', [key('a')], putPlan([put('a', null)], 2));
      const [doc] = await store.getDocuments([key('a')]);
      expect(doc).toEqual({
        ...key('a'),
        state: stateOf(null),
        doc: null,
        version: outcome.serverVersion,
      });
      const history = await store.readHistory(0, 10);
      expect(history[1]).toMatchObject({ before: { _id: 'a', n: 1 }, after: null });
    });

    it('answers the latest version when the plan writes no history', async () => {
      const { store } = get();
      const first = await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1 })], 1));
      const { serverVersion, result } = await store.integrate('s1', [key('a')], viewPlan(2));
      expect(serverVersion).toBe(first.serverVersion);
      expect(result.session.lastIntegratedClientVersion).toBe(1);
      expect((await store.getSessions(['s1']))[0]?.lastIntegratedClientVersion).toBe(2);
    });

    it('a plan that throws rejects with its error and writes nothing', async () => {
      const { store } = get();
      await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1 })], 1));
      const before = await snapshot(store, ['s1'], [key('a'), key('b')]);
      await expect(store.integrate('s1', [key('a')], failing('plan refused'))).rejects.toThrow(
        'plan refused',
      );
      expect(await snapshot(store, ['s1'], [key('a'), key('b')])).toEqual(before);
    });

    it('rejects for an unknown session and writes nothing', async () => {
      const { store } = get();
      const attempt = store.integrate('nope', [key('a')], putPlan([put('a', { n: 1 })]));
      await expect(attempt).rejects.toThrow();
      expect(await store.getDocuments([key('a')])).toEqual([undefined]);
      expect(await store.readHistory(0, 10)).toEqual([]);
      expect(await store.latestVersion()).toBe(0);
    });
  });
}

async function expectDocumentsAtVersions(store: SyncStore, history: HistoryEntry[]) {
  const docs = await store.getDocuments(history);
  docs.forEach((doc, i) => {
    expect(doc?.version).toBe(history[i]?.version);
    expect(doc?.doc).toEqual(history[i]?.after);
  });
}

async function snapshot(store: SyncStore, sessionIds: string[], keys: DocumentKey[]) {
  return {
    sessions: await store.getSessions(sessionIds),
    documents: await store.getDocuments(keys),
    history: await store.readHistory(0, 1000),
    latest: await store.latestVersion(),
  };
}

// ---- concurrency --------------------------------------------------------------------

type Settled<R> = { ok: true; value: IntegrationOutcome<R> } | { ok: false; error: unknown };

function settle<R>(promise: Promise<IntegrationOutcome<R>>): Promise<Settled<R>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

const failsAt = (i: number) => i % 7 === 3;

function concurrentIncrements(store: SyncStore, sessions: string[], count: number) {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const sid = sessions[i % sessions.length] ?? 's1';
      const plan = failsAt(i) ? failing(`plan ${i} failed`) : incrementPlan(`job${i}`);
      return settle(store.integrate(sid, [COUNTER], plan));
    }),
  );
}

function concurrencyTests(get: Get): void {
  describe('concurrent integrations', () => {
    const sessions = ['s1', 's2', 's3', 's4', 's5'];
    beforeEach(() =>
      openAll(
        get().store,
        sessions.map((s) => sessionRecord(s, `c-${s}`)),
      ),
    );

    it('each gets its own outcome; a failing plan affects only its own', async () => {
      const settled = await concurrentIncrements(get().store, sessions, 50);
      settled.forEach((s, i) => {
        if (failsAt(i))
          expect(s).toMatchObject({ ok: false, error: { message: `plan ${i} failed` } });
        else expect(s).toMatchObject({ ok: true, value: { result: { tag: `job${i}` } } });
      });
      const ok = settled.filter((s) => s.ok).length;
      const [counter] = await get().store.getDocuments([COUNTER]);
      expect(counter?.doc?.n).toBe(ok);
      expect(await get().store.readHistory(0, 1000)).toHaveLength(ok);
    });

    it('each plan sees the writes committed before it; versions follow commit order', async () => {
      const settled = await concurrentIncrements(get().store, sessions, 50);
      const outcomes = settled.flatMap((s) => (s.ok ? [s.value] : []));
      // The counter a plan saw is its position in commit order.
      const byCommit = [...outcomes].sort((a, b) => a.result.seen - b.result.seen);
      expect(byCommit.map((o) => o.result.seen)).toEqual(outcomes.map((_, i) => i));
      const versions = byCommit.map((o) => o.serverVersion);
      versions.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(versions[i] ?? Infinity));
      const history = await get().store.readHistory(0, 1000);
      expect(history.map((h) => h.version)).toEqual(versions);
      expect(history.map((h) => h.after?.n)).toEqual(byCommit.map((o) => o.result.seen + 1));
      expect(await get().store.latestVersion()).toBe(versions.at(-1));
    });

    it('session patches of concurrent integrations of one session all apply in order', async () => {
      const settled = await concurrentIncrements(get().store, ['s1'], 20);
      const ok = settled.filter((s) => s.ok).length;
      const [session] = await get().store.getSessions(['s1']);
      expect(session?.lastIntegratedClientVersion).toBe(ok);
      const history = await get().store.readHistory(0, 1000);
      expect(history.map((h) => h.clientVersion)).toEqual(history.map((_, i) => i + 1));
    });

    it('never reuses a version across successive groups', async () => {
      const okVersions = (settled: Settled<unknown>[]) =>
        settled.flatMap((s) => (s.ok ? [s.value.serverVersion] : []));
      const first = okVersions(await concurrentIncrements(get().store, sessions, 10));
      const second = okVersions(await concurrentIncrements(get().store, sessions, 10));
      expect(new Set([...first, ...second]).size).toBe(first.length + second.length);
      expect(Math.min(...second)).toBeGreaterThan(Math.max(...first));
    });
  });
}

// ---- reads --------------------------------------------------------------------------

function readTests(get: Get): void {
  describe('reads', () => {
    beforeEach(async () => {
      const { store } = get();
      await store.openSession(sessionRecord('s1', 'c1'));
      // Written out of id order; "d" ends deleted; "x" lives in another collection.
      const puts = [put('c', { n: 3 }), put('a', { n: 1 }), put('d', { n: 4 }), put('b', { n: 2 })];
      await store.integrate(
        's1',
        puts.map((p) => p.key),
        putPlan(puts, 1),
      );
      await store.integrate('s1', [key('d')], putPlan([put('d', null)], 2));
      await store.integrate('s1', [key('x', 'other')], putPlan([put('x', { n: 9 }, 'other')], 3));
    });

    it('latestVersion is the version of the newest history entry', async () => {
      const history = await get().store.readHistory(0, 100);
      expect(history).toHaveLength(6);
      expect(await get().store.latestVersion()).toBe(history.at(-1)?.version);
    });

    it('readHistory returns entries after a version, in version order, up to a limit', async () => {
      const { store } = get();
      const all = await store.readHistory(0, 100);
      const versions = all.map((h) => h.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(all.map((h) => h.id)).toEqual(['c', 'a', 'd', 'b', 'd', 'x']);
      expect(await store.readHistory(versions[1] ?? -1, 2)).toEqual(all.slice(2, 4));
      expect(await store.readHistory(versions[4] ?? -1, 10)).toEqual(all.slice(5));
      expect(await store.readHistory(versions[5] ?? -1, 10)).toEqual([]);
    });

    it('scanDocuments returns existing documents of the collection ordered by id', async () => {
      const ids = async (afterId: string, limit: number) =>
        (await get().store.scanDocuments('items', afterId, limit)).map((d) => d.id);
      expect(await ids('', 10)).toEqual(['a', 'b', 'c']);
      expect(await ids('a', 1)).toEqual(['b']);
      expect(await ids('b', 10)).toEqual(['c']);
      expect(await ids('c', 10)).toEqual([]);
      expect(await ids('', 2)).toEqual(['a', 'b']);
    });

    it('scanDocuments returns whole stored documents', async () => {
      const { store } = get();
      const [scanned] = await store.scanDocuments('other', '', 10);
      const [got] = await store.getDocuments([key('x', 'other')]);
      expect(scanned).toEqual(got);
      expect(scanned).toMatchObject({ ...key('x', 'other'), doc: { _id: 'x', n: 9 } });
    });

    /** The ids of the documents a scan by version returns, in its order. */
    const byVersion = async (
      collections: string[],
      after: number,
      upTo: number,
      limit: number,
    ): Promise<string[]> =>
      (await get().store.scanDocumentsByVersion(collections, after, upTo, limit)).map((d) => d.id);
    /** The version of the last history entry of each id. */
    const versions = async () => {
      const all = await get().store.readHistory(0, 100);
      return Object.fromEntries(all.map((h) => [h.id, h.version]));
    };

    it('scanDocumentsByVersion returns visible documents of the collections in version order', async () => {
      const latest = await get().store.latestVersion();
      // Written c, a, d, b: "d" was deleted afterwards, "x" is in "other".
      expect(await byVersion(['items'], 0, latest, 10)).toEqual(['c', 'a', 'b']);
      expect(await byVersion(['items', 'other'], 0, latest, 10)).toEqual(['c', 'a', 'b', 'x']);
      expect(await byVersion(['other'], 0, latest, 10)).toEqual(['x']);
      expect(await byVersion([], 0, latest, 10)).toEqual([]);
      expect(await byVersion(['nothing'], 0, latest, 10)).toEqual([]);
    });

    it('scanDocumentsByVersion keeps to (afterVersion, upToVersion] and the limit', async () => {
      const v = await versions();
      const both = ['items', 'other'];
      expect(await byVersion(both, v.a!, v.x!, 10)).toEqual(['b', 'x']);
      expect(await byVersion(both, v.a!, v.x! - 1, 10)).toEqual(['b']);
      expect(await byVersion(both, v.c!, v.b!, 10)).toEqual(['a', 'b']);
      expect(await byVersion(both, v.x!, v.x! + 5, 10)).toEqual([]);
      expect(await byVersion(both, 0, v.x!, 2)).toEqual(['c', 'a']);
      // The deleted "d" lies between "a" and "b": it does not count towards the limit.
      expect(await byVersion(both, v.a!, v.x!, 1)).toEqual(['b']);
      expect(await byVersion(both, 0, v.x!, 0)).toEqual([]);
    });

    it('scanDocumentsByVersion returns whole stored documents, at their latest version', async () => {
      const { store } = get();
      await store.integrate('s1', [key('c')], putPlan([put('c', { n: 30 })], 4));
      const latest = await store.latestVersion();
      const scanned = await store.scanDocumentsByVersion(['items', 'other'], 0, latest, 10);
      expect(scanned.map((d) => d.id)).toEqual(['a', 'b', 'x', 'c']);
      expect(scanned).toEqual(await store.getDocuments(scanned));
      expect(scanned.at(-1)).toMatchObject({ doc: { _id: 'c', n: 30 }, version: latest });
    });

    it('getDocuments answers in key order, undefined for missing keys', async () => {
      const docs = await get().store.getDocuments([
        key('b'),
        key('missing'),
        key('x'),
        key('x', 'other'),
        key('d'),
      ]);
      expect(docs.map((d) => d && [d.collection, d.id, d.doc])).toEqual([
        ['items', 'b', { _id: 'b', n: 2 }],
        undefined,
        undefined,
        ['other', 'x', { _id: 'x', n: 9 }],
        ['items', 'd', null],
      ]);
    });
  });
}

// ---- reads narrowed by a scope condition --------------------------------------------

/**
 * The scope's documents: the ones a condition must return (it may return more, never
 * fewer), and the ones both adapters leave out (a scalar of another value, or no value).
 */
const SCOPED: Record<string, JsonObject | null> = {
  mine: { ownerId: 'u1', n: 1, flag: true },
  theirs: { ownerId: 'u2', n: 2, flag: false },
  shared: { ownerId: ['u3', 'u1'], n: 3 },
  nested: { owner: { id: 'u1' }, n: 4 },
  inList: { owner: [{ id: 'u1' }], n: 5 },
  missing: { n: 6 },
  nullOwner: { ownerId: null, n: 7 },
  numberOwner: { ownerId: 1, n: 1 },
  objectOwner: { ownerId: { id: 'u1' } },
  gone: { ownerId: 'u1' },
  alsoMine: { ownerId: 'u1', n: 2.0, flag: true },
};

const OWNER_U1: ScopeCondition = { path: 'ownerId', in: ['u1'] };

function scopeReadTests(get: Get): void {
  describe('reads narrowed by a scope condition', () => {
    beforeEach(async () => {
      const { store } = get();
      await store.openSession(sessionRecord('s1', 'c1'));
      let version = 0;
      for (const [id, doc] of Object.entries(SCOPED)) {
        await store.integrate('s1', [key(id)], putPlan([put(id, doc)], ++version));
      }
      await store.integrate('s1', [key('gone')], putPlan([put('gone', null)], ++version));
      const other = put('o', { ownerId: 'u2' }, 'other');
      await store.integrate('s1', [other.key], putPlan([other], ++version));
    });

    const scan = async (where: ScopeCondition, limit = 100, collections = ['items']) => {
      const { store } = get();
      const latest = await store.latestVersion();
      const conditions = new Map([['items', where]]);
      return store.scanDocumentsByVersion(collections, 0, latest, limit, conditions);
    };
    const ids = async (where: ScopeCondition, limit?: number) =>
      (await scan(where, limit)).map((d) => d.id);
    /** Checks both before and after the store indexes the paths. */
    const indexedOrNot = async (check: () => Promise<void>) => {
      await check();
      await get().store.ensureScopeIndexes([
        { collection: null, path: 'ownerId' },
        { collection: 'items', path: 'owner.id' },
        { collection: 'items', path: 'n' },
      ]);
      await check();
    };
    const expectNarrowed = (got: string[], must: string[], mustNot: string[]) => {
      expect(got).toEqual(expect.arrayContaining(must));
      for (const id of mustNot) expect(got).not.toContain(id);
    };

    it('scanDocumentsByVersion returns every document meeting an equality, in version order', async () => {
      await indexedOrNot(async () => {
        const found = await scan(OWNER_U1);
        const versions = found.map((d) => d.version);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(found).toEqual(await get().store.getDocuments(found));
        const got = found.map((d) => d.id);
        expectNarrowed(got, ['mine', 'shared', 'alsoMine'], ['theirs', 'missing', 'nullOwner']);
        expectNarrowed(got, [], ['numberOwner', 'gone']);
      });
    });

    it('ANY reads everything visible, NONE nothing; collections without a condition are whole', async () => {
      const { store } = get();
      const latest = await store.latestVersion();
      const everything = await store.scanDocumentsByVersion(['items', 'other'], 0, latest, 100);
      const all = (where: ScopeCondition) =>
        store.scanDocumentsByVersion(
          ['items', 'other'],
          0,
          latest,
          100,
          new Map([['items', where]]),
        );
      expect(await all(ANY)).toEqual(everything);
      expect((await all(NONE)).map((d) => d.id)).toEqual(['o']);
    });

    it('numbers equal by value, booleans, $in lists, and, or', async () => {
      await indexedOrNot(async () => {
        expectNarrowed(await ids({ path: 'n', in: [2] }), ['theirs', 'alsoMine'], ['mine']);
        expectNarrowed(await ids({ path: 'flag', in: [true] }), ['mine'], ['missing']);
        const either = await ids({ path: 'n', in: [1, 3] });
        expectNarrowed(either, ['mine', 'shared', 'numberOwner'], ['theirs', 'missing']);
        const both = await ids({ and: [OWNER_U1, { path: 'n', in: [2] }] });
        expectNarrowed(both, ['alsoMine'], ['mine', 'theirs']);
        const or = await ids({ or: [OWNER_U1, { path: 'n', in: [6] }] });
        expectNarrowed(or, ['mine', 'shared', 'alsoMine', 'missing'], ['theirs', 'nullOwner']);
        expect(await ids({ path: 'ownerId', in: ['nobody'] })).not.toContain('mine');
      });
    });

    it('a dotted path meets a nested field and one inside a list', async () => {
      await indexedOrNot(async () => {
        expectNarrowed(await ids({ path: 'owner.id', in: ['u1'] }), ['nested', 'inList'], []);
      });
    });

    it('pages by version join up: the same documents, page after page', async () => {
      await indexedOrNot(async () => {
        const where = { or: [OWNER_U1, { path: 'n', in: [2, 5] }] };
        const whole = await ids(where);
        const paged: string[] = [];
        const { store } = get();
        const latest = await store.latestVersion();
        for (let after = 0; ;) {
          const page = await store.scanDocumentsByVersion(
            ['items'],
            after,
            latest,
            2,
            new Map([['items', where]]),
          );
          paged.push(...page.map((d) => d.id));
          if (page.length < 2) break;
          after = page.at(-1)!.version;
        }
        expect(paged).toEqual(whole);
        expect(await ids(where, 3)).toEqual(whole.slice(0, 3));
      });
    });

    it('scanDocuments with a condition: its documents in id order, after an id', async () => {
      await indexedOrNot(async () => {
        const { store } = get();
        const got = (await store.scanDocuments('items', '', 100, OWNER_U1)).map((d) => d.id);
        expect(got).toEqual([...got].sort());
        expectNarrowed(got, ['alsoMine', 'mine', 'shared'], ['theirs', 'missing', 'gone']);
        const after = (await store.scanDocuments('items', 'mine', 100, OWNER_U1)).map((d) => d.id);
        expect(after).toEqual(got.filter((id) => id > 'mine'));
        expect(await store.scanDocuments('items', '', 1, OWNER_U1)).toHaveLength(1);
        expect(await store.scanDocuments('items', '', 100, NONE)).toEqual([]);
      });
    });

    it('ensureScopeIndexes may be called again, on a store with documents or without', async () => {
      const { store } = get();
      const indexes = [{ collection: null, path: 'ownerId' }];
      await store.ensureScopeIndexes(indexes);
      await store.ensureScopeIndexes(indexes);
      await store.ensureScopeIndexes([]);
      expect(await ids(OWNER_U1)).toContain('mine');
    });
  });
}

// ---- compaction and expiry ----------------------------------------------------------

function maintenanceTests(get: Get): void {
  describe('compactHistory / expireSessions', () => {
    it('compactHistory deletes entries committed before the time, and versions are not reused', async () => {
      const { store } = get();
      await store.openSession(sessionRecord('s1', 'c1'));
      await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1 })], 1, T0));
      const kept = await store.integrate('s1', [key('b')], putPlan([put('b', { n: 2 })], 2, T2));
      expect(await store.compactHistory(T1)).toBe(1);
      expect((await store.readHistory(0, 10)).map((h) => h.id)).toEqual(['b']);
      expect(await store.compactHistory('9999-01-01T00:00:00.000Z')).toBe(1);
      expect(await store.latestVersion()).toBe(kept.serverVersion);
      const next = await store.integrate('s1', [key('c')], putPlan([put('c', { n: 3 })], 3));
      expect(next.serverVersion).toBeGreaterThan(kept.serverVersion);
    });

    it('expireSessions marks open sessions last synced before the time, once', async () => {
      const { store } = get();
      await openAll(store, [
        sessionRecord('old', 'c1', 'u1', { lastSyncedAt: T0 }),
        sessionRecord('recent', 'c2', 'u1', { lastSyncedAt: T2 }),
        sessionRecord('closed', 'c3', 'u1', { lastSyncedAt: T0, closed: true }),
        sessionRecord('reset', 'c4', 'u1', { lastSyncedAt: T0, resetRequired: true }),
      ]);
      expect(await store.expireSessions(T1)).toEqual(['old']);
      const flags = (await store.getSessions(['old', 'recent', 'closed'])).map(
        (s) => s?.resetRequired,
      );
      expect(flags).toEqual([true, false, false]);
      expect(await store.expireSessions(T1)).toEqual([]);
    });
  });
}

// ---- durability ---------------------------------------------------------------------

function durabilityTests(get: Get): void {
  describe('durability and close', () => {
    it('keeps acknowledged writes across close and reopen', async ({ skip }) => {
      const { store, reopen } = get();
      if (!reopen) return skip();
      await store.openSession(sessionRecord('s1', 'c1'));
      await store.updateSession('s1', {
        lastDownloadedServerVersion: 0,
        closed: true,
        queriesVersion: 2,
      });
      const outcome = await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1 })], 1));
      const before = await snapshot(store, ['s1'], [key('a')]);
      const reopened = await reopen();
      expect(await snapshot(reopened, ['s1'], [key('a')])).toEqual(before);
      expect(before.latest).toBe(outcome.serverVersion);
    });

    it('never reuses a version after compaction and reopen', async ({ skip }) => {
      const { store, reopen } = get();
      if (!reopen) return skip();
      await store.openSession(sessionRecord('s1', 'c1'));
      const old = await store.integrate('s1', [key('a')], putPlan([put('a', { n: 1 })], 1, T0));
      await store.compactHistory(T2);
      const reopened = await reopen();
      const next = await reopened.integrate('s1', [key('b')], putPlan([put('b', { n: 2 })], 2));
      expect(next.serverVersion).toBeGreaterThan(old.serverVersion);
    });

    it('close waits for integrations in flight', async () => {
      const { store, reopen } = get();
      await store.openSession(sessionRecord('s1', 'c1'));
      const pending = Array.from({ length: 5 }, (_, i) =>
        store.integrate('s1', [key(`k${i}`)], putPlan([put(`k${i}`, { i })], i + 1)),
      );
      const reopened = reopen ? await reopen() : (await store.close(), undefined);
      const outcomes = await Promise.all(pending);
      expect(outcomes.map((o) => o.result)).toEqual(['c1@1', 'c1@2', 'c1@3', 'c1@4', 'c1@5']);
      if (!reopened) return;
      const docs = await reopened.getDocuments(outcomes.map((_, i) => key(`k${i}`)));
      expect(docs.map((d) => d?.doc?.i)).toEqual([0, 1, 2, 3, 4]);
    });
  });
}
