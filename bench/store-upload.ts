/**
 * The SQLite store's upload path alone, without GraphQL or sockets: `clients` sessions each
 * integrate one changeset of `changes` inserts at a time, as fast as their commits come back
 * (group commit, real fsync), into a fresh file. `npx tsx bench/store-upload.ts [clients]
 * [changes] [seconds]`; prints changesets/s and changes/s, and the share of the time spent in
 * group commits. The ceiling the gateway's upload throughput can reach on this machine. The
 * file has the index a gateway with the default ownership rule keeps (`ownerId`).
 *
 * `--thread` (a fourth argument): on the writer thread, with the gateway's own upload plan
 * (sync/upload-plan.ts, under the default ownership rule): what that thread alone can make
 * durable, without GraphQL or sockets. CPU is then this process's, both threads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite/sqlite-store.js';
import { newSession } from '../src/sync/new-session.js';
import type { IntegrationPlan } from '../src/store/port.js';
import { OWNER_RULES } from '../src/sync/permissions.js';
import { rulesRef, uploadPlan } from '../src/sync/upload-plan.js';

const RULES = rulesRef({ default: OWNER_RULES, collections: {} });

/** The gateway's upload plan for changeset `version` of `changes` inserts by `userId`. */
function gatewayPlan(ids: string[], version: number, userId: string): IntegrationPlan<unknown> {
  const now = new Date();
  const timestamp = `${now.toISOString()}-0000`;
  const changes = ids.map((id) => ({
    collection: 'cars',
    id,
    op: 'INSERT' as const,
    document: { _id: id, make: 'Kia', n: version, ownerId: userId },
  }));
  const report = { latestClientVersion: version, pendingBytes: 0, now };
  return uploadPlan([{ clientVersion: version, timestamp, changes }], RULES, userId, report);
}

export interface StoreUploadResult {
  changesetsPerSec: number;
  changesPerSec: number;
  /** CPU time (user + system) of this process per changeset, in µs. */
  cpuPerChangeset: number;
}

/** A plan like an upload's: inserts the documents and records their history. */
function insertPlan(ids: string[], version: number, now: string): IntegrationPlan<null> {
  return (view) => ({
    session: {
      lastIntegratedClientVersion: version,
      latestClientVersion: version,
      uploadedBytes: version * 100,
      pendingBytes: 0,
      uploadBaselineBytes: 0,
      lastSyncedAt: now,
    },
    documents: ids.map((id) => ({
      collection: 'cars',
      id,
      state: {
        fields: { make: { v: 'Kia', s: now }, n: { v: version, s: now } },
        ins: now,
        del: null,
      },
      doc: { _id: id, make: 'Kia', n: version, ownerId: view.session.userId },
    })),
    history: ids.map((id) => ({
      collection: 'cars',
      id,
      clientId: view.session.clientId,
      clientVersion: version,
      before: null,
      after: { _id: id, make: 'Kia', n: version, ownerId: view.session.userId },
      committedAt: now,
    })),
    result: null,
  });
}

export async function storeUpload(
  clients: number,
  changes: number,
  seconds: number,
  options: SqliteStoreOptions = {},
): Promise<StoreUploadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sync-gw-store-upload-'));
  const store = new SqliteStore(join(dir, 'gateway.sqlite'), options);
  try {
    // As a gateway with the default ownership rule has (server/deployment.ts, ruleIndexes).
    await store.ensureScopeIndexes([{ collection: null, path: 'ownerId' }]);
    const now = new Date().toISOString();
    const sessions = await Promise.all(
      Array.from({ length: clients }, (_, i) =>
        store.openSession(newSession(`c${i}`, `u${i}`, [{ collection: 'cars', filter: {} }], now)),
      ),
    );
    let done = 0;
    let stop = false;
    const loop = async (sessionId: string, c: number) => {
      for (let v = 1; !stop; v++) {
        await store.getSessions([sessionId]);
        const ids = Array.from({ length: changes }, (_, j) => `c${c}-${v}-${j}`);
        const keys = ids.map((id) => ({ collection: 'cars', id }));
        const plan = options.writerThread ? gatewayPlan(ids, v, `u${c}`) : insertPlan(ids, v, now);
        await store.integrate(sessionId, keys, plan);
        done += 1;
      }
    };
    const start = performance.now();
    const cpu = process.cpuUsage();
    const loops = sessions.map((s, c) => loop(s.id, c));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stop = true;
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const counted = done;
    await Promise.all(loops);
    const changesetsPerSec = counted / (ms / 1000);
    const cpuPerChangeset = (used.user + used.system) / counted;
    return { changesetsPerSec, changesPerSec: changesetsPerSec * changes, cpuPerChangeset };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [clients = 50, changes = 1, seconds = 4] = process.argv.slice(2, 5).map(Number);
  const writerThread = process.argv[5] === '--thread';
  const r = await storeUpload(clients, changes, seconds, { writerThread });
  console.log(
    `store alone${writerThread ? ' (writer thread, upload plan)' : ''}: ${clients} clients x ${changes} changes: ${Math.round(r.changesetsPerSec)} changesets/s, ${Math.round(r.changesPerSec)} changes/s, CPU ${r.cpuPerChangeset.toFixed(1)} µs per changeset`,
  );
}
