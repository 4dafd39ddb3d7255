/**
 * A process that writes through the SQLite store as fast as it can, with checkpoints as
 * frequent as they get (the writer's threshold at 64 pages, the checkpointer 2 ms after
 * each write), so that a SIGKILL lands in every phase: a commit, a checkpoint on either
 * thread, a WAL starting over. Prints `ack <clientVersion>` once each changeset is
 * acknowledged. `npx tsx test/helpers/checkpoint-crash-child.ts <file>`; the session of
 * client `c1` is opened, or found if the file has it.
 */
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newSession } from '../../src/sync/new-session.js';
import { paddedPuts, putPlan, type Put } from './store-plans.js';

/** The documents of changeset `v`: `count` of about 1 KB each, ids `v<v>-<i>`. */
export const crashPuts = (v: number, count: number): Put[] => paddedPuts(`v${v}`, count, 1000);

export const CRASH_CHANGESET_SIZE = 8;

async function main(file: string): Promise<void> {
  const store = new SqliteStore(file, {
    writerThread: true,
    checkpoints: { writerPages: 64, delayMs: 2 },
    onError: (error) => console.error(`checkpointer: ${error.message}`),
  });
  const queries = [{ collection: 'items', filter: {} }];
  const now = new Date().toISOString();
  const session = await store.openSession(newSession('c1', 'u1', queries, now));
  for (let v = session.lastIntegratedClientVersion + 1; ; v++) {
    const puts = crashPuts(v, CRASH_CHANGESET_SIZE);
    const keys = puts.map((p) => p.key);
    await store.integrate(session.id, keys, putPlan(puts, v));
    process.stdout.write(`ack ${v}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv[2]!);
