/**
 * The shared contract of the SDK's storage port (client/src/storage.ts): every storage
 * (memory, file, SQLite, IndexedDB) runs this same suite, through the `Storage` interface.
 *
 *   storageContract('sqlite file', async () => ({ storage, another, close, cleanup, ... }));
 *
 * `another` opens a second instance on the same data while the first stays open, so what it
 * reads was stored by the time the commit's promise resolved (not flushed by a close).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  emptyMeta,
  type Storage,
  type StorageCommit,
  type StoredChangeset,
  type StoredDoc,
  type StoredState,
  type SyncMeta,
} from '../client/src/storage.js';

export interface StorageUnderTest {
  storage: Storage;
  /** Another instance on the same data (the same one for a storage that keeps nothing). */
  another: () => Promise<Storage>;
  /** Closes `storage`, so that its commits fail; absent for storages that cannot be closed. */
  close?: () => Promise<void>;
  /** Whether a value neither JSON nor structured clone can hold fails the commit. */
  refusesUnstorable: boolean;
  /** Closes whatever is open (tolerating closed ones) and removes the data. */
  cleanup: () => Promise<void>;
}

export type OpenStorage = () => Promise<StorageUnderTest>;

// ---- fixtures -----------------------------------------------------------------------

export const meta = (extra: Partial<SyncMeta> = {}): SyncMeta => ({
  ...emptyMeta('client-1'),
  ...extra,
});

export function doc(
  id: string,
  gen = 1,
  fields: Record<string, unknown> = {},
): [string, StoredDoc] {
  return [`cars/${id}`, { doc: { _id: id, make: 'Kia', ...fields }, gen }];
}

export function changeset(version: number, acknowledgedAt: number | null = null): StoredChangeset {
  const id = `c${version}`;
  return {
    clientVersion: version,
    timestamp: `2026-11-26T12:00:00.000Z-${String(version).padStart(4, '0')}|client-1`,
    changes: [{ collection: 'cars', id, op: 'INSERT', document: { _id: id, n: version } }],
    acknowledgedAt,
  };
}

/** Every JSON shape a document may have, and keys with slashes and non-ASCII in them. */
const VARIED: [string, StoredDoc] = [
  'cars/a/b ü',
  {
    doc: {
      _id: 'a/b ü',
      text: 'naïve ☃ "quoted" \\ \n',
      numbers: [0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER],
      flags: [true, false, null],
      nested: { deep: { deeper: [{ x: 1 }, []] }, empty: {} },
    },
    gen: 7,
  },
];

/** A value JSON refuses (its toJSON throws) and structured clone refuses (a function). */
const UNSTORABLE = {
  toJSON() {
    throw new Error('cannot be stored');
  },
};

/** A state in one canonical order: documents by key (their order is not part of the contract). */
function canonical(state: StoredState | null) {
  if (!state) return state;
  const docs = [...state.docs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { ...state, docs };
}

async function loaded(storage: Storage) {
  return canonical(await storage.load());
}

function expected(
  m: SyncMeta,
  docs: [string, StoredDoc][],
  changesets: StoredChangeset[],
): ReturnType<typeof canonical> {
  return canonical({ meta: m, docs, changesets });
}

// ---- the suite ------------------------------------------------------------------------

type Get = () => StorageUnderTest;

export function storageContract(name: string, open: OpenStorage): void {
  describe(`Storage contract: ${name}`, () => {
    let current: StorageUnderTest | undefined;
    const get: Get = () => {
      if (!current) throw new Error('storage not open');
      return current;
    };
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });
    loadTests(get);
    commitTests(get);
    durabilityTests(get);
    failureTests(get);
  });
}

function loadTests(get: Get): void {
  describe('load', () => {
    it('is null before the first commit', async () => {
      expect(await get().storage.load()).toBeNull();
    });

    it('gives a meta-only commit back with no documents and no changesets', async () => {
      const { storage } = get();
      await storage.commit({ meta: meta() });
      expect(await storage.load()).toEqual({ meta: meta(), docs: [], changesets: [] });
    });

    it('gives documents back with their gen, whatever JSON they hold', async () => {
      const { storage } = get();
      const docs = [doc('c1', 1), doc('c2', 3), doc('c3', 0), VARIED];
      await storage.commit({ meta: meta({ generation: 3 }), putDocs: docs });
      expect(await loaded(storage)).toEqual(expected(meta({ generation: 3 }), docs, []));
    });

    it('gives changesets back sorted by client version (as numbers)', async () => {
      const { storage } = get();
      const put = [changeset(10), changeset(2), changeset(1, 5)];
      await storage.commit({ meta: meta(), putChangesets: put });
      await storage.commit({ meta: meta(), putChangesets: [changeset(9)] });
      const versions = (await storage.load())!.changesets.map((cs) => cs.clientVersion);
      expect(versions).toEqual([1, 2, 9, 10]);
      expect((await storage.load())!.changesets[0]).toEqual(changeset(1, 5));
    });
  });
}

