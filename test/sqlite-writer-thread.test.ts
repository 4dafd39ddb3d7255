/**
 * The SQLite store with its writes on the writer thread (src/store/sqlite/writer-thread.ts):
 * the shared store contract runs in store-sqlite.test.ts; here, what is particular to the
 * thread: plans run there, built from their source; errors cross with their code and
 * field; a plan without a source fails alone; a thread that stops fails every call (reads
 * too, so `/ready` reports it), and the store still closes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.js';
import { sourcedPlan, type IntegrationPlan } from '../src/store/port.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Changeset } from '../src/sync/model.js';
import { rulesRef, uploadPlan } from '../src/sync/upload-plan.js';
import { sessionRecord } from './store-contract.js';
import { putPlan, putPlanOf, threadPlan } from './helpers/store-plans.js';

const OWNER_RULES = {
  default: { read: { ownerId: '%%user.id' }, write: { ownerId: '%%user.id' } },
  collections: {},
};
const NOW = new Date('2026-11-26T13:00:00.000Z');
const key = (id: string) => ({ collection: 'items', id });

/** A changeset inserting `id` for user u1 at `clientVersion`. */
const insert = (clientVersion: number, id: string): Changeset => ({
  clientVersion,
  timestamp: '2026-11-26T12:59:00.000Z-0000',
  changes: [{ collection: 'items', id, op: 'INSERT', document: { _id: id, ownerId: 'u1' } }],
});

const report = { latestClientVersion: null, pendingBytes: null, now: NOW };

let dir: string;
let store: SqliteStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'writer-thread-'));
  store = new SqliteStore(join(dir, 'sync.db'), { writerThread: true });
  await store.openSession(sessionRecord('s1', 'c1', 'u1'));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the SQLite writer thread', () => {
  it('runs plans on a thread of its own, built again from their source', async () => {
    const { result } = await store.integrate('s1', [], threadPlan(1));
    expect(result).not.toBe(threadId);
    expect((await store.getSessions(['s1']))[0]?.lastIntegratedClientVersion).toBe(1);
  });

  it("integrates an upload's plan there as on this thread: documents, history, session", async () => {
    const plan = uploadPlan([insert(1, 'a'), insert(2, 'b')], rulesRef(OWNER_RULES), 'u1', report);
    const outcome = await store.integrate('s1', [key('a'), key('b')], plan);
    expect(outcome.result).toEqual({
      lastIntegratedClientVersion: 2,
      compensatingWrites: [],
      changesIntegrated: 2,
    });
    const docs = await store.getDocuments([key('a'), key('b')]);
    expect(docs.map((d) => d?.doc)).toEqual([
      { _id: 'a', ownerId: 'u1' },
      { _id: 'b', ownerId: 'u1' },
    ]);
    expect((await store.readHistory(0, 10)).map((h) => h.version)).toEqual([1, 2]);
    expect(outcome.serverVersion).toBe(2);
  });

  it("a plan's SyncError reaches the caller with its code and field, and nothing is written", async () => {
    const gap = uploadPlan([insert(2, 'a')], rulesRef(OWNER_RULES), 'u1', report);
    const error = await store.integrate('s1', [key('a')], gap).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'changesets[0].clientVersion',
      message: 'changesets[0].clientVersion: is 2 but the next expected is 1',
    });
    expect(await store.getDocuments([key('a')])).toEqual([undefined]);
    expect(await store.latestVersion()).toBe(0);
  });

  it('a plan without a source fails alone, saying why; its group commits the others', async () => {
    const bare: IntegrationPlan<null> = () => {
      throw new Error('never run');
    };
    await store.openSession(sessionRecord('s2', 'c2', 'u1'));
    const [sourced, unsourced] = await Promise.allSettled([
      store.integrate('s1', [key('a')], putPlan([{ key: key('a'), doc: { _id: 'a' } }])),
      store.integrate('s2', [], bare),
    ]);
    expect(sourced).toMatchObject({ status: 'fulfilled', value: { serverVersion: 1 } });
    expect(unsourced).toMatchObject({
      status: 'rejected',
      reason: { message: 'the SQLite writer thread runs only plans that carry a source' },
    });
  });

  it('once the thread stops, every call fails with the reason, and the store still closes', async () => {
    const worker = (store as unknown as { writer: { thread: { worker: Worker } } }).writer.thread
      .worker;
    await worker.terminate();
    await expect(store.updateSession('s1', { queriesVersion: 1 })).rejects.toThrow(
      /the SQLite writer thread stopped/,
    );
    await expect(store.integrate('s1', [], threadPlan(1))).rejects.toThrow(
      /the SQLite writer thread stopped/,
    );
    await expect(store.latestVersion()).rejects.toThrow(/the SQLite writer thread stopped/);
    await store.close();
  });

  it('a plan whose arguments do not clone fails alone; the rest of its group commits', async () => {
    await store.openSession(sessionRecord('s2', 'c2', 'u1'));
    const good = putPlan([{ key: key('a'), doc: { _id: 'a' } }]);
    const puts = [{ key: key('b'), doc: { _id: 'b' } }];
    const uncloneable = sourcedPlan(
      import.meta.url,
      'none',
      // A function among the arguments: it cannot cross to the thread.
      (_callback: () => number) => putPlanOf(puts, 1, NOW.toISOString()),
      () => 0,
    );
    const [ok, refused] = await Promise.allSettled([
      store.integrate('s1', [key('a')], good),
      store.integrate('s2', [key('b')], uncloneable),
    ]);
    expect(ok).toMatchObject({ status: 'fulfilled', value: { serverVersion: 1 } });
    expect(refused).toMatchObject({ status: 'rejected', reason: { name: 'DataCloneError' } });
    expect(await store.getDocuments([key('a'), key('b')])).toMatchObject([{ id: 'a' }, undefined]);
  });

  it('closed as the last thing a program awaits, the store comes back and the program ends', async () => {
    const script = new URL('./fixtures/writer-thread/close-last.ts', import.meta.url).pathname;
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', script, join(dir, 'last.db')],
      {
        timeout: 20_000,
      },
    );
    expect(stdout.trim()).toBe('closed');
  });
});