function commitTests(get: Get): void {
  describe('commit', () => {
    it('puts and deletes documents and changesets, and replaces meta whole', async () => {
      const { storage } = get();
      const refused = [{ changeset: changeset(1), code: 'C', message: 'm', field: null, at: 'x' }];
      await storage.commit({
        meta: meta({ clientVersion: 2, refused, paused: ['UPLOAD'] }),
        putDocs: [doc('c1'), doc('c2'), doc('c3')],
        putChangesets: [changeset(1), changeset(2)],
      });
      const next = meta({ clientVersion: 3, serverVersion: 8, lastTimestamp: 't' });
      await storage.commit({
        meta: next,
        putDocs: [doc('c1', 2, { make: 'Volvo' })],
        deleteDocs: ['cars/c2', 'cars/never-stored'],
        putChangesets: [changeset(2, 8), changeset(3)],
        deleteChangesets: [1, 99],
      });
      const docs = [doc('c1', 2, { make: 'Volvo' }), doc('c3')];
      expect(await loaded(storage)).toEqual(expected(next, docs, [changeset(2, 8), changeset(3)]));
    });

    it('applies commits in call order, without waiting for one before the next', async () => {
      const { storage } = get();
      const commits: StorageCommit[] = Array.from({ length: 30 }, (_, i) => ({
        meta: meta({ clientVersion: i }),
        putDocs: i % 3 === 1 ? [] : [doc('c1', i)],
        deleteDocs: i % 3 === 1 ? ['cars/c1'] : [],
        putChangesets: [changeset(i + 1)],
        deleteChangesets: i > 0 ? [i] : [],
      }));
      await Promise.all(commits.map((c) => storage.commit(c)));
      // The last commit (i = 29) put c1 at gen 29 and left changeset 30 only.
      expect(await loaded(storage)).toEqual(
        expected(meta({ clientVersion: 29 }), [doc('c1', 29)], [changeset(30)]),
      );
    });

    it('applies a commit’s deletes before its puts (as applyCommit does)', async () => {
      const { storage } = get();
      await storage.commit({ meta: meta(), putDocs: [doc('c1')], putChangesets: [changeset(1)] });
      await storage.commit({
        meta: meta(),
        deleteDocs: ['cars/c1'],
        putDocs: [doc('c1', 2)],
        deleteChangesets: [1],
        putChangesets: [changeset(1, 4)],
      });
      expect(await loaded(storage)).toEqual(expected(meta(), [doc('c1', 2)], [changeset(1, 4)]));
    });

    it('keeps no reference to what it was given: later changes to the objects do not reach it', async () => {
      const { storage } = get();
      const cs = changeset(1);
      const m = meta({ clientVersion: 1 });
      await storage.commit({ meta: m, putChangesets: [cs] });
      cs.acknowledgedAt = 3;
      m.clientVersion = 5;
      expect(await loaded(storage)).toEqual(
        expected(meta({ clientVersion: 1 }), [], [changeset(1)]),
      );
    });
  });
}

function durabilityTests(get: Get): void {
  describe('durability', () => {
    it('a commit is stored once its promise resolves: another instance reads it', async () => {
      const { storage, another } = get();
      await storage.commit({ meta: meta(), putDocs: [doc('c1')], putChangesets: [changeset(1)] });
      await storage.commit({ meta: meta({ clientVersion: 1 }), putDocs: [doc('c2', 2)] });
      const state = expected(meta({ clientVersion: 1 }), [doc('c1'), doc('c2', 2)], [changeset(1)]);
      expect(await loaded(await another())).toEqual(state);
    });
  });
}

function failureTests(get: Get): void {
  describe('a failing commit', () => {
    const before = () =>
      expected(meta({ clientVersion: 1 }), [doc('c1'), doc('c2')], [changeset(1)]);
    const seed = (storage: Storage) =>
      storage.commit({
        meta: meta({ clientVersion: 1 }),
        putDocs: [doc('c1'), doc('c2')],
        putChangesets: [changeset(1)],
      });
    /** A commit touching every table, so that a partial write would show. */
    const full = (extra: Partial<StorageCommit> = {}): StorageCommit => ({
      meta: meta({ clientVersion: 2 }),
      deleteDocs: ['cars/c1'],
      putDocs: [doc('c3')],
      deleteChangesets: [1],
      putChangesets: [changeset(2)],
      ...extra,
    });

    it('is refused once the storage is closed, and the state stays as it was', async (t) => {
      const { storage, another, close } = get();
      if (!close) return t.skip();
      await seed(storage);
      await close();
      await expect(storage.commit(full())).rejects.toThrow();
      expect(await loaded(await another())).toEqual(before());
    });

    it.for([
      ['a document', { putDocs: [doc('c3'), doc('c4', 1, { bad: UNSTORABLE })] }],
      ['a changeset', { putChangesets: [changeset(2), { ...changeset(3), bad: UNSTORABLE }] }],
      ['the meta', { meta: { ...meta({ clientVersion: 2 }), bad: UNSTORABLE } }],
    ] as const)(
      'with a value that cannot be stored in %s is refused whole',
      async ([, extra], t) => {
        const { storage, another, refusesUnstorable } = get();
        if (!refusesUnstorable) return t.skip();
        await seed(storage);
        await expect(storage.commit(full(extra as Partial<StorageCommit>))).rejects.toThrow();
        expect(await loaded(storage)).toEqual(before());
        expect(await loaded(await another())).toEqual(before());
      },
    );
  });
}
